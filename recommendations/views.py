"""Home, onboarding, "Why am I seeing this?" and Watching together. Thin: selectors/home/together
read, services write."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import locked_member_refusal
from accounts.models import Profile
from accounts.selectors import profiles_of
from catalog.models import Genre
from catalog.signals import rows_shown
from common.decorators import profile_required
from common.ids import parse_ids
from common.sudo import is_kids_session, kids_forbidden

from . import services, together
from .home import build_home, hero_for
from .selectors import onboarding_choices


@profile_required
def home(request):
    home = build_home(profile=request.profile)
    if home.needs_onboarding:
        return redirect("onboarding")
    rows_shown.send(sender=Profile, profile=request.profile, rows=home.rows)
    # Signed up with every box unticked: offer personalization (what it does, and a switch),
    # rather than a generic home with the privacy page as the only way forward.
    offer = home.extra.get("reason") == "consent" and not is_kids_session(request)
    context = {"home": home, "hero": hero_for(profile=request.profile, home=home), "offer_personalization": offer}
    return render(request, "home.html", context)


@profile_required
@kids_forbidden
@require_POST
def personalize(request):
    if request.POST.get("personalization") != "on":
        messages.info(request, "Personalization stays off. You can switch it on here or in your privacy settings.")
        return redirect("home")
    if services.personalization_turn_on(profile=request.profile):
        messages.success(request, "Personalized recommendations: on. Tell us a few titles you like to start.")
    # Home sends a profile with no taste yet to onboarding.
    return redirect("home")


@profile_required
@require_http_methods(["GET", "POST"])
def onboarding(request):
    profile = request.profile
    error = None
    picked: set[int] = set()
    picked_genres: set[str] = set()
    if request.method == "POST":
        if request.POST.get("action") == "skip":
            services.onboarding_skip(profile=profile)
            messages.info(request, "No problem: rate titles whenever you like and your home will follow.")
            return redirect("home")
        title_ids = parse_ids(request.POST.getlist("titles"))
        picked = set(title_ids or ())
        picked_genres = {g for g in request.POST.getlist("genres") if g}
        try:
            if title_ids is None:
                # Only a hand-made post gets here: the form's checkboxes carry title ids.
                raise ValidationError("One of the picks is not a title id; pick titles from the list.")
            count = services.onboarding_complete(
                profile=profile, title_ids=sorted(picked), genre_slugs=sorted(picked_genres)
            )
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            messages.success(request, f"Thanks! Your home is now picked from the {count} titles you like.")
            return redirect("home")
    context = {
        "titles": onboarding_choices(profile),
        "genres": Genre.objects.order_by("name"),
        "picked": picked,
        "picked_genres": picked_genres,
        "error": error,
        "min_titles": services.ONBOARDING_MIN_TITLES,
    }
    return render(request, "recommendations/onboarding.html", context, status=400 if error else 200)


@profile_required
def why(request, key: str):
    home = build_home(profile=request.profile)
    row = next((r for r in home.rows if r.key == key and r.why_url), None)
    if row is None:
        raise Http404("No such recommendation row on your home page.")
    summary = home.extra.get("summary", {})
    return render(request, "recommendations/why.html", {"row": row, "summary": summary, "home": home})


@profile_required
def together_page(request):
    """Pick 2-5 profiles of the household (the active one always among them), then their
    "For all of you" row. `?with=<id>,<id>` (or one `with` per ticked box) names the others."""
    profile = request.profile
    if is_kids_session(request):
        # Playing together writes every member's history: a grown-up starts it (and may pick the kid).
        return render(request, "recommendations/together.html", {"kids_refused": True}, status=403)
    context = {
        "me": profile,
        "household": profiles_of(account=request.user),
        "chosen": {profile.pk},
        "group": None,
        "error": None,
    }
    raw = request.GET.getlist("with")
    if not raw and "show" not in request.GET:  # first visit: only the form (`show` is its button)
        return render(request, "recommendations/together.html", context)
    try:
        other_ids = together.parse_with(raw, self_id=profile.pk)
    except together.GroupInvalid as error:
        context["error"] = str(error)
        return render(request, "recommendations/together.html", context, status=400)
    members = together.group_members(profile=profile, other_ids=other_ids)
    if refusal := locked_member_refusal(request, members[1:]):
        context["error"] = refusal
        return render(request, "recommendations/together.html", context, status=403)
    context.update(
        group=together.build_together(profiles=members),
        chosen={m.pk for m in members},
        member_ids=",".join(str(m.pk) for m in members),
    )
    return render(request, "recommendations/together.html", context)
