"""The outbox (every task the product enqueues, recorded with the request) and named leases."""

from __future__ import annotations

import uuid

from django.db import models


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Recorded, not yet accepted by the broker"
    SENT = "sent", "Accepted by the broker"
    STARTED = "started", "Running on a worker"
    DONE = "done", "Finished"
    FAILED = "failed", "Failed for good"


UNFINISHED = (OutboxStatus.PENDING, OutboxStatus.SENT, OutboxStatus.STARTED)


class OutboxTask(models.Model):
    """One task to run, written in the transaction that asked for it (`ops.outbox.enqueue`).

    Its id is the Celery task id, so the worker's signals find the row. The sweeper
    (`ops.tasks.outbox_sweep`, beat) hands the broker again what it never accepted, lost, or
    what a dead worker was running (its heartbeat stopped).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    # Optional: at most one unfinished row per key (e.g. one queued training at a time).
    key = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="How many times it was handed to the broker.")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="ops_outbox_status_created"),
            models.Index(fields=["key", "status"], name="ops_outbox_key_status"),
        ]
        constraints = [
            # One unfinished row per key, even under concurrent requests (outbox.enqueue).
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(status__in=["pending", "sent", "started"]) & ~models.Q(key=""),
                name="ops_outbox_one_unfinished_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} ({self.status})"


class Lease(models.Model):
    """A named single-flight lease: held by `holder` until `expires_at`, renewed while alive.

    A holder that dies stops renewing, so its lease lapses within one TTL and the next
    claimant takes over (`ops.leases`).
    """

    name = models.CharField(max_length=100, primary_key=True)
    holder = models.CharField(max_length=100, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    acquired_at = models.DateTimeField(null=True, blank=True)
    renewed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.holder or 'free'}"
