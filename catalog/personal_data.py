"""What the catalog holds about a person (engagement), registered with the privacy registry.

Called from CatalogConfig.ready(). Engagement hangs off profiles; every callback scopes by
`profile__account`, so one query per section covers every profile of the account.
"""

from datetime import timedelta

from django.conf import settings

from accounts.models import Profile
from accounts.services import profile_engagement_touch
from catalog import models
from catalog.services import search_history_delete, viewing_delete
from privacy import registry


def _iso(value):
    return value.isoformat() if value else None


def _ratings_export(account) -> list[dict]:
    qs = models.Rating.objects.filter(profile__account=account).select_related("title").order_by("profile_id", "id")
    return [
        {
            "profile_id": r.profile_id,
            "title_id": r.title_id,
            "title_external_id": r.title.external_id,
            "title": r.title.name,
            "value": r.value,
            "created_at": _iso(r.created_at),
            "updated_at": _iso(r.updated_at),
            "exclude_from_recommendations": r.exclude_from_recommendations,
        }
        for r in qs
    ]


def _viewing_export(account) -> list[dict]:
    qs = (
        models.ViewingActivity.objects.filter(profile__account=account)
        .select_related("title", "episode__season")
        .order_by("profile_id", "id")
    )
    return [
        {
            "profile_id": v.profile_id,
            "title_id": v.title_id,
            "title": v.title.name,
            "episode": f"S{v.episode.season.number}E{v.episode.number} {v.episode.name}" if v.episode else None,
            "position_seconds": v.position_seconds,
            "duration_seconds": v.duration_seconds,
            "completed": v.completed,
            "started_at": _iso(v.started_at),
            "last_watched_at": _iso(v.last_watched_at),
            "exclude_from_recommendations": v.exclude_from_recommendations,
            # When "Remove from row" last took the title off Continue watching (a later play
            # brings it back; None: never).
            "removed_from_continue_watching_at": _iso(v.dismissed_at),
        }
        for v in qs
    ]


def _title_set_export(model, when: str, as_name: str):
    """A profile title set's rows (My List, "Not for me", opened from search): title and when."""

    def export(account) -> list[dict]:
        qs = model.objects.filter(profile__account=account).select_related("title").order_by("profile_id", "id")
        return [
            {"profile_id": r.profile_id, "title_id": r.title_id, "title": r.title.name, as_name: _iso(getattr(r, when))}
            for r in qs
        ]

    return export


def _restrictions_export(account) -> list[dict]:
    qs = (
        models.BlockedTitle.objects.filter(profile__account=account)
        .select_related("title")
        .order_by("profile_id", "id")
    )
    return [
        {
            "profile_id": r.profile_id,
            "title_id": r.title_id,
            "title_external_id": r.title.external_id,
            "title": r.title.name,
            "created_at": _iso(r.created_at),
        }
        for r in qs
    ]


def _searches_export(account) -> list[dict]:
    qs = models.SearchQuery.objects.filter(profile__account=account).order_by("profile_id", "id")
    return [
        {"profile_id": s.profile_id, "query": s.query, "result_count": s.result_count, "created_at": _iso(s.created_at)}
        for s in qs
    ]


def _eraser(model_name: str):
    def erase(account) -> int:
        return getattr(models, model_name).objects.filter(profile__account=account).delete()[0]

    return erase


def _counter(model_name: str):
    def count(account) -> int:
        return getattr(models, model_name).objects.filter(profile__account=account).count()

    return count


def _viewing_delete_collected(account) -> int:
    # Through the single write point, so each profile's engagement stamp moves.

    return sum(viewing_delete(profile=p) for p in Profile.objects.filter(account=account))


def _searches_delete_collected(account) -> int:
    return sum(search_history_delete(profile=p) for p in Profile.objects.filter(account=account))


def _searches_purge(now) -> int:
    cutoff = now - timedelta(days=settings.SEARCH_RETENTION_DAYS)
    return models.SearchQuery.objects.filter(created_at__lt=cutoff).delete()[0]


def _search_clicks_purge(now) -> int:
    cutoff = now - timedelta(days=settings.SEARCH_RETENTION_DAYS)
    old = models.SearchClick.objects.filter(created_at__lt=cutoff)
    profile_ids = list(old.values_list("profile_id", flat=True).distinct())
    deleted = old.delete()[0]
    if profile_ids:  # they were taste signals: the recommender's cache must notice
        profile_engagement_touch(profile_ids=profile_ids)
    return deleted


def _viewing_purge(now) -> int:
    cutoff = now - timedelta(days=settings.VIEWING_RETENTION_DAYS)
    old = models.ViewingActivity.objects.filter(last_watched_at__lt=cutoff)
    profile_ids = list(old.values_list("profile_id", flat=True).distinct())
    deleted = old.delete()[0]
    # A bulk purge bypasses viewing_delete, so move the stamps here: the recommender's
    # per-profile cache must not keep folding in history that no longer exists.
    if profile_ids:
        profile_engagement_touch(profile_ids=profile_ids)
    return deleted


def _on_withdrawn(purpose: str, account_id: int) -> None:
    # Titles opened from search stop counting as taste the moment search history is withdrawn
    # (the readers check consent); move the stamps so no cached taste keeps them.
    if purpose == "search_history":
        profile_engagement_touch(profile_ids=Profile.objects.filter(account_id=account_id).values("pk"))


def register() -> None:
    sections = [
        ("ratings", "Ratings", "Thumbs you gave titles (not for me / like / love).", "Rating", _ratings_export, 20),
        (
            "viewing",
            "Viewing history",
            "What each profile watched and where it stopped.",
            "ViewingActivity",
            _viewing_export,
            30,
        ),
        (
            "list",
            "My List",
            "Titles each profile saved to My List.",
            "ListEntry",
            _title_set_export(models.ListEntry, "added_at", "added_at"),
            40,
        ),
        (
            "searches",
            "Search history",
            "What each profile searched for, and how many titles matched.",
            "SearchQuery",
            _searches_export,
            50,
        ),
        (
            "search_clicks",
            "Titles opened from search",
            "Titles each profile opened or played from search results (a weak taste signal).",
            "SearchClick",
            _title_set_export(models.SearchClick, "created_at", "opened_at"),
            52,
        ),
        (
            "hidden",
            "Not for me",
            "Titles each profile marked \u201cNot for me\u201d: kept out of its rows and suggestions.",
            "HiddenTitle",
            _title_set_export(models.HiddenTitle, "created_at", "hidden_at"),
            45,
        ),
        (
            "restrictions",
            "Viewing restrictions",
            "Titles the account holder blocked for each profile: invisible to that profile everywhere.",
            "BlockedTitle",
            _restrictions_export,
            47,
        ),
    ]
    for name, label, description, model_name, export, order in sections:
        registry.register_section(
            registry.Section(
                name=name,
                label=label,
                description=description,
                models=(f"catalog.{model_name}",),
                export=export,
                erase=_eraser(model_name),
                count=_counter(model_name),
                export_order=order,
                erase_order=500,
            )
        )
    registry.register_purpose_eraser(
        "viewing_history", "viewing", _viewing_delete_collected, _counter("ViewingActivity")
    )
    # Withdrawing search history takes the searches and the titles opened from them.
    registry.register_purpose_eraser(
        "search_history",
        "searches",
        _searches_delete_collected,
        lambda account: _counter("SearchQuery")(account) + _counter("SearchClick")(account),
    )
    registry.register_withdrawal_hook(_on_withdrawn)
    registry.register_retention("searches", _searches_purge)
    registry.register_retention("search_clicks", _search_clicks_purge)
    registry.register_retention("viewing", _viewing_purge)
