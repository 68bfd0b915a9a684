"""Reads of the insights app. They touch only precomputed tables (snapshot, TitleStats,
ImpressionDaily) and catalog metadata, never raw engagement rows."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q, Sum
from django.utils import timezone

from accounts.models import Profile
from catalog.models import Genre, Tag, Title
from common.ids import parse_id

from .models import ImpressionDaily, InsightsSnapshot, PreviewAudit, SnapshotStatus, TitleStats


def snapshot_latest(*, with_data: bool = True) -> InsightsSnapshot | None:
    qs = InsightsSnapshot.objects.filter(status=SnapshotStatus.READY).order_by("-finished_at", "-id")
    return (qs if with_data else qs.defer("data")).first()


def snapshot_active() -> InsightsSnapshot | None:
    """The queued or running aggregation, if any (without its data: it may be large)."""
    return (
        InsightsSnapshot.objects.filter(status__in=[SnapshotStatus.PENDING, SnapshotStatus.RUNNING])
        .defer("data")
        .order_by("-created_at")
        .first()
    )


def snapshot_ever() -> bool:
    """Whether any aggregation was ever requested (the first visit to the dashboard starts one)."""
    return InsightsSnapshot.objects.exists()


def snapshot_get(pk: int) -> InsightsSnapshot | None:
    return InsightsSnapshot.objects.filter(pk=pk).defer("data").first()


def snapshot_last_failed() -> InsightsSnapshot | None:
    return InsightsSnapshot.objects.filter(status=SnapshotStatus.FAILED).defer("data").order_by("-created_at").first()


def profiles_find(query: str, *, limit: int = 20) -> list[Profile]:
    """Profiles by id, by name or by account username (staff preview picker)."""
    # NUL cannot reach PostgreSQL (DataError) and names nothing anyway.
    query = (query or "").replace("\x00", "").strip()
    if not query:
        return []
    cond = Q(name__iexact=query) | Q(account__username__iexact=query)
    if (pk := parse_id(query)) is not None:
        cond |= Q(pk=pk)
    return list(Profile.objects.filter(cond).select_related("account").order_by("pk")[:limit])


def preview_audits(limit: int = 20):
    return PreviewAudit.objects.order_by("-viewed_at", "-id")[:limit]


def title_stats_for(title_ids) -> dict[int, TitleStats]:
    return {s.title_id: s for s in TitleStats.objects.filter(title_id__in=list(title_ids))}


def title_impressions(title: Title, *, days: int = 30) -> list[dict]:
    """Per home row, the title's impressions, clicks and plays over the last `days` days."""
    since = (timezone.now() - timedelta(days=days)).date()
    per_row = (
        ImpressionDaily.objects.filter(title=title, date__gte=since)
        .values("row_key")
        .annotate(impressions=Sum("impressions"), clicks=Sum("clicks"), plays=Sum("plays"), profiles=Sum("profiles"))
        .order_by("-impressions", "row_key")
    )
    return [dict(row) for row in per_row]


def titles_search(query: str, *, limit: int = 30):
    # NUL cannot reach PostgreSQL (DataError) and names nothing anyway.
    query = (query or "").replace("\x00", "").strip()
    if not query:
        return Title.objects.none()
    cond = Q(name__icontains=query)
    if (pk := parse_id(query)) is not None:
        cond |= Q(pk=pk)
    return Title.objects.filter(cond).order_by("name", "id")[:limit]


def combo_choices():
    return Genre.objects.order_by("name"), Tag.objects.order_by("name")


def combo_titles(genre: Genre, tag: Tag, *, limit: int = 500):
    return Title.objects.filter(genres=genre, title_tags__tag=tag).distinct().order_by("name", "id")[:limit]
