"""Celery tasks of the recommender: thin wrappers around `training.train_and_register`.

Training is single-flight through a database lease (`ops.leases`, name `LEASE`) that the
running training renews from a heartbeat thread every JOB_LEASE_SECONDS/3. A worker killed
mid-fit stops renewing, so its lease lapses within JOB_LEASE_SECONDS (90 s by default), not
after the hour-long time limit; the next training (or the same task, redelivered) takes over
and marks the orphan version failed. The lease lives in the database, so a cache outage
cannot wedge or double it either.
"""

from __future__ import annotations

import logging
import secrets

from celery import shared_task
from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from ops import leases, outbox, signals
from ops.heartbeat import Heartbeat, lease_seconds

from . import dataset, model_registry, training
from .models import ModelVersion
from .selectors import TRAIN_TASK, TRAINING_LEASE, serving_version

log = logging.getLogger(__name__)

LEASE = TRAINING_LEASE
# One queued training at a time: a second request while one waits is the same request.
OUTBOX_KEY = "recommendations:model_train"
TASK_NAME = TRAIN_TASK
SOFT_TIME_LIMIT = 60 * 60
HARD_TIME_LIMIT = SOFT_TIME_LIMIT + 5 * 60


class TrainingBusy(Exception):
    """Another training holds the lease."""

    def __init__(self, lease):
        self.lease = lease
        super().__init__("another training is running")


def training_running() -> bool:
    return leases.current(LEASE) is not None


def train_single_flight(*, trigger: str, holder: str) -> ModelVersion:
    """Hold the training lease (renewed while the fit runs) and train; TrainingBusy if held."""
    ttl = lease_seconds()
    if not leases.acquire(LEASE, holder, ttl=ttl):
        raise TrainingBusy(leases.current(LEASE))
    try:
        with Heartbeat(lambda: leases.renew(LEASE, holder, ttl=ttl), every=ttl / 3, name="training-lease"):
            # We hold the lease, so no other training runs: a version still `training` is an
            # orphan of a dead worker.
            training.mark_interrupted()
            # Renewing once more proves the lease is still this run's before it records a model.
            return training.train_and_register(trigger=trigger, still_ours=lambda: leases.renew(LEASE, holder, ttl=ttl))
    finally:
        leases.release(LEASE, holder)


def train_request(*, trigger: str):
    """Queue a training through the outbox (call inside the request's transaction or alone)."""
    with transaction.atomic():
        return outbox.enqueue(TASK_NAME, key=OUTBOX_KEY, trigger=trigger)


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
    task_id = self.request.id or "local"
    if not self.request.is_eager and signals.is_duplicate_delivery(task_id):
        # This task id was already taken by another delivery (alive, or finished: Redis hands a
        # dead worker's unacknowledged message back hours later). Training is not idempotent.
        log.info("training %s: a duplicate delivery, skipped", task_id)
        return {"skipped": True, "reason": "a duplicate delivery"}
    holder = f"{task_id}/{secrets.token_hex(4)}"
    try:
        mv = train_single_flight(trigger=trigger, holder=holder)
    except TrainingBusy as busy:
        lease = busy.lease
        if lease is not None and lease.holder.startswith(f"{task_id}/") and not self.request.is_eager:
            # This very task, delivered again: its previous run died holding the lease. Take
            # over once the lease lapses (a live run would have kept renewing it).
            wait = max(1.0, (lease.expires_at - timezone.now()).total_seconds() + 1)
            log.warning("training %s: the previous run died; taking over in %.0f s", task_id, wait)
            raise self.retry(countdown=wait, max_retries=5) from None
        log.info("training skipped: another training holds the lease")
        return {"skipped": True, "reason": "another training is running"}
    return {"skipped": False, "version": mv.version, "status": mv.status, "metrics": mv.metrics}


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def model_train_scheduled(trigger: str = "nightly") -> str:
    """Beat's nightly retrain: queued through the outbox, so it is swept like any other."""
    return str(train_request(trigger=trigger).pk)


@shared_task(acks_late=True, soft_time_limit=300, time_limit=360)
def model_versions_prune() -> dict:
    """Beat, daily: model files beyond the last MODEL_VERSIONS_KEEP versions go."""
    return model_registry.versions_prune()


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
    enqueue = due and not training_running()
    if enqueue:
        train_request(trigger="new-interactions")
    return {"new_interactions": since, "threshold": threshold, "enqueued": enqueue}


@shared_task(name="recommendations.tasks.train_model", acks_late=True)
def _model_train_legacy(trigger: str = "task") -> dict:
    """A training queued under the task's name before the rename: queued again under the new one."""
    train_request(trigger=trigger)
    return {"requeued_as": "recommendations.tasks.model_train"}
