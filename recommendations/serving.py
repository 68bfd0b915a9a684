"""The serving model: the serving version's representations, cached once per process.

Every web process keeps one `ServingModel` in memory. On each request `get_model()` asks the
shared cache which version serves (`registry.SERVING_CACHE_KEY`, bumped on promotion); when the
key is absent it asks the database, at most every `RECHECK_SECONDS`. A different version is
loaded and swapped in without a restart. Anything wrong (no model yet, files missing, the
cache unreachable) gives None with a reason, so the home page falls back to non-personal rows
instead of failing.

Scoring is numpy only: `item_vecs @ u + item_bias` over the whole catalog (biases folded into
one augmented matrix so it is a single matrix-vector product), `np.argpartition` for top-K.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from django.core.cache import cache

from . import artifacts

log = logging.getLogger(__name__)

# How often (seconds) a process re-asks the database when the cache key is absent, and how
# long it waits before retrying a version whose files could not be read.
RECHECK_SECONDS = 5.0

# Plain-words reasons the home page shows when it cannot personalize.
NO_MODEL = "no-model"
FILES_MISSING = "files-missing"
CACHE_DOWN = "cache-down"


@dataclass
class ServingModel:
    version: str
    title_ids: np.ndarray  # [n] int64, row -> title id
    item_vecs: np.ndarray  # [n, d] float32
    item_bias: np.ndarray  # [n] float32
    # [n, d+1]: item vectors with the bias as a last column, so score = item_aug @ [u, 1].
    item_aug: np.ndarray
    # [n, d] unit-length item vectors for item-to-item cosine similarity.
    item_unit: np.ndarray
    # Gram matrix V^T V (d x d), shared by every fold-in of this version.
    gram: np.ndarray
    # Typical length of a trained user vector: fold-in vectors are scaled to it so that the
    # item biases keep the weight they had in training.
    user_norm: float
    row_of_title: dict[int, int]
    # Per-profile trained vectors are deliberately not kept in memory: every profile is folded
    # in from its current interactions, so an erased profile leaves nothing behind here.
    user_feature_vecs: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    # Short-lived per-process memo of "which item rows may this maturity level see" (see rows).
    memo: dict = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.item_vecs.shape[1])

    @property
    def n_items(self) -> int:
        return int(self.title_ids.shape[0])

    @classmethod
    def from_artifacts(cls, art: artifacts.ModelArtifacts) -> ServingModel:
        item_vecs = np.ascontiguousarray(art.item_vecs, dtype=np.float32)
        item_bias = np.ascontiguousarray(art.item_bias, dtype=np.float32)
        item_aug = np.ascontiguousarray(np.hstack([item_vecs, item_bias[:, None]]), dtype=np.float32)
        norms = np.linalg.norm(item_vecs, axis=1, keepdims=True)
        item_unit = (item_vecs / np.maximum(norms, 1e-9)).astype(np.float32)
        user_vecs = np.asarray(art.user_vecs, dtype=np.float32)
        if len(user_vecs):
            user_norm = float(np.median(np.linalg.norm(user_vecs, axis=1)))
        else:
            user_norm = float(np.median(norms)) if len(norms) else 1.0
        feature_vecs = {
            str(name): np.asarray(vec, dtype=np.float32)
            for name, vec in zip(art.user_feature_names, art.user_feature_vecs, strict=False)
        }
        return cls(
            version=art.version,
            title_ids=np.asarray(art.title_ids, dtype=np.int64),
            item_vecs=item_vecs,
            item_bias=item_bias,
            item_aug=item_aug,
            item_unit=item_unit,
            gram=(item_vecs.T.astype(np.float64) @ item_vecs.astype(np.float64)),
            user_norm=user_norm or 1.0,
            row_of_title={int(t): i for i, t in enumerate(art.title_ids)},
            user_feature_vecs=feature_vecs,
            meta=dict(art.meta),
        )

    # --- scoring ---------------------------------------------------------------------------

    def score(self, user_vec: np.ndarray) -> np.ndarray:
        """Scores of every catalog item for one user vector (bias folded in)."""
        aug = np.empty(self.dim + 1, dtype=np.float32)
        aug[:-1] = user_vec
        aug[-1] = 1.0
        return self.item_aug @ aug

    def score_many(self, user_vecs: np.ndarray) -> np.ndarray:
        """[b, n] scores for a batch of user vectors: one matrix product."""
        return user_vecs.astype(np.float32) @ self.item_vecs.T + self.item_bias

    def rows_of(self, title_ids) -> np.ndarray:
        rows = [self.row_of_title.get(int(t), -1) for t in title_ids]
        return np.asarray([r for r in rows if r >= 0], dtype=np.int64)

    def similar(self, rows: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        """Cosine similarity [len(rows), len(seeds)] between two sets of item rows."""
        return self.item_unit[rows] @ self.item_unit[seeds].T


def top_k(scores: np.ndarray, k: int, allowed: np.ndarray | None = None) -> np.ndarray:
    """Row indices of the k best scores (best first), among `allowed` (bool mask) if given."""
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
        k = min(k, int(np.count_nonzero(allowed)))
    k = min(k, scores.shape[0])
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


# --- the per-process cache ---------------------------------------------------------------


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.model: ServingModel | None = None
        # The version the DB/cache last named (None = no model), when we last asked the DB,
        # and a version whose files failed to load (with when), to avoid hammering the disk.
        self.known_version: str | None = None
        self.db_checked_at: float = -1e9
        self.failed_version: str | None = None
        self.failed_at: float = -1e9


_state = _State()


@dataclass
class Lookup:
    model: ServingModel | None
    problem: str | None = None  # NO_MODEL / FILES_MISSING / CACHE_DOWN when model is None


def reset() -> None:
    """Forget the cached model (tests; and after the serving files were rewritten)."""
    global _state
    _state = _State()


def _serving_version_from_db() -> str | None:
    from .selectors import serving_version

    mv = serving_version()
    return mv.version if mv is not None else None


def _resolve_version(now: float) -> tuple[str | None, str | None]:
    """(serving version or None, problem). Cheap: the cache key, else the DB now and then."""
    from .registry import SERVING_CACHE_KEY

    try:
        version = cache.get(SERVING_CACHE_KEY)
    except Exception:  # any cache backend error means "cache down": fall back
        log.warning("serving cache unreachable; home falls back to non-personal rows", exc_info=True)
        return None, CACHE_DOWN
    if version:
        return str(version), None
    if now - _state.db_checked_at >= RECHECK_SECONDS:
        _state.known_version = _serving_version_from_db()
        _state.db_checked_at = now
    return _state.known_version, (None if _state.known_version else NO_MODEL)


def get_model() -> Lookup:
    """The serving model for this request, loading or swapping it when the version changed."""
    now = time.monotonic()
    version, problem = _resolve_version(now)
    if version is None:
        return Lookup(None, problem or NO_MODEL)
    current = _state.model
    if current is not None and current.version == version:
        return Lookup(current)
    if _state.failed_version == version and now - _state.failed_at < RECHECK_SECONDS:
        return Lookup(None, FILES_MISSING)
    with _state.lock:
        current = _state.model
        if current is not None and current.version == version:
            return Lookup(current)
        try:
            model = ServingModel.from_artifacts(artifacts.load(version))
        except artifacts.ArtifactsMissing:
            log.warning("serving model %s: files missing", version, exc_info=True)
            _state.failed_version, _state.failed_at = version, now
            return Lookup(None, FILES_MISSING)
        _state.model = model
        _state.failed_version = None
        log.info("serving model %s loaded (%d items, d=%d)", version, model.n_items, model.dim)
        return Lookup(model)


def drop_profile(*, version: str, profile_id: int) -> bool:
    """Remove a profile's row from the version's user representations, on disk and in memory."""
    try:
        art = artifacts.load(version)
    except artifacts.ArtifactsMissing:
        return False
    keep = art.profile_ids != profile_id
    if bool(keep.all()):
        return False
    art.profile_ids = art.profile_ids[keep]
    art.user_vecs = art.user_vecs[keep]
    art.user_bias = art.user_bias[keep]
    artifacts.rewrite_users(art)
    with _state.lock:
        if _state.model is not None and _state.model.version == version:
            _state.model = ServingModel.from_artifacts(art)
    return True
