"""Retention: what is kept only for a while, purged by beat (see the Privacy schedule in settings).

The periods live in settings (SEARCH_RETENTION_DAYS, VIEWING_RETENTION_DAYS,
EXPORT_EXPIRY_DAYS); the policy page reads the same settings, so there is one copy of each
number. The purges themselves are registered by the apps that own the data.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils import timezone

from . import registry
from .exports import exports_expire

log = logging.getLogger(__name__)


def retention_purge(*, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    purged = registry.retention_purge(now)
    purged["exports_expired"] = exports_expire(now=now)
    log.info("retention purge: %s", ", ".join(f"{k}={v}" for k, v in sorted(purged.items())))
    return purged
