"""Writes of the insights app: impressions, clicks, snapshot bookkeeping, the preview audit.

Impressions and clicks are gated on analytics consent at the write (nothing is collected
and filtered later) and cost one consent query plus one bulk INSERT.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Profile
from catalog.models import Title
from ops import outbox
from ops.heartbeat import dead_before
from privacy import consent

from .computation import STALE_AFTER
from .models import Click, Impression, InsightsSnapshot, PreviewAudit, SnapshotStatus

# Rows longer than this are cut: the home never shows more, and a runaway caller must not
# turn one page view into thousands of inserts.
MAX_IMPRESSIONS_PER_CALL = 400
# The same home shown again to the same profile within this window (a reload, a back button)
# is not a new impression: counting it would inflate impressions and deflate click-through.
IMPRESSION_REPEAT_SECONDS = 30 * 60

logger = logging.getLogger(__name__)


def _seen_recently(profile: Profile, pairs: list[tuple[str, int]], now) -> bool:
    """True when this exact page (rows and titles, in order) was recorded for the profile in
    the same IMPRESSION_REPEAT_SECONDS window."""
    digest = hashlib.sha256(repr(pairs).encode()).hexdigest()[:32]
    window = int(now.timestamp() // IMPRESSION_REPEAT_SECONDS)
    try:
        return not cache.add(f"insights:shown:{profile.pk}:{window}:{digest}", 1, IMPRESSION_REPEAT_SECONDS)
    except Exception:  # the cache is an optimization; without it, every view counts
        logger.warning("impression de-duplication unavailable (cache error)")
        return False


def impressions_record(*, profile: Profile, rows: Iterable, now=None) -> int:
    """Record the titles of `rows` (catalog.shelves.Row) as shown to `profile`. Returns rows written.

    Writes nothing without analytics consent, nor when the very same page was recorded for
    the profile in the last IMPRESSION_REPEAT_SECONDS; otherwise one bulk INSERT.
    """
    if not consent.allows_for(profile.account, "analytics"):
        return 0
    pairs = [(str(row.key)[:80], item.title.pk) for row in rows for item in row.items][:MAX_IMPRESSIONS_PER_CALL]
    now = now or timezone.now()
    if not pairs or _seen_recently(profile, pairs, now):
        return 0
    Impression.objects.bulk_create(
        [Impression(profile_id=profile.pk, title_id=tid, row_key=key, shown_at=now) for key, tid in pairs],
        batch_size=MAX_IMPRESSIONS_PER_CALL,
    )
    return len(pairs)


def click_record(*, profile: Profile, title: Title, row_key: str, now=None) -> bool:
    """A title detail view opened from a home row (the view passes `?row=`). Gated like impressions."""
    row_key = (row_key or "").strip()[:80]
    if not row_key or not consent.allows_for(profile.account, "analytics"):
        return False
    Click.objects.create(profile_id=profile.pk, title_id=title.pk, row_key=row_key, clicked_at=now or timezone.now())
    return True


def snapshot_request(*, trigger: str) -> tuple[InsightsSnapshot, bool]:
    """Queue an aggregation run unless one is already queued or running (single-flight).

    Returns (snapshot, created). The task is enqueued after commit, with the id only (by name:
    the tasks module calls this one, so it is never imported here).
    """
    with transaction.atomic():
        now = timezone.now()
        # Busy: queued recently, or running with a live worker (a dead one's heartbeat stops,
        # and then the next request starts afresh instead of waiting for it).
        busy = (
            InsightsSnapshot.objects.select_for_update()
            .filter(
                Q(status=SnapshotStatus.PENDING, created_at__gte=now - STALE_AFTER)
                | Q(status=SnapshotStatus.RUNNING, heartbeat_at__gte=dead_before(now))
                | Q(status=SnapshotStatus.RUNNING, heartbeat_at__isnull=True, started_at__gte=dead_before(now))
            )
            .first()
        )
        if busy is not None:
            return busy, False
        # Whatever is left queued or running is dead (not busy above): say so, start afresh.
        InsightsSnapshot.objects.filter(status__in=[SnapshotStatus.PENDING, SnapshotStatus.RUNNING]).update(
            status=SnapshotStatus.FAILED, finished_at=now, error="interrupted: the worker stopped or never started"
        )
        snap = InsightsSnapshot.objects.create(trigger=trigger)
        outbox.enqueue("insights.tasks.insights_compute", snap.pk)
    return snap, True


def preview_audit_record(*, staff, profile: Profile) -> PreviewAudit:
    return PreviewAudit.objects.create(
        staff=staff, staff_username=staff.get_username(), profile=profile, profile_label=f"profile #{profile.pk}"
    )
