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


# --- deleting versions, and what stays on disk -------------------------------------------------

# A version that serves, or is being trained, is never deleted: the first would leave nothing
# serving while home/ still names it; the second belongs to a running training.
PROTECTED_STATUSES = (ModelStatus.SERVING, ModelStatus.TRAINING)


class VersionProtected(Exception):
    """The version serves or is being trained: it cannot be deleted."""


def is_protected(mv: ModelVersion) -> bool:
    return mv.status in PROTECTED_STATUSES


def version_delete(mv: ModelVersion) -> None:
    """Delete a version's row and, after commit, its files (`_files_follow_the_row`)."""
    with transaction.atomic():
        locked = ModelVersion.objects.select_for_update().filter(pk=mv.pk).first()
        if locked is None:
            return
        if is_protected(locked):
            raise VersionProtected(f"model {locked.version} is {locked.status}; it cannot be deleted")
        locked.delete()


def versions_prune(*, keep: int | None = None) -> dict:
    """Keep the files of the `keep` most recent versions (MODEL_VERSIONS_KEEP, 5) plus the
    serving one and any in training; delete the files of the rest, and folders under
    MODEL_ROOT that no row names. Rows stay (their metrics are the registry's history); a
    version without files can no longer be rolled back to. Safe to run twice."""
    from django.conf import settings

    keep = settings.MODEL_VERSIONS_KEEP if keep is None else keep
    rows = list(ModelVersion.objects.order_by("-created_at", "-id").values_list("version", "status"))
    kept = {v for v, status in rows if status in PROTECTED_STATUSES}
    recent = [v for v, status in rows if status not in PROTECTED_STATUSES][: max(0, keep)]
    kept |= set(recent)
    named = {v for v, _ in rows}
    pruned, orphans = [], []
    for folder in artifacts.stored_versions():
        if folder in kept:
            continue
        (pruned if folder in named else orphans).append(folder)
        artifacts.delete(folder)
    if pruned or orphans:
        log.info(
            "model files pruned: %d versions beyond the last %d, %d folders without a row",
            len(pruned),
            keep,
            len(orphans),
        )
    return {"kept": sorted(kept), "pruned": pruned, "orphans": orphans}


def _refuse_protected(sender, instance: ModelVersion, **kwargs) -> None:
    # Every way of deleting (admin, shell, a queryset) goes through here.
    if is_protected(instance):
        raise VersionProtected(f"model {instance.version} is {instance.status}; it cannot be deleted")


def _files_follow_the_row(sender, instance: ModelVersion, **kwargs) -> None:
    # A folder without its row would keep profiles' rows out of reach of erasure.
    version = instance.version
    transaction.on_commit(lambda: artifacts.delete(version))


def connect_signals() -> None:
    from django.db.models.signals import post_delete, pre_delete

    pre_delete.connect(_refuse_protected, sender=ModelVersion, dispatch_uid="model-version-protected")
    post_delete.connect(_files_follow_the_row, sender=ModelVersion, dispatch_uid="model-version-files")
