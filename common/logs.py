"""Logging that an outage cannot turn into a flood: one line per key per interval."""

from __future__ import annotations

import logging
import threading
import time

_lock = threading.Lock()
_last: dict[str, float] = {}


def warn_every(logger: logging.Logger, key: str, msg: str, *args, seconds: float = 60.0, exc_info=False) -> bool:
    """Log `msg` at WARNING unless `key` was logged within `seconds`. True when it was logged."""
    now = time.monotonic()
    with _lock:
        if now - _last.get(key, -1e9) < seconds:
            return False
        _last[key] = now
    logger.warning(msg, *args, exc_info=exc_info)
    return True
