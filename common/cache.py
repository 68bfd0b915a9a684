"""A Redis cache that degrades to "nothing cached" instead of raising when Redis is down.

Everything the product keeps in the cache can be recomputed (the serving version's name, a
profile's folded-in taste, shelves, chart bodies, throttle counts), so an outage must cost
time, not features: every operation answers as a miss would, personalization keeps serving
from the model in memory, and the log gets one warning per minute, not a traceback per
request. After a failure the cache is not asked again for `RETRY_SECONDS`, so requests do not
each pay a connection attempt; short socket timeouts (settings: OPTIONS) bound the one that does.

What "a miss" means per operation: get -> default, get_many -> {}, has_key -> False,
set/touch/delete -> False, add -> True (nothing is held anywhere, so the caller may go on;
mutual exclusion that must hold lives in the database: `ops.leases`), incr -> delta.
Throttle counts read as empty while Redis is down: limits open up for that time rather than
every request failing.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
WARN_EVERY_SECONDS = 60.0
_ERRORS = (RedisError, OSError)


class _Breaker:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down_until = 0.0
        self.warned_at = -1e9
        self.failures = 0

    def open(self) -> bool:
        return time.monotonic() < self.down_until

    def trip(self, exc: BaseException) -> None:
        now = time.monotonic()
        with self.lock:
            self.down_until = now + RETRY_SECONDS
            self.failures += 1
            if now - self.warned_at >= WARN_EVERY_SECONDS:
                self.warned_at = now
                log.warning(
                    "cache unreachable (%s: %s); serving without it, %d failure(s) so far",
                    type(exc).__name__,
                    exc,
                    self.failures,
                )

    def recovered(self) -> None:
        if self.failures:
            with self.lock:
                if self.failures:
                    log.warning("cache reachable again after %d failure(s)", self.failures)
                    self.failures = 0


_breakers: dict[str, _Breaker] = {}
_breakers_lock = threading.Lock()


def _guarded(name: str, miss):
    method = getattr(RedisCache, name)

    def guarded(self, *args, **kwargs):
        if self._breaker.open():
            return miss(*args, **kwargs) if callable(miss) else miss
        try:
            result = method(self, *args, **kwargs)
        except _ERRORS as exc:
            self._breaker.trip(exc)
            return miss(*args, **kwargs) if callable(miss) else miss
        self._breaker.recovered()
        return result

    guarded.__name__ = name
    guarded.__doc__ = method.__doc__
    return guarded


def _get_miss(key, default=None, version=None):
    return default


def _incr_miss(key, delta=1, version=None):
    return delta


def _set_many_miss(data, timeout=None, version=None):
    return list(data)


class ResilientRedisCache(RedisCache):
    """django.core.cache.backends.redis.RedisCache whose operations never raise on an outage."""

    def __init__(self, server, params):
        super().__init__(server, params)
        # Django makes one cache object per thread; the breaker (and its once-a-minute warning)
        # is one per process and server.
        with _breakers_lock:
            self._breaker = _breakers.setdefault(str(server), _Breaker())

    def is_down(self) -> bool:
        """True while the last operation failed within RETRY_SECONDS."""
        return self._breaker.open()

    def probe(self) -> bool:
        """Ask Redis now, breaker or not (for /readyz): closes the breaker when it answers, so
        readiness and the cache come back the moment Redis does, not RETRY_SECONDS later."""
        try:
            self._cache.get_client(write=True).ping()
        except _ERRORS as exc:
            self._breaker.trip(exc)
            return False
        with self._breaker.lock:
            self._breaker.down_until = 0.0
        self._breaker.recovered()
        return True

    get = _guarded("get", _get_miss)
    get_many = _guarded("get_many", {})
    has_key = _guarded("has_key", False)
    set = _guarded("set", False)
    set_many = _guarded("set_many", _set_many_miss)
    add = _guarded("add", True)
    touch = _guarded("touch", False)
    delete = _guarded("delete", False)
    delete_many = _guarded("delete_many", None)
    incr = _guarded("incr", _incr_miss)
    clear = _guarded("clear", False)
