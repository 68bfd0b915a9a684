"""Named leases in the database: single flight that a crash cannot wedge.

`acquire(name, holder, ttl)` succeeds when the lease is free or lapsed; the holder renews it
(`renew`, usually from `Heartbeat`) well within the TTL; `release` frees it only for its
holder. Every step is one conditional UPDATE, atomic on PostgreSQL and SQLite alike, and the
database (not the cache) holds it, so a cache outage cannot break it either.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .models import Lease


def acquire(name: str, holder: str, *, ttl: float) -> bool:
    now = timezone.now()
    until = now + timedelta(seconds=ttl)
    if not Lease.objects.filter(pk=name).exists():
        try:
            with transaction.atomic():
                Lease.objects.create(name=name, holder=holder, expires_at=until, acquired_at=now, renewed_at=now)
            return True
        except IntegrityError:
            pass  # another claimant created it first: compete for it below
    free = Q(holder="") | Q(expires_at__isnull=True) | Q(expires_at__lt=now)
    return bool(
        Lease.objects.filter(free, pk=name).update(holder=holder, expires_at=until, acquired_at=now, renewed_at=now)
    )


def renew(name: str, holder: str, *, ttl: float) -> bool:
    now = timezone.now()
    return bool(
        Lease.objects.filter(pk=name, holder=holder).update(expires_at=now + timedelta(seconds=ttl), renewed_at=now)
    )


def release(name: str, holder: str) -> None:
    Lease.objects.filter(pk=name, holder=holder).update(holder="", expires_at=None)


def current(name: str) -> Lease | None:
    """The live lease (held and not lapsed), or None."""
    lease = Lease.objects.filter(pk=name).first()
    if lease is None or not lease.holder or lease.expires_at is None or lease.expires_at < timezone.now():
        return None
    return lease
