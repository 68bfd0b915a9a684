"""Celery tasks of ops: the outbox sweeper (beat, every minute)."""

from celery import shared_task

from . import outbox


@shared_task(acks_late=True, soft_time_limit=50, time_limit=58)
def outbox_sweep() -> dict:
    return outbox.sweep()
