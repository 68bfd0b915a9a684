"""Celery tasks of insights: thin, safe to run twice.

`compute_insights` claims its snapshot with a conditional UPDATE (pending -> running), so a
duplicate delivery does nothing; progress is written to the snapshot row as it goes.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from ops.heartbeat import job_heartbeat

from . import aggregates, clusters, personal_data
from .models import InsightsSnapshot, SnapshotStatus
from .services import snapshot_request

log = logging.getLogger(__name__)

SOFT_TIME_LIMIT = 30 * 60
# A queued or running snapshot older than this is taken as lost (worker died): a new run may start.
STALE_AFTER = timedelta(seconds=SOFT_TIME_LIMIT + 5 * 60)


def _progress(snap_id: int, pct: int, step: str) -> None:
    InsightsSnapshot.objects.filter(pk=snap_id).update(progress=pct, step=step)


def run(snapshot_id: int) -> bool:
    """Compute every aggregate into the snapshot. Returns False when another run owns it."""
    now = timezone.now()
    claimed = InsightsSnapshot.objects.filter(pk=snapshot_id, status=SnapshotStatus.PENDING).update(
        status=SnapshotStatus.RUNNING, started_at=now, heartbeat_at=now, progress=1, step="Starting"
    )
    if not claimed:
        return False
    with job_heartbeat(InsightsSnapshot.objects.filter(pk=snapshot_id, status=SnapshotStatus.RUNNING)):
        return _compute(snapshot_id)


def _compute(snapshot_id: int) -> bool:
    t0 = time.perf_counter()
    now = timezone.now()
    shared: dict = {}
    steps = [
        ("Impressions per day", lambda: aggregates.impressions_daily_rebuild(now)),
        ("Title performance", lambda: aggregates.title_stats_rebuild(now)),
        ("Demand vs supply by genre", lambda: aggregates.demand_supply("genre")),
        ("Demand vs supply by tag", lambda: aggregates.demand_supply("tag")),
        ("Rising titles", lambda: aggregates.rising_titles(now)),
        ("Content gaps", aggregates.content_gaps),
        ("Completion by genre", lambda: aggregates.completion("genre")),
        ("Completion by kind", lambda: aggregates.completion("kind")),
        ("Series drop-off", aggregates.drop_off),
        ("Home rows", lambda: aggregates.row_performance(now)),
        ("Audiences (who engaged with what)", lambda: shared.update(engaged=aggregates.engagement_sets())),
        ("Genre and tag audiences", lambda: aggregates.combo_audiences(shared["engaged"])),
        ("Audience clusters", lambda: clusters.compute(shared["engaged"])),
    ]
    data = {"generated_at": now.isoformat(), "min_group": aggregates.min_group(), "sections": {}, "timings": {}}
    try:
        for i, (label, fn) in enumerate(steps):
            _progress(snapshot_id, int(100 * i / len(steps)) or 1, label)
            s0 = time.perf_counter()
            result = fn()
            data["timings"][label] = round(time.perf_counter() - s0, 3)
            if isinstance(result, dict) and "columns" in result:
                data["sections"][result["key"]] = result
            elif label == "Audience clusters":
                data["clusters"] = result
            elif label == "Genre and tag audiences":
                data["combo_audiences"] = result
        data["consenting_profiles"] = aggregates.consented().count()
        shared.clear()  # the per-profile sets are not kept anywhere
    except Exception as exc:
        log.exception("insights aggregation %s failed", snapshot_id)
        InsightsSnapshot.objects.filter(pk=snapshot_id).update(
            status=SnapshotStatus.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return False
    InsightsSnapshot.objects.filter(pk=snapshot_id).update(
        status=SnapshotStatus.READY,
        progress=100,
        step="Done",
        finished_at=timezone.now(),
        duration_seconds=round(time.perf_counter() - t0, 3),
        data=data,
    )
    return True


@shared_task(acks_late=True, soft_time_limit=SOFT_TIME_LIMIT, time_limit=SOFT_TIME_LIMIT + 120)
def insights_compute(snapshot_id: int) -> bool:
    return run(snapshot_id)


@shared_task
def insights_compute_nightly() -> int:
    snap, _created = snapshot_request(trigger="nightly")
    return snap.pk


@shared_task
def impressions_purge() -> int:
    return personal_data.purge(timezone.now())


@shared_task(name="insights.tasks.compute_insights", acks_late=True)
def _insights_compute_legacy(snapshot_id: int) -> bool:
    """An aggregation queued under the task's name before the rename."""
    return run(snapshot_id)
