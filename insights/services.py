"""Writes of the insights app: impressions, clicks, snapshot bookkeeping, the preview audit.

Impressions and clicks are gated on analytics consent at the write (nothing is collected
and filtered later) and cost one consent query plus one bulk INSERT.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from accounts.models import Profile
from catalog.models import Title
from privacy import consent

from .models import Click, Impression, InsightsSnapshot, PreviewAudit, SnapshotStatus

# Rows longer than this are cut: the home never shows more, and a runaway caller must not
# turn one page view into thousands of inserts.
MAX_IMPRESSIONS_PER_CALL = 400


def impressions_record(*, profile: Profile, rows: Iterable, now=None) -> int:
    """Record the titles of `rows` (catalog.rows.Row) as shown to `profile`. Returns rows written.

    Writes nothing without analytics consent; one consent query plus one bulk INSERT otherwise.
    """
    if not consent.allows_for(profile.account, "analytics"):
        return 0
    now = now or timezone.now()
    objs = []
    for row in rows:
        key = str(row.key)[:80]
        for item in row.items:
            objs.append(Impression(profile_id=profile.pk, title_id=item.title.pk, row_key=key, shown_at=now))
            if len(objs) >= MAX_IMPRESSIONS_PER_CALL:
                break
        if len(objs) >= MAX_IMPRESSIONS_PER_CALL:
            break
    if objs:
        Impression.objects.bulk_create(objs, batch_size=MAX_IMPRESSIONS_PER_CALL)
    return len(objs)


def click_record(*, profile: Profile, title: Title, row_key: str, now=None) -> bool:
    """A title detail view opened from a home row (the view passes `?row=`). Gated like impressions."""
    row_key = (row_key or "").strip()[:80]
    if not row_key or not consent.allows_for(profile.account, "analytics"):
        return False
    Click.objects.create(profile_id=profile.pk, title_id=title.pk, row_key=row_key, clicked_at=now or timezone.now())
    return True


def snapshot_request(*, trigger: str) -> tuple[InsightsSnapshot, bool]:
    """Queue an aggregation run unless one is already queued or running (single-flight).

    Returns (snapshot, created). The task is enqueued after commit, with the id only.
    """
    from . import tasks

    with transaction.atomic():
        busy = (
            InsightsSnapshot.objects.select_for_update()
            .filter(status__in=[SnapshotStatus.PENDING, SnapshotStatus.RUNNING])
            .filter(created_at__gte=timezone.now() - tasks.STALE_AFTER)
            .first()
        )
        if busy is not None:
            return busy, False
        snap = InsightsSnapshot.objects.create(trigger=trigger)
        transaction.on_commit(lambda: tasks.compute_insights.delay(snap.pk))
    return snap, True


def preview_audit_record(*, staff, profile: Profile) -> PreviewAudit:
    return PreviewAudit.objects.create(
        staff=staff, staff_username=staff.get_username(), profile=profile, profile_label=f"profile #{profile.pk}"
    )
