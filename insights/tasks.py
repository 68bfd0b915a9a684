"""Celery tasks of insights: thin, safe to run twice (the work is `computation.snapshot_compute`)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import computation, personal_data, services
from .computation import SOFT_TIME_LIMIT


@shared_task(acks_late=True, soft_time_limit=SOFT_TIME_LIMIT, time_limit=SOFT_TIME_LIMIT + 120)
def insights_compute(snapshot_id: int) -> bool:
    return computation.snapshot_compute(snapshot_id)


@shared_task
def insights_compute_nightly() -> int:
    snap, _created = services.snapshot_request(trigger="nightly")
    return snap.pk


@shared_task
def impressions_purge() -> int:
    return personal_data.purge(timezone.now())


@shared_task(name="insights.tasks.compute_insights", acks_late=True)
def _insights_compute_legacy(snapshot_id: int) -> bool:
    """An aggregation queued under the task's name before the rename."""
    return computation.snapshot_compute(snapshot_id)
