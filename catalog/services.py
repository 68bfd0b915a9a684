"""Catalog writes: the single write point of each kind of engagement, and curation.

Each engagement function asks the consent gate (where a purpose covers the signal) before writing, so
nothing is collected and filtered later, and moves the profile's engagement stamp so the
recommender's per-profile cache is refreshed on the next request.

Callers pass a title already fetched through a visibility-checking selector
(`catalog.selectors.title_get_for_profile`); these functions don't re-check maturity. The
viewing restrictions (`title_block`/`title_unblock`) are the exception: they take any title
(`catalog.selectors.title_get_for_restriction`), and their callers check the account password.
"""

from dataclasses import dataclass

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.utils import timezone

from accounts.models import Profile
from accounts.services import profile_engagement_touch
from privacy import consent

from .models import (
    BlockedTitle,
    Collection,
    CollectionItem,
    Episode,
    HiddenTitle,
    ListEntry,
    Rating,
    RatingValue,
    SearchClick,
    SearchQuery,
    Title,
    ViewingActivity,
)
from .search import normalize_query

# A viewing counts as finished once this share of it has been watched (credits roll).
COMPLETION_SHARE = 0.9


def _touch(profile: Profile) -> None:
    profile_engagement_touch(profile_ids=[profile.pk])
    profile.engagement_stamp += 1


@transaction.atomic
def rating_set(*, profile: Profile, title: Title, value: str) -> tuple[Rating, bool]:
    """Create or change the profile's rating of the title. Returns (rating, created)."""
    if value not in RatingValue.values:
        raise ValueError(f"rating must be one of {', '.join(RatingValue.values)}")
    now = timezone.now()
    rating, created = Rating.objects.update_or_create(
        profile=profile,
        title=title,
        defaults={"value": value, "updated_at": now},
        create_defaults={"value": value, "created_at": now, "updated_at": now},
    )
    _touch(profile)
    return rating, created


@transaction.atomic
def rating_delete(*, profile: Profile, title: Title) -> bool:
    deleted, _ = Rating.objects.filter(profile=profile, title=title).delete()
    if deleted:
        _touch(profile)
    return bool(deleted)


@transaction.atomic
def viewing_record(
    *,
    profile: Profile,
    title: Title,
    episode: Episode | None,
    position_seconds: int,
    duration_seconds: int,
) -> ViewingActivity | None:
    """Record a player heartbeat: one row per profile and title/episode, updated in place.

    Returns None, writing nothing, when the account has not consented to viewing history.
    """
    if episode is not None and episode.title_id != title.pk:
        raise ValueError("episode does not belong to this title")
    if duration_seconds <= 0 or position_seconds < 0:
        raise ValueError("position must be >= 0 and duration > 0")
    if not consent.allows(profile.account_id, "viewing_history"):
        return None
    position_seconds = min(position_seconds, duration_seconds)
    now = timezone.now()
    finished = position_seconds >= COMPLETION_SHARE * duration_seconds
    activity, created = ViewingActivity.objects.select_for_update().get_or_create(
        profile=profile,
        title=title,
        episode=episode,
        defaults={
            "position_seconds": position_seconds,
            "duration_seconds": duration_seconds,
            "completed": finished,
            "started_at": now,
            "last_watched_at": now,
        },
    )
    newly_finished = False
    if not created:
        newly_finished = finished and not activity.completed
        activity.position_seconds = position_seconds
        activity.duration_seconds = duration_seconds
        activity.completed = activity.completed or finished
        activity.last_watched_at = now
        activity.save(update_fields=["position_seconds", "duration_seconds", "completed", "last_watched_at"])
    # Heartbeats arrive every few seconds; only a new viewing or a finish changes taste.
    if created or newly_finished:
        _touch(profile)
    return activity


@transaction.atomic
def viewing_delete(*, profile: Profile, title: Title | None = None) -> int:
    """Remove the profile's viewing history for one title (all its episodes), or all of it."""
    qs = ViewingActivity.objects.filter(profile=profile)
    if title is not None:
        qs = qs.filter(title=title)
    deleted, _ = qs.delete()
    if deleted:
        _touch(profile)
    return deleted


def _set_add(model, *, profile: Profile, title: Title):
    """Put the title in one of the profile's title sets (My List, "Not for me")."""
    row, created = model.objects.get_or_create(profile=profile, title=title)
    if created:
        _touch(profile)
    return row, created


def _set_remove(model, *, profile: Profile, title: Title) -> bool:
    deleted, _ = model.objects.filter(profile=profile, title=title).delete()
    if deleted:
        _touch(profile)
    return bool(deleted)


@transaction.atomic
def list_add(*, profile: Profile, title: Title) -> tuple[ListEntry, bool]:
    return _set_add(ListEntry, profile=profile, title=title)


@transaction.atomic
def list_remove(*, profile: Profile, title: Title) -> bool:
    return _set_remove(ListEntry, profile=profile, title=title)


@transaction.atomic
def title_hide(*, profile: Profile, title: Title) -> tuple[HiddenTitle, bool]:
    """ "Not for me": the title leaves the profile's rows and suggestions and counts as a negative."""
    return _set_add(HiddenTitle, profile=profile, title=title)


@transaction.atomic
def title_unhide(*, profile: Profile, title: Title) -> bool:
    return _set_remove(HiddenTitle, profile=profile, title=title)


@transaction.atomic
def title_block(*, profile: Profile, title: Title) -> tuple[BlockedTitle, bool]:
    """Viewing restriction: the title becomes invisible to the profile everywhere. Returns
    (row, created); blocking twice changes nothing.

    An account-level action: the caller has checked the account password (common.sudo). The
    profile's rows, lists and history stay stored, only hidden, and come back on unblock. The
    engagement stamp moves so the recommender's cached taste (Taste.excluded) is rebuilt.
    """
    return _set_add(BlockedTitle, profile=profile, title=title)


@transaction.atomic
def title_unblock(*, profile: Profile, title: Title) -> bool:
    """Lift a viewing restriction; False when the title was not blocked. Account-level too."""
    return _set_remove(BlockedTitle, profile=profile, title=title)


@transaction.atomic
def rating_exclude_set(*, profile: Profile, title: Title, exclude: bool) -> bool:
    """ "Don't use this to recommend" on the profile's rating of the title (or undo it).

    Returns False when the profile has no rating of it. The rating stays in history and export.
    """
    changed = Rating.objects.filter(profile=profile, title=title).update(exclude_from_recommendations=exclude)
    if changed:
        _touch(profile)
    return bool(changed)


@transaction.atomic
def viewing_exclude_set(*, profile: Profile, title: Title, exclude: bool) -> bool:
    """ "Don't use this to recommend" on the profile's viewing of the title (every episode's row)."""
    changed = ViewingActivity.objects.filter(profile=profile, title=title).update(exclude_from_recommendations=exclude)
    if changed:
        _touch(profile)
    return bool(changed)


def continue_watching_dismiss(*, profile: Profile, title: Title, dismiss: bool = True) -> bool:
    """ "Remove from row" on Continue watching (or its undo): marks every viewing of the title.

    Only the row forgets it: the history, Resume and the recommender keep the viewings (so the
    engagement stamp does not move), and the next play, being newer than the mark, brings the
    title back (catalog.shelves.continue_watching_spec). False when the profile never watched it.
    """
    mark = timezone.now() if dismiss else None
    return bool(ViewingActivity.objects.filter(profile=profile, title=title).update(dismissed_at=mark))


def search_click_record(*, profile: Profile, title: Title) -> SearchClick | None:
    """A title opened or played from search results: kept (as a weak taste signal) only with
    search-history consent; without it nothing of the search is kept."""
    if not consent.allows(profile.account_id, "search_history"):
        return None
    with transaction.atomic():
        click, created = SearchClick.objects.update_or_create(
            profile=profile, title=title, defaults={"created_at": timezone.now()}
        )
        if created:
            _touch(profile)
    return click


def search_record(*, profile: Profile, query: str, result_count: int) -> SearchQuery | None:
    """Keep a search (for the profile's history and content-gap insights), if consented."""
    query = normalize_query(query)
    if not query or not consent.allows(profile.account_id, "search_history"):
        return None
    return SearchQuery.objects.create(profile=profile, query=query, result_count=result_count)


@transaction.atomic
def search_history_delete(*, profile: Profile) -> int:
    """The profile's searches and the titles it opened from them (those were taste signals)."""
    deleted, _ = SearchQuery.objects.filter(profile=profile).delete()
    clicks, _ = SearchClick.objects.filter(profile=profile).delete()
    if clicks:
        _touch(profile)
    return deleted + clicks


@dataclass
class CollectionAddResult:
    """What `collection_add_titles` did, for the curator's messages."""

    added: int
    skipped: int
    # Items in the collection afterwards, and the titles added that are unpublished (no row shows them).
    total: int
    unpublished: list[str]


@transaction.atomic
def collection_add_titles(*, collection: Collection, titles, at_start: bool = False) -> CollectionAddResult:
    """Add titles to a collection in the given order, skipping those already in it.

    At the end (after the last position), or at the start: the existing items keep their
    order after the new ones. Positions are renumbered 0, 1, 2... in display order, so the
    collection's page lists items exactly as its home row does.
    """
    # Lock the collection so two editors adding at once do not get the same positions.
    Collection.objects.select_for_update().filter(pk=collection.pk).first()
    existing = list(collection.items.order_by("position", "id"))
    present = {item.title_id for item in existing}
    new, skipped, unpublished = [], 0, []
    for title in titles:
        if title.pk in present:
            skipped += 1
            continue
        present.add(title.pk)
        new.append(CollectionItem(collection=collection, title=title))
        if not title.is_published:
            unpublished.append(str(title))
    ordered = new + existing if at_start else existing + new
    for position, item in enumerate(ordered):
        item.position = position
    CollectionItem.objects.bulk_create(new)
    changed = [item for item in existing if item.pk is not None]
    if changed:
        CollectionItem.objects.bulk_update(changed, ["position"])
    return CollectionAddResult(added=len(new), skipped=skipped, total=len(ordered), unpublished=unpublished)


@transaction.atomic
def titles_set_published(*, titles, published: bool, user, how: str = "with the bulk action") -> int:
    """Publish or unpublish titles, with an entry in each changed title's admin history
    (who and when: `django.contrib.admin` LogEntry, the title's History page). Titles already
    in that state are left alone and get no entry. Returns how many changed."""
    changed = list(Title.objects.filter(pk__in=[t.pk for t in titles]).exclude(is_published=published))
    if not changed:
        return 0
    Title.objects.filter(pk__in=[t.pk for t in changed]).update(is_published=published)
    # The History page shows the message as written, beside who and when.
    message = f"{'Published' if published else 'Unpublished'} {how}."
    LogEntry.objects.log_actions(user_id=user.pk, queryset=changed, action_flag=CHANGE, change_message=message)
    return len(changed)
