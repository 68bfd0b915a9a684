"""Title detail, poster, rating and My List actions, and the player (thin views).

Every view starts from `selectors.title_get_for_profile` (unknown, unpublished or too mature
for the active profile is a 404) and writes only through `catalog.services`.
"""

import mimetypes
import re

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import (
    FileResponse,
    Http404,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotFound,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.access import locked_member_refusal
from accounts.models import Profile
from common.decorators import profile_required
from common.http import svg_response
from common.ids import parse_id, parse_ids
from common.sudo import is_kids_session
from privacy import consent

from . import artwork, selectors, services, shelves, signals
from .models import Collection, Episode, Genre, Person, RatingValue, Tag, Title

POSTER_MAX_AGE = 7 * 24 * 3600
# The end of an episode counts down this long (cancellable) before the next one plays.
NEXT_EPISODE_COUNTDOWN_SECONDS = 10
# Longest duration a heartbeat may claim (a very long film or a special), in seconds.
MAX_DURATION_SECONDS = 12 * 3600
# Watching together (`?together=<ids>`, from recommendations' "For all of you" row): at most this
# many profiles in one viewing, the active one included (ids as common.ids.parse_id reads them).
MAX_WATCHING_TOGETHER = 5
# The home's row keys (catalog.shelves, recommendations.personal_rows and .together), which the
# title cards carry as `?row=` for click-through counts. A GET must not write what a link can
# forge: a click is counted only under a key of these shapes, and a key that names a genre,
# collection, tag, person or title only when that exists (insights would otherwise rank rows
# that were never shown, named by whoever crafted the link).
FIXED_ROW_KEYS = frozenset(
    {"top-picks", "continue-watching", "my-list", "new-arrivals", "trending", "top-10", "together"}
)
_ROW_KEY_REFS = (
    # (prefix, the model its rest names, by slug or by id); longer prefixes first.
    ("genre-for-you-", Genre, "slug"),
    ("genre-", Genre, "slug"),
    ("collection-", Collection, "slug"),
    ("searched-genre-", Genre, "slug"),
    ("searched-tag-", Tag, "slug"),
    ("searched-person-", Person, "slug"),
    ("because-", Title, "pk"),
)
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
# It writes the other profiles' viewing history: a grown-up's session starts it (and may pick the kid).
KIDS_TOGETHER_REFUSED = "A kids profile cannot watch on behalf of other profiles."


def _row_key_known(key: str) -> bool:
    """True when `key` is a row the home could have shown (see FIXED_ROW_KEYS). At most one query."""
    if key in FIXED_ROW_KEYS:
        return True
    for prefix, model, field in _ROW_KEY_REFS:
        if not key.startswith(prefix):
            continue
        rest = key.removeprefix(prefix)
        if field == "pk":
            ref = parse_id(rest)
            return ref is not None and model.objects.filter(pk=ref).exists()
        # "genre-for-you-x" is also "genre-" of a genre slugged "for-you-x": both are asked.
        slugs = {rest} | ({key.removeprefix("genre-")} if prefix == "genre-for-you-" else set())
        return bool(_SLUG.fullmatch(rest)) and model.objects.filter(slug__in=slugs).exists()
    return False


def _safe_next(request, fallback: str) -> str:
    """Where a plain form post returns: `next`, else the referer, if on this host; else fallback."""
    for candidate in (request.POST.get("next"), request.headers.get("referer")):
        # A path or a URL only: redirect() takes a bare word ("²", "home") for a view name to
        # reverse, and a name that is no view is a NoReverseMatch (a 500).
        if (
            candidate
            and candidate.startswith(("/", "http://", "https://"))
            and url_has_allowed_host_and_scheme(
                candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            )
        ):
            return candidate
    return fallback


@require_GET
def title_poster(request, slug, variant=None):
    """The uploaded artwork if any, else a generated SVG. Visibility as the detail page.

    `variant` (from /title/<slug>/poster/<variant>.svg) asks for one generated artwork variant
    (catalog.posters.VARIANTS; the bandit in recommendations.artwork picks one per profile),
    each its own bytes and ETag; an unknown one is a 404 that says why. An uploaded artwork
    wins in every variant: cards load titles without the artwork field, so the bandit's URL
    may name a variant of a title that has one. Staff see every title's poster: the admin and
    the "preview home as profile" page show titles beyond the staff member's own profile limit.
    """
    if variant is not None and not artwork.is_variant(variant):
        return HttpResponseNotFound(
            f"Unknown artwork variant. Known variants: {', '.join(artwork.VARIANTS)}.", content_type="text/plain"
        )
    if request.user.is_active and request.user.is_staff:
        title = get_object_or_404(Title, slug=slug)
    else:
        title = selectors.title_get_for_profile(profile=getattr(request, "profile", None), slug=slug)
    if title.artwork:
        try:
            handle = title.artwork.open("rb")
        except OSError:
            handle = None  # a missing file falls back to the generated poster
        if handle is not None:
            content_type = mimetypes.guess_type(title.artwork.name)[0] or "application/octet-stream"
            response = FileResponse(handle, content_type=content_type)
            patch_cache_control(response, private=True, max_age=POSTER_MAX_AGE)
            return response
    svg = artwork.title_artwork_svg(title, variant or artwork.DEFAULT_VARIANT)
    return svg_response(request, svg, max_age=POSTER_MAX_AGE)


@require_GET
@profile_required
def title_detail(request, slug):
    profile = request.profile
    title = selectors.title_get_for_profile(profile=profile, slug=slug)
    detail = selectors.title_detail_extras(profile=profile, title=title)
    if request.GET.get("from") == "search":
        # Opened from search results: a weak taste signal, kept only with search-history consent.
        services.search_click_record(profile=profile, title=title)
    row_key = request.GET.get("row", "")
    if row_key and len(row_key) <= 80 and _row_key_known(row_key):
        signals.title_opened_from_row.send(
            sender=Title, profile=profile, title=title, row_key=row_key, artwork=request.GET.get("art", "")[:20]
        )
    return render(request, "catalog/title_detail.html", {"title": title, **detail})


@profile_required
@require_GET
def title_preview(request, slug):
    """A home card's preview (htmx loads it on the card's first hover or focus): Play, My List,
    thumbs and "Not for me", with the profile's current state."""
    profile = request.profile
    title = selectors.title_get_for_profile(profile=profile, slug=slug)
    state = selectors.card_preview_state(profile=profile, title=title)
    row_key = request.GET.get("row", "")
    context = {"title": title, "row_key": row_key if _row_key_known(row_key) else "", **state}
    return render(request, "catalog/_card_preview.html", context)


@profile_required
@require_POST
def title_rate(request, slug):
    profile = request.profile
    title = selectors.title_get_for_profile(profile=profile, slug=slug)
    value = request.POST.get("value", "")
    if value == "clear":
        services.rating_delete(profile=profile, title=title)
        rating, note = "", f"Rating removed from {title.name}."
    elif value in RatingValue.values:
        services.rating_set(profile=profile, title=title, value=value)
        rating, note = value, f"Rated {title.name}: {RatingValue(value).label}"
    else:
        return _button_refused(
            request,
            title,
            "Rating must be down, up, love or clear.",
            "That is not a rating we know; nothing was changed.",
        )
    return _button_done(request, title, "catalog/_rate_buttons.html", {"rating": rating}, note)


# A title's two-way actions: the posted "action" -> (service, the state after it, the message).
LIST_ACTIONS = {
    "add": (services.list_add, True, "Added {name} to My List."),
    "remove": (services.list_remove, False, "Removed {name} from My List."),
}
HIDE_ACTIONS = {
    "hide": (services.title_hide, True, "{name} won't be recommended to you. You can undo this on Your ratings."),
    "unhide": (services.title_unhide, False, "{name} can be recommended to you again."),
}


def _toggle(request, slug, actions: dict):
    """Run the posted action on a title the profile may see: (title, state, note), or None."""
    title = selectors.title_get_for_profile(profile=request.profile, slug=slug)
    action = actions.get(request.POST.get("action", ""))
    if action is None:
        return title, None, None
    service, state, note = action
    service(profile=request.profile, title=title)
    return title, state, note.format(name=title.name)


@profile_required
@require_POST
def title_list(request, slug):
    title, in_list, note = _toggle(request, slug, LIST_ACTIONS)
    if note is None:
        return _button_refused(
            request, title, "Action must be add or remove.", "Unknown My List action; nothing was changed."
        )
    if request.htmx and request.POST.get("place") == "my-list" and not in_list:
        # On the My List page the card goes (htmx replaces it with nothing) and the count
        # follows (an out-of-band swap): no reload.
        count = selectors.list_entries_for_profile(request.profile).count()
        return render(request, "catalog/_my_list_count.html", {"count": count, "oob": True})
    return _button_done(request, title, "catalog/_list_button.html", {"in_list": in_list}, note)


@profile_required
@require_POST
def title_hide(request, slug):
    """ "Not for me" (or its undo), from a card (which becomes a note with an undo) or the title page."""
    title, hidden, note = _toggle(request, slug, HIDE_ACTIONS)
    if note is None:
        return _button_refused(request, title, "Action must be hide or unhide.", "Unknown action; nothing was changed.")
    place = "card" if request.POST.get("place") == "card" else "page"
    if place == "card":
        partial = "catalog/_hidden_card.html" if hidden else "catalog/_title_card.html"
    else:
        partial = "catalog/_hide_button.html"
    return _button_done(request, title, partial, {"hidden": hidden, "place": place}, note)


@profile_required
@require_POST
def title_exclude(request, slug):
    """ "Don't use this to recommend" on the profile's rating or viewing of a title (or its undo)."""
    profile = request.profile
    title = selectors.title_get_for_history(profile=profile, slug=slug)
    signal = request.POST.get("signal", "")
    exclude = request.POST.get("exclude", "")
    if signal not in ("rating", "viewing") or exclude not in ("1", "0"):
        return _button_refused(
            request, title, "signal must be rating or viewing, exclude 1 or 0.", "Unknown action; nothing was changed."
        )
    setter = services.rating_exclude_set if signal == "rating" else services.viewing_exclude_set
    if not setter(profile=profile, title=title, exclude=exclude == "1"):
        return _button_refused(
            request, title, f"You have no {signal} of this title.", f"You have no {signal} of {title.name}."
        )
    note = (
        f"Your {signal} of {title.name} is no longer used to recommend titles."
        if exclude == "1"
        else f"Your {signal} of {title.name} is used to recommend titles again."
    )
    return _button_done(
        request, title, "catalog/_exclude_button.html", {"signal": signal, "excluded": exclude == "1"}, note
    )


def _button_done(request, title, partial: str, state: dict, note: str):
    """After a rating or My List change: htmx gets the re-rendered button, a plain post goes back."""
    back = _safe_next(request, title.get_absolute_url())
    if request.htmx:
        return render(request, partial, {"title": title, "next": back, **state})
    messages.success(request, note)
    return redirect(back)


def _button_refused(request, title, reason: str, note: str):
    """Bad input to a button: 400 for htmx, a message and the way back for a plain post."""
    if request.htmx:
        return HttpResponseBadRequest(reason)
    messages.error(request, note)
    return redirect(_safe_next(request, title.get_absolute_url()))


def _watching_with(profile: Profile, title: Title, raw: str | None) -> list[Profile]:
    """The other profiles watching with `profile` (`together=<id>,<id>`), [] when none is named.

    ValueError (the reason) when malformed or more than MAX_WATCHING_TOGETHER in all; Http404 when
    an id is not a profile of this account, or the title is not visible to one of them (as the
    player is for a title the profile may not see).
    """
    pieces = [p.strip() for p in (raw or "").split(",") if p.strip()]
    if not pieces:
        return []
    parsed = parse_ids(pieces) if len(pieces) <= MAX_WATCHING_TOGETHER * 4 else None
    if parsed is None:
        raise ValueError("together must be profile ids separated by commas")
    ids = list(dict.fromkeys(p for p in parsed if p != profile.pk))
    if not ids or len(ids) > MAX_WATCHING_TOGETHER - 1:
        raise ValueError(f"together names 1 to {MAX_WATCHING_TOGETHER - 1} other profiles of this account")
    others = list(Profile.objects.filter(account_id=profile.account_id, pk__in=ids).order_by("created_at", "id"))
    if len(others) != len(ids):
        raise Http404("No such profile in this household.")
    # ONE query: the title through every member's visibility rule (maturity and blocks).
    shared = selectors.visible_titles(profile).filter(pk=title.pk)
    for other in others:
        shared = shared.filter(pk__in=selectors.visible_titles(other).values("pk"))
    if not shared.exists():
        raise Http404("This title is not available to everyone watching.")
    return others


@require_GET
@profile_required
def watch(request, slug):
    profile = request.profile
    title = selectors.title_get_for_profile(profile=profile, slug=slug)
    episode_param = request.GET.get("episode") or None  # "?episode=" means "where Play starts"
    # A number that names no episode is a 404 (below), anything else a 400.
    episode_id = parse_id(episode_param, out_of_range=0) if episode_param is not None else None
    if episode_param is not None and episode_id is None:
        return HttpResponseBadRequest("episode must be an episode id")
    try:
        together = _watching_with(profile, title, request.GET.get("together"))
    except ValueError as error:
        return HttpResponseBadRequest(str(error))
    if together and is_kids_session(request):
        return HttpResponseForbidden(KIDS_TOGETHER_REFUSED)
    if refusal := locked_member_refusal(request, together):
        return HttpResponseForbidden(refusal)
    state = selectors.player_state(profile=profile, title=title, episode_id=episode_id)
    row_key = request.GET.get("row", "")
    if row_key and len(row_key) <= 80 and _row_key_known(row_key):
        # A Continue watching card plays at once: that is its click-through (as title_detail's).
        signals.title_opened_from_row.send(
            sender=Title, profile=profile, title=title, row_key=row_key, artwork=request.GET.get("art", "")[:20]
        )
    history_on = consent.allows(profile.account_id, "viewing_history")
    context = {
        "title": title,
        **state,
        "history_on": history_on,
        "heartbeat_url": reverse("watch-heartbeat", kwargs={"slug": title.slug}),
        # Seconds the end of an episode counts down before the next one starts.
        "countdown_seconds": NEXT_EPISODE_COUNTDOWN_SECONDS,
        # The heartbeat carries these ids, so the viewing is recorded for each of them too.
        "together": together,
        "together_ids": ",".join(str(p.pk) for p in together),
    }
    return render(request, "catalog/player.html", context)


def _int_field(data, name: str) -> int | None:
    raw = (data.get(name) or "").strip()
    try:
        # Players report fractional seconds; whole seconds are what we keep.
        return int(float(raw)) if raw else None
    except (ValueError, OverflowError):
        return None


@profile_required
@require_POST
def watch_heartbeat(request, slug):
    profile = request.profile
    title = selectors.title_get_for_profile(profile=profile, slug=slug)
    position = _int_field(request.POST, "position_seconds")
    duration = _int_field(request.POST, "duration_seconds")
    if position is None or duration is None or position < 0 or not 0 < duration <= MAX_DURATION_SECONDS:
        return JsonResponse({"detail": "position_seconds >= 0 and 0 < duration_seconds required"}, status=400)
    episode_param = (request.POST.get("episode") or "").strip()
    try:
        episode = selectors.episode_for_viewing(
            title=title, episode_id=parse_id(episode_param, out_of_range=0), sent=bool(episode_param)
        )
    except ValidationError as error:
        return JsonResponse({"detail": error.messages[0]}, status=400)
    except Episode.DoesNotExist:
        raise Http404("No such episode of this title.") from None
    try:
        together = _watching_with(profile, title, request.POST.get("together"))
    except ValueError as error:
        return JsonResponse({"detail": str(error)}, status=400)
    if together and is_kids_session(request):
        return JsonResponse({"detail": KIDS_TOGETHER_REFUSED}, status=403)
    if refusal := locked_member_refusal(request, together):
        return JsonResponse({"detail": refusal}, status=403)
    # One viewing per profile watching, all or none; the consent gate inside viewing_record
    # decides (the same account for all of them).
    recorded = []
    with transaction.atomic():
        for member in (profile, *together):
            activity = services.viewing_record(
                profile=member, title=title, episode=episode, position_seconds=position, duration_seconds=duration
            )
            if activity is not None:
                recorded.append(member.pk)
    answer = {"recorded": profile.pk in recorded}
    if together:
        answer["recorded_for"] = recorded  # which of the profiles watching kept it
    return JsonResponse(answer)


@profile_required
@require_POST
def continue_watching_remove(request, slug):
    """ "Remove from row" on a Continue watching card (action=remove), or its undo (action=undo).

    Only the row forgets the title; the viewing history stays. A title the profile never
    watched is a 404 (another account's viewing is never touched: the active profile's is).
    """
    profile = request.profile
    title = selectors.title_get_for_history(profile=profile, slug=slug)
    action = request.POST.get("action", "")
    if action not in ("remove", "undo"):
        return _button_refused(request, title, "Action must be remove or undo.", "Unknown action; nothing was changed.")
    if not services.continue_watching_dismiss(profile=profile, title=title, dismiss=action == "remove"):
        raise Http404("You have not watched this title.")
    back = _safe_next(request, reverse("home"))
    if request.htmx:
        if action == "remove":
            return render(request, "catalog/_continue_removed.html", {"title": title, "next": back})
        # The card as the row shows it: its reason and progress come from the row itself.
        item = next((i for i in shelves.continue_watching_spec(profile).items if i[0] == title.pk), None)
        reason, progress = (item[1], item[2]) if item else ("", None)
        context = {"title": title, "reason": reason, "progress": progress, "row_key": "continue-watching"}
        return render(request, "catalog/_title_card.html", context)
    if action == "remove":
        messages.success(request, f"Removed {title.name} from Continue watching. Your viewing history keeps it.")
    else:
        messages.success(request, f"{title.name} is back in Continue watching.")
    return redirect(back)


@require_GET
@profile_required
def person_detail(request, slug):
    """A person's page: their titles the active profile may see (a person with none is a 404)."""
    page = selectors.person_page(profile=request.profile, slug=slug)
    person = page["person"]
    avatar = {
        "initials": selectors.person_initials(person.name),
        # A steady hue per person (the slug never changes), dark enough for white initials.
        "hue": sum(person.slug.encode()) * 37 % 360,
    }
    return render(request, "catalog/person.html", {**page, "avatar": avatar})
