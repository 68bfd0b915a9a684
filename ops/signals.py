"""Celery signals that keep each outbox row's status in step with its task on the worker.

Only for tasks that came through the outbox (their id is a row's id) and only on a real worker:
in-process (eager) runs are marked by `outbox.dispatch` itself. While a task runs, a heartbeat
thread touches its row, so the sweeper can tell a slow task from a dead worker.
"""

from __future__ import annotations

import logging

from celery import signals

from . import outbox
from .heartbeat import Heartbeat
from .models import OutboxTask

log = logging.getLogger(__name__)

_beats: dict[str, Heartbeat] = {}


def _on_prerun(task_id=None, task=None, **_kw) -> None:
    if not task_id or getattr(task.request, "is_eager", False):
        return
    try:
        if not outbox.mark_started(task_id):
            return  # not an outbox task (beat's own schedule, a legacy message)
    except Exception:  # the task must still run when its bookkeeping cannot be written
        log.warning("outbox: could not mark %s started", task_id, exc_info=True)
        return
    beat = Heartbeat(lambda: outbox.mark_alive(task_id), every=outbox.heartbeat_every(), name=f"outbox-{task_id}")
    _beats[task_id] = beat.__enter__()


def _on_postrun(task_id=None, task=None, state=None, retval=None, **_kw) -> None:
    beat = _beats.pop(task_id, None) if task_id else None
    if beat is None:
        return
    beat.__exit__(None, None, None)
    error = f"{type(retval).__name__}: {retval}" if isinstance(retval, BaseException) else ""
    try:
        outbox.mark_finished(task_id, state=state or "", error=error)
    except Exception:
        log.warning("outbox: could not mark %s finished", task_id, exc_info=True)


def is_duplicate_delivery(task_id: str) -> bool:
    """True when `task_id` is an outbox task that this delivery did not claim (mark_started
    refused it: another delivery runs it or already finished it). Call from inside the task."""
    if task_id in _beats:
        return False
    return OutboxTask.objects.filter(pk=task_id).exists()


def connect() -> None:
    signals.task_prerun.connect(_on_prerun, weak=False, dispatch_uid="ops-outbox-prerun")
    signals.task_postrun.connect(_on_postrun, weak=False, dispatch_uid="ops-outbox-postrun")
