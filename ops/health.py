"""Readiness: is this process able to serve? (`/readyz`; `/healthz` only says it is alive.)

Built in, all required: the database answers `SELECT 1`, no migration is left unapplied, the
default cache stores and returns a value, and the Celery broker accepts a connection (when
tasks do not run in-process). The apps add their own through `register_check`; recommendations
adds the serving model, informational only: without a model the site still serves its
non-personal rows, so that is no reason to take the process out of the load balancer.

Every check is bounded in time, so a probe answers within seconds whatever is down: the
database by its connect timeout (a refusal is immediate; a host that drops packets takes
DATABASE_CONNECT_TIMEOUT on PostgreSQL), tried once, and the checks that need it are skipped
while it is down; the cache and broker (network clients whose connect may hang on a dropped
packet) run in a small thread pool with a deadline of THREADED_DEADLINE_SECONDS.

A check that raises reports the exception's class only: the body is public, and messages name
hosts and users; the log has the whole story.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from django.db import connection, connections

log = logging.getLogger(__name__)

# How long the checks that run in threads (cache, broker) may take together.
THREADED_DEADLINE_SECONDS = 1.5
# The broker's connect and socket timeouts, within that deadline.
BROKER_TIMEOUT_SECONDS = 1.0

CheckFn = Callable[[], dict | None]


@dataclass(frozen=True)
class Check:
    name: str
    fn: CheckFn
    required: bool
    # Run in the thread pool with a deadline (network clients without their own timeout).
    threaded: bool = False
    # Not run (and failed) while this check fails: the migrations need the database.
    needs: str | None = None


_checks: dict[str, Check] = {}


def register_check(
    name: str, fn: CheckFn, required: bool = False, *, threaded: bool = False, needs: str | None = None
) -> None:
    """Add a readiness check. `fn()` returns a dict (`ok`, default True, and anything else to
    show, e.g. `state`) or None for plain success, and raises when the dependency is unusable.

    `required=False` checks are reported but never make the process "not ready". Registering
    a name again replaces it (autoreload, tests).
    """
    _checks[name] = Check(name=name, fn=fn, required=required, threaded=threaded, needs=needs)


def _required(check: Check) -> bool:
    # READINESS_OPTIONAL: checks an operator chose to report only. The cache (common.cache serves
    # misses) and the broker (the outbox keeps what it could not hand over) are outages the site
    # rides out; failing readiness for them takes every web host out at once.
    from django.conf import settings

    return check.required and check.name not in getattr(settings, "READINESS_OPTIONAL", ())


def _run(check: Check) -> dict:
    start = time.perf_counter()
    try:
        out = dict(check.fn() or {})
        result = {"ok": bool(out.pop("ok", True)), **out}
    except Exception as exc:  # reported, not raised: readiness says what is down
        # One line, not a traceback: probes come every few seconds for as long as it lasts.
        log.warning("readiness check %s failed: %s: %s", check.name, type(exc).__name__, exc)
        result = {"ok": False, "error": type(exc).__name__}
    result["ms"] = round((time.perf_counter() - start) * 1000, 1)
    if not _required(check):
        result["required"] = False
    return result


def _run_in_thread(check: Check) -> dict:
    try:
        return _run(check)
    finally:
        # A pool thread that touched the database (the database cache) must not keep a
        # connection of its own open between probes.
        connections.close_all()


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    # Made on first use, not at import: gunicorn may fork after importing the app, and threads
    # do not survive a fork. Few workers: a check stuck on a dead host holds one until its
    # socket gives up, and later probes then time out instead of piling up threads.
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")
        return _pool


def readiness() -> tuple[bool, dict[str, dict]]:
    """(ready, {check name: result}) in registration order. Ready = every required check ok."""
    checks = list(_checks.values())
    deadline = time.monotonic() + THREADED_DEADLINE_SECONDS
    futures = {c.name: _executor().submit(_run_in_thread, c) for c in checks if c.threaded}
    results: dict[str, dict] = {}
    for check in checks:
        if check.threaded:
            continue
        if check.needs and not results.get(check.needs, {}).get("ok", True):
            results[check.name] = {"ok": False, "state": f"not checked: {check.needs} unavailable", "ms": 0.0}
            continue
        results[check.name] = _run(check)
    for name, future in futures.items():
        try:
            results[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            log.warning("readiness check %s timed out", name)
            results[name] = {"ok": False, "error": "timed out", "ms": round(THREADED_DEADLINE_SECONDS * 1000, 1)}
    ordered = {c.name: results[c.name] for c in checks}
    ready = all(ordered[c.name]["ok"] for c in checks if _required(c))
    return ready, ordered


# --- The built-in checks ---------------------------------------------------------------------


def _select_one() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_database() -> dict:
    reused = connection.connection is not None
    try:
        _select_one()
    except Exception:
        if not reused or connection.in_atomic_block:
            raise
        # A kept connection the server dropped (a database restart) fails once; a fresh one
        # tells whether the database itself is down. A failed fresh connect is not retried.
        connection.close()
        _select_one()
    return {"ok": True, "vendor": connection.vendor}


_migrations_applied = False


def check_migrations() -> dict:
    """No unapplied migration. Reading the migration files is slow, so once the plan is empty
    the answer is kept for the life of the process (migrations are not unapplied under it)."""
    global _migrations_applied
    if not _migrations_applied:
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            return {"ok": False, "state": f"{len(plan)} unapplied"}
        _migrations_applied = True
    return {"ok": True}


def check_cache() -> dict:
    from django.core.cache import caches

    cache = caches["default"]
    probe = getattr(cache, "probe", None)  # common.cache: asks Redis past its breaker
    if probe is not None and not probe():
        return {"ok": False, "state": "unreachable"}
    key = f"ops:readyz:{os.getpid()}:{threading.get_ident()}"
    token = uuid.uuid4().hex
    cache.set(key, token, timeout=30)
    if cache.get(key) != token:
        # A backend that serves its errors as misses (common.cache) ends up here when down.
        return {"ok": False, "state": "unreachable: a value written did not read back"}
    cache.delete(key)
    return {"ok": True}


def check_broker() -> dict:
    from celery import current_app

    if current_app.conf.task_always_eager:
        return {"ok": True, "state": "in-process (no broker)"}
    timeouts = {"socket_connect_timeout": BROKER_TIMEOUT_SECONDS, "socket_timeout": BROKER_TIMEOUT_SECONDS}
    with current_app.connection_for_write(transport_options=timeouts) as conn:
        # max_retries=0: one attempt; retrying is the probe's job, a few seconds later.
        conn.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT_SECONDS)
    return {"ok": True, "state": "connected"}


def reset() -> None:
    """Forget the cached migration answer (tests)."""
    global _migrations_applied
    _migrations_applied = False


register_check("database", check_database, required=True)
register_check("migrations", check_migrations, required=True, needs="database")
register_check("cache", check_cache, required=True, threaded=True)
register_check("broker", check_broker, required=True, threaded=True)
