"""Background threads for in-process tasks (the embedded stack: no broker, no worker).

Without a broker, `ops.outbox` used to run a task right where it was dispatched, i.e. inside
the request that queued it: "Retrain now" held the admin's request for a minute. With
OUTBOX_EAGER_THREADS (on by default there), the task runs in a daemon thread of the web
process instead, after the request's commit, with the same outbox row and the same status
records (training version, insights snapshot, export request) that a Celery worker writes, so
the pages that poll them work the same way on both stacks.

A thread dies with its process (a restarted `runserver`): the status records' heartbeats stop
and the next request takes over, as after a dead Celery worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.db import connections

log = logging.getLogger(__name__)

_idle = threading.Condition()
_running: set[threading.Thread] = set()


def run(fn: Callable[[], object], *, name: str) -> threading.Thread:
    """Run `fn` in a daemon thread; its exceptions are logged (the caller has answered already)."""

    def target() -> None:
        try:
            fn()
        except Exception:
            log.exception("background task %s failed", name)
        finally:
            # Each thread has its own database connections: close them, or every finished
            # task leaves one open (SQLite: a file handle; PostgreSQL: a server backend).
            connections.close_all()
            with _idle:
                _running.discard(thread)
                _idle.notify_all()

    thread = threading.Thread(target=target, name=f"bg:{name}"[:60], daemon=True)
    with _idle:
        _running.add(thread)
    thread.start()
    return thread


def running() -> int:
    with _idle:
        return len(_running)


def wait_idle(timeout: float = 30) -> bool:
    """Wait until no background task runs (tests, and a clean shutdown). False on timeout."""
    with _idle:
        return _idle.wait_for(lambda: not _running, timeout=timeout)
