"""The outbox: every task the product enqueues is a row written with the request.

    from ops import outbox
    with transaction.atomic():
        export = ExportRequest.objects.create(...)
        outbox.enqueue("privacy.tasks.export_build", str(export.id))

`enqueue` writes an `OutboxTask` in the caller's transaction and, after commit, hands it to
the broker (its id is the Celery task id). A broker that is down only leaves the row
`pending`: the request still answers, and `sweep` (beat, every minute) hands it over once the
broker is back. The sweeper also hands over again what the broker lost (accepted, never
started: a Redis restart keeps nothing) and what a dead worker was running (started, its
heartbeat stopped). Tasks are idempotent (each claims its own row), so a second delivery
costs a no-op, never a duplicate.

Embedded default (no broker): Celery runs the task in-process, and the row is marked with the
outcome: in a background thread of this process after commit (OUTBOX_EAGER_THREADS, on by
default there: `ops.background`), or inline at dispatch (the test suite's default, so a test
sees a task's effect at once).
"""

from __future__ import annotations

import importlib
import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from common.logs import warn_every

from . import background
from .models import UNFINISHED, OutboxStatus, OutboxTask

log = logging.getLogger(__name__)

# Unfinished rows older than this are left to their domain's own recovery (and reported).
MAX_ATTEMPTS = 8


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def pending_grace() -> timedelta:
    """A pending row younger than this may still be dispatched by its own on_commit."""
    return timedelta(seconds=_setting("OUTBOX_PENDING_GRACE_SECONDS", 15))


def redispatch_after() -> timedelta:
    """Accepted but not started for this long (doubling per attempt): taken as lost."""
    return timedelta(seconds=_setting("OUTBOX_REDISPATCH_SECONDS", 300))


def heartbeat_every() -> float:
    return _setting("OUTBOX_HEARTBEAT_SECONDS", 15)


def dead_after() -> timedelta:
    """Started, and no heartbeat for this long: the worker died."""
    return timedelta(seconds=_setting("OUTBOX_DEAD_AFTER_SECONDS", 60))


def enqueue(task: str, *args, key: str = "", **kwargs) -> OutboxTask:
    """Record `task(*args, **kwargs)` in the current transaction; dispatch it after commit.

    With `key`, a second unfinished request under the same key is the first one (returned; a
    partial unique index makes that hold under concurrent requests too). Arguments must be
    JSON (they cross the broker as JSON).
    """
    if key:
        existing = OutboxTask.objects.filter(key=key, status__in=UNFINISHED).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            row = OutboxTask.objects.create(task=task, args=list(args), kwargs=kwargs, key=key)
    except IntegrityError:
        # A concurrent request under the same key got there first.
        return OutboxTask.objects.get(key=key, status__in=UNFINISHED)
    transaction.on_commit(lambda: dispatch(row.pk))
    return row


def dispatch(row_id, *, expected: OutboxTask | None = None) -> bool:
    """Hand the row to the broker (or, without one, run it in-process). True when accepted.

    Compare-and-set: the row moves to `sent` only from the state it had when it was judged due
    (`expected`, as the sweeper read it; else as read here), so a sweeper and a request (or two
    sweepers) racing on one row publish it once, and a row a worker started in the meantime is
    not sent again under it.
    """
    row = expected or OutboxTask.objects.filter(pk=row_id).first()
    if row is None or row.status in (OutboxStatus.DONE, OutboxStatus.FAILED):
        return False
    task = _task(row.task)
    eager = bool(current_app.conf.task_always_eager)
    claimed = OutboxTask.objects.filter(
        pk=row.pk, status=row.status, attempts=row.attempts, heartbeat_at=row.heartbeat_at
    ).update(status=OutboxStatus.SENT, sent_at=timezone.now(), attempts=row.attempts + 1)
    if not claimed:
        return False
    if eager:
        if getattr(settings, "OUTBOX_EAGER_THREADS", False):
            # Never inside the request: a thread of this process runs it (ops.background).
            background.run(lambda: _run_in_process(task, row), name=row.task)
        else:
            _run_in_process(task, row)
        return True
    try:
        # retry=False: with the broker down, fail now and leave the row to the sweeper rather
        # than hold the request while kombu retries. ignore_result: the row is the result; the
        # Redis result backend would otherwise subscribe first and retry for 20 s.
        task.apply_async(args=row.args, kwargs=row.kwargs, task_id=str(row.pk), retry=False, ignore_result=True)
    except Exception as exc:
        # Not an attempt: the broker never had it (so a long outage cannot exhaust MAX_ATTEMPTS).
        OutboxTask.objects.filter(pk=row.pk, status=OutboxStatus.SENT).update(
            status=OutboxStatus.PENDING,
            sent_at=None,
            attempts=row.attempts,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        warn_every(
            log,
            "outbox-broker",
            "broker refused %s (%s: %s); kept in the outbox for the sweeper",
            row.task,
            type(exc).__name__,
            exc,
        )
        return False
    return True


def _run_in_process(task, row: OutboxTask) -> None:
    """Run the task here and now; its own exceptions propagate as they always did
    (EAGER_PROPAGATES), after the row says it failed."""
    try:
        result = task.apply_async(args=row.args, kwargs=row.kwargs, task_id=str(row.pk))
    except Exception as exc:
        _finish(row.pk, OutboxStatus.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    _finish(row.pk, OutboxStatus.DONE if result.successful() else OutboxStatus.FAILED, "")


def _task(name: str):
    # Task names are "<module>.<function>"; importing the module registers it, whatever has
    # been imported so far in this process (autodiscovery only runs in a worker).
    if name not in current_app.tasks:
        importlib.import_module(name.rsplit(".", 1)[0])
    return current_app.tasks[name]


def _finish(row_id, status: str, error: str, *, only_from=None) -> int:
    now = timezone.now()
    rows = OutboxTask.objects.filter(pk=row_id)
    if only_from is not None:
        rows = rows.filter(status__in=only_from)
    return rows.update(status=status, finished_at=now, heartbeat_at=now, last_error=error[:2000])


def mark_started(task_id: str) -> bool:
    """Claim the row for this delivery: from pending or sent, or from a dead delivery (started,
    its heartbeat stopped). False for a duplicate of a live or finished run, or no outbox task."""
    now = timezone.now()
    return bool(
        OutboxTask.objects.filter(pk=task_id)
        .filter(
            Q(status__in=[OutboxStatus.PENDING, OutboxStatus.SENT])
            | Q(status=OutboxStatus.STARTED, heartbeat_at__lt=now - dead_after())
        )
        .update(status=OutboxStatus.STARTED, started_at=now, heartbeat_at=now)
    )


def mark_alive(task_id: str) -> None:
    OutboxTask.objects.filter(pk=task_id, status=OutboxStatus.STARTED).update(heartbeat_at=timezone.now())


def mark_finished(task_id: str, *, state: str, error: str = "") -> None:
    """The delivery that claimed the row (mark_started) finished it."""
    if state == "RETRY":
        # The retry is a new message with the same id, already with the broker.
        OutboxTask.objects.filter(pk=task_id, status=OutboxStatus.STARTED).update(
            status=OutboxStatus.SENT, sent_at=timezone.now()
        )
        return
    status = OutboxStatus.DONE if state == "SUCCESS" else OutboxStatus.FAILED
    _finish(task_id, status, error, only_from=[OutboxStatus.STARTED])


def is_finished(task_id: str) -> bool:
    """The row of this task id is done or failed (a late duplicate delivery should do nothing)."""
    return OutboxTask.objects.filter(pk=task_id, status__in=[OutboxStatus.DONE, OutboxStatus.FAILED]).exists()


def due(now=None) -> list[OutboxTask]:
    """Rows to hand to the broker again (module docstring)."""
    now = now or timezone.now()
    rows = OutboxTask.objects.filter(
        Q(status=OutboxStatus.PENDING, created_at__lt=now - pending_grace())
        | Q(status=OutboxStatus.SENT)
        | Q(status=OutboxStatus.STARTED, heartbeat_at__lt=now - dead_after())
    )
    picked = []
    for row in rows.order_by("created_at")[:500]:
        if row.status == OutboxStatus.SENT:
            wait = redispatch_after() * (2 ** max(0, row.attempts - 1))
            if row.sent_at is not None and row.sent_at > now - wait:
                continue
        picked.append(row)
    return picked


def sweep(now=None) -> dict:
    """Dispatch what is due; forget finished rows after OUTBOX_KEEP_DAYS. Safe to run twice."""
    now = now or timezone.now()
    sent = refused = 0
    # Handed over MAX_ATTEMPTS times and never finished (a task that kills its worker each
    # time): give up loudly, which also frees its key for a new request.
    gave_up = OutboxTask.objects.filter(status__in=UNFINISHED, attempts__gte=MAX_ATTEMPTS).exclude(
        status=OutboxStatus.STARTED, heartbeat_at__gte=now - dead_after()
    )
    for row in gave_up:
        log.error("outbox: %s %s given up after %d attempts", row.task, row.pk, row.attempts)
    gave_up_count = gave_up.update(
        status=OutboxStatus.FAILED, finished_at=now, last_error=f"given up after {MAX_ATTEMPTS} attempts"
    )
    for row in due(now):
        if row.status == OutboxStatus.STARTED:
            log.warning(
                "outbox: %s %s lost its worker (no heartbeat since %s); dispatching again",
                row.task,
                row.pk,
                row.heartbeat_at,
            )
        if dispatch(row.pk, expected=row):
            sent += 1
        else:
            refused += 1
    keep = timedelta(days=_setting("OUTBOX_KEEP_DAYS", 7))
    purged, _ = OutboxTask.objects.filter(
        status__in=[OutboxStatus.DONE, OutboxStatus.FAILED], finished_at__lt=now - keep
    ).delete()
    return {"dispatched": sent, "refused": refused, "gave_up": gave_up_count, "purged": purged, "depth": depth()}


def depth() -> int:
    """Unfinished rows: the backlog an operator watches."""
    return OutboxTask.objects.filter(status__in=UNFINISHED).count()
