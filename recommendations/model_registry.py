"""The model-version registry: which version serves, promotion and rollback.

Exactly one version serves at a time: promotion retires the previous one in the same
transaction (and the partial unique constraint `one_serving_model` backs it). After the commit
the cache key `SERVING_CACHE_KEY` holds the serving version string, so every web process's
in-memory model cache (serving side) notices the change on its next request and swaps
without a restart.
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from . import artifacts
from .models import ModelStatus, ModelVersion

log = logging.getLogger(__name__)

SERVING_CACHE_KEY = "recommendations:serving_version"
# Versions that may become serving again through a rollback.
ROLLBACK_STATUSES = (ModelStatus.READY, ModelStatus.RETIRED)


class PromotionError(Exception):
    """The version cannot serve (unknown, wrong status, or its artifacts are missing)."""


def _publish(version: str) -> None:
    # A broken cache must not undo a committed promotion: the serving side also falls back
    # to the database when the key is absent.
    try:
        cache.set(SERVING_CACHE_KEY, version, timeout=None)
    except Exception:
        log.warning("could not publish serving version %s to the cache", version, exc_info=True)


def artifacts_exist(version: str) -> bool:
    folder = artifacts.version_dir(version)
    return all((folder / name).is_file() for name in ("meta.json", "items.npz", "users.npz"))


def promote(version: str, *, allowed_from: tuple[str, ...] = (ModelStatus.TRAINING, ModelStatus.READY)) -> ModelVersion:
    """Make `version` the serving one and retire the previous serving version, atomically."""
    if not artifacts_exist(version):
        raise PromotionError(f"model {version}: artifacts are missing")
    with transaction.atomic():
        # Lock the rows involved so two promotions cannot interleave.
        mv = ModelVersion.objects.select_for_update().filter(version=version).first()
        if mv is None:
            raise PromotionError(f"model {version} does not exist")
        if mv.status == ModelStatus.SERVING:
            transaction.on_commit(lambda: _publish(version))
            return mv
        if mv.status not in allowed_from:
            raise PromotionError(f"model {version} is {mv.status}; it cannot serve")
        now = timezone.now()
        list(ModelVersion.objects.select_for_update().filter(status=ModelStatus.SERVING))
        ModelVersion.objects.filter(status=ModelStatus.SERVING).update(status=ModelStatus.RETIRED)
        mv.status = ModelStatus.SERVING
        mv.promoted_at = now
        mv.save(update_fields=["status", "promoted_at"])
        transaction.on_commit(lambda: _publish(version))
    log.info("model %s now serves", version)
    return mv


def rollback_to(version: str) -> ModelVersion:
    """Serve an earlier version again (only ready/retired ones whose artifacts exist)."""
    return promote(version, allowed_from=ROLLBACK_STATUSES)


def can_roll_back_to(mv: ModelVersion) -> bool:
    return mv.status in ROLLBACK_STATUSES and artifacts_exist(mv.version)
