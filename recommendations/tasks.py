"""Celery tasks of the recommender: thin wrappers around `training.train_and_register`.

`model_train` is single-flight: a cache lock (`cache.add`, atomic in Redis and in local memory)
with an expiry longer than the hard time limit, so a killed worker cannot wedge training for
good; it is released in `finally` only by the holder (the token check).
"""

from __future__ import annotations

import logging
import secrets

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from . import dataset, training
from .models import ModelVersion
from .selectors import serving_version

log = logging.getLogger(__name__)

LOCK_KEY = "recommendations:training-lock"
SOFT_TIME_LIMIT = 60 * 60
HARD_TIME_LIMIT = SOFT_TIME_LIMIT + 5 * 60
LOCK_TIMEOUT = HARD_TIME_LIMIT + 60


def acquire_lock() -> str | None:
    token = secrets.token_hex(8)
    return token if cache.add(LOCK_KEY, token, timeout=LOCK_TIMEOUT) else None


def release_lock(token: str) -> None:
    # Not atomic (get then delete), but the window only matters if the lock already expired,
    # i.e. after the hard time limit killed the holder.
    if cache.get(LOCK_KEY) == token:
        cache.delete(LOCK_KEY)


@shared_task(
    bind=True,
    acks_late=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=HARD_TIME_LIMIT,
    autoretry_for=(OperationalError, RedisConnectionError),
    retry_backoff=30,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=3,
)
def model_train(self, trigger: str = "task") -> dict:
    """Train, evaluate and maybe promote. Returns a JSON-able summary (or why it skipped)."""
    token = acquire_lock()
    if token is None:
        log.info("training skipped: another training holds the lock")
        return {"skipped": True, "reason": "another training is running"}
    try:
        training.mark_interrupted()
        mv = training.train_and_register(trigger=trigger)
        return {"skipped": False, "version": mv.version, "status": mv.status, "metrics": mv.metrics}
    finally:
        release_lock(token)


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def interactions_check() -> dict:
    """Enqueue training when enough interactions arrived since the serving version's data.

    Without a serving version the reference is the latest attempt (so a rejected or failed
    model is not retried every five minutes on the same data); with no attempt at all, any
    data is enough.
    """
    threshold = settings.RECOMMENDER_RETRAIN_THRESHOLD
    reference = serving_version() or ModelVersion.objects.order_by("-created_at", "-id").first()
    total = dataset.count_interactions()
    if reference is None:
        due = total > 0
        since = total
    else:
        # Deletions can make the difference negative; only growth counts.
        since = total - reference.interactions_at_training
        due = since >= threshold
    enqueue = due and cache.get(LOCK_KEY) is None
    if enqueue:
        model_train.delay(trigger="new-interactions")
    return {"new_interactions": since, "threshold": threshold, "enqueued": enqueue}


@shared_task(name="recommendations.tasks.train_model", acks_late=True)
def _model_train_legacy(trigger: str = "task") -> dict:
    """A training queued under the task's name before the rename: queued again under the new one."""
    model_train.delay(trigger=trigger)
    return {"requeued_as": "recommendations.tasks.model_train"}
