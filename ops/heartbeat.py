"""A background thread that calls `beat()` every few seconds while a long job runs.

Leases and job rows are renewed from a thread rather than from the job's own loop because one
step of the job (a LightFM epoch, one export section) can outlast a lease; the thread opens
its own database connection and closes it when the job ends.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

log = logging.getLogger(__name__)


class Heartbeat:
    """`with Heartbeat(fn, every=20):` calls fn() every `every` seconds until the block ends."""

    def __init__(self, beat: Callable[[], object], *, every: float, name: str = "heartbeat") -> None:
        self._beat = beat
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._every):
                try:
                    self._beat()
                except Exception:  # a missed beat only shortens the lease; the next one may land
                    log.warning("heartbeat %s failed", self._thread.name, exc_info=True)
        finally:
            connection.close()

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        # Bounded: a beat blocked on a lock must not hold the job's end hostage.
        self._thread.join(timeout=5)


def lease_seconds() -> float:
    """How long a job row or lease stays claimed without a heartbeat (settings.JOB_LEASE_SECONDS)."""
    return float(getattr(settings, "JOB_LEASE_SECONDS", 90))


def dead_before(now=None):
    """A claimed job whose last heartbeat is older than this belongs to a dead worker."""
    return (now or timezone.now()) - timedelta(seconds=lease_seconds())


def job_heartbeat(queryset, *, field: str = "heartbeat_at") -> Heartbeat:
    """Keep `field` of the claimed row(s) fresh while the job runs (three beats per lease)."""
    return Heartbeat(lambda: queryset.update(**{field: timezone.now()}), every=lease_seconds() / 3, name="job")
