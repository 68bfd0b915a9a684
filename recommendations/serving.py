"""The serving model: the serving version's representations, cached once per process.

Every web process keeps one `ServingModel` in memory. On each request `get_model()` asks the
shared cache which version serves (`model_registry.SERVING_CACHE_KEY`, bumped on promotion); when the
key is absent it asks the database, at most every `RECHECK_SECONDS`. A different version is
loaded and swapped in without a restart. A cache outage is only a miss (the database names
the version; common/cache.py), so the model in memory keeps serving through it. Anything wrong
(no model yet, files missing) gives None with a reason, so the home page falls back to
non-personal rows instead of failing.

Scoring is numpy only: `item_vecs @ u + item_bias` over the whole catalog (biases folded into
one augmented matrix so it is a single matrix-vector product), `np.argpartition` for top-K.

The model keeps the trained profiles' vectors and what each learned from: a profile the model
was trained on is served from its own trained vector (`recommendations.foldin` decides when
something changed since). Erasure drops a profile's row on disk and in memory (`drop_profiles`).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from django.core.cache import cache

from catalog.selectors import maturity_visible_titles
from common.logs import warn_every

from . import artifacts
from .model_registry import SERVING_CACHE_KEY
from .params import HybridParams
from .selectors import serving_version

log = logging.getLogger(__name__)

# How often (seconds) a process re-asks the database when the cache key is absent, and how
# long it waits before retrying a version whose files could not be read.
RECHECK_SECONDS = 5.0
VISIBLE_SECONDS = 60.0

# Plain-words reasons the home page shows when it cannot personalize.
NO_MODEL = "no-model"
FILES_MISSING = "files-missing"
# No longer produced (a cache outage is a miss now); kept so the reason tables stay complete.
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
    row_of_title: dict[int, int]
    # The trained profiles, sorted, their trained vectors and the positives each learned from
    # (CSR over profile_ids). Served as they are until the profile changes (recommendations.foldin).
    profile_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    user_vecs: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    trained_indptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    trained_title_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # Shared user features ("kids", "genre:<slug>") by name: a new profile starts from their sum,
    # as LightFM represents a user by the sum of its features' embeddings.
    user_feature_vecs: dict[str, np.ndarray] = field(default_factory=dict)
    params: HybridParams = field(default_factory=HybridParams)
    # Epoch seconds when the training data was read (signals after it are new since training).
    data_cutoff: float = 0.0
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
        order = np.argsort(art.profile_ids, kind="stable")
        lengths = np.diff(art.trained_indptr)
        if not np.array_equal(order, np.arange(len(order))):
            starts = art.trained_indptr[:-1][order]
            pieces = [art.trained_title_ids[s : s + n] for s, n in zip(starts, lengths[order], strict=True)]
            trained_ids = np.concatenate(pieces) if pieces else np.zeros(0, np.int64)
            lengths = lengths[order]
        else:
            trained_ids = art.trained_title_ids
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
            row_of_title={int(t): i for i, t in enumerate(art.title_ids)},
            profile_ids=np.asarray(art.profile_ids, dtype=np.int64)[order],
            user_vecs=np.asarray(art.user_vecs, dtype=np.float32)[order],
            trained_indptr=np.r_[0, np.cumsum(lengths)].astype(np.int64),
            trained_title_ids=np.asarray(trained_ids, dtype=np.int64),
            user_feature_vecs=feature_vecs,
            params=HybridParams.from_dict((art.meta or {}).get("params")),
            data_cutoff=float((art.meta or {}).get("data_cutoff", 0.0)),
            meta=dict(art.meta),
        )

    # --- the trained profiles -------------------------------------------------------------

    def trained(self, profile_id: int) -> tuple[np.ndarray, set[int]] | None:
        """(trained vector, title ids it learned from) of a profile in the training data, else None."""
        i = int(np.searchsorted(self.profile_ids, profile_id))
        if i >= len(self.profile_ids) or self.profile_ids[i] != profile_id:
            return None
        titles = self.trained_title_ids[self.trained_indptr[i] : self.trained_indptr[i + 1]]
        return self.user_vecs[i], set(titles.tolist())

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


def top_k_many(scores: np.ndarray, k: int, allowed: np.ndarray) -> list[np.ndarray]:
    """`top_k` for a batch: [b, n] scores and [b, n] masks, one argpartition for all rows."""
    scores = np.where(allowed, scores, -np.inf)
    k = min(k, scores.shape[1])
    if k <= 0:
        return [np.empty(0, dtype=np.int64) for _ in range(scores.shape[0])]
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    top_scores = np.take_along_axis(scores, top, axis=1)
    top = np.take_along_axis(top, np.argsort(-top_scores, axis=1, kind="stable"), axis=1)
    return [row[np.isfinite(scores[i, row])] for i, row in enumerate(top)]


def visible_mask(model: ServingModel, profile) -> np.ndarray:
    """Bool mask over the model's items: visible to this profile's maturity setting.

    Memoized per model and setting for VISIBLE_SECONDS (a publish or a rating change reaches it
    within a minute); the caller copies before changing it. Shared by every profile with that
    setting, so it cannot hold one profile's blocked titles: those reach the rows through
    `Taste.excluded` (recommendations.foldin), and the final load through `visible_titles`.
    """
    key = ("visible", int(profile.maturity_limit), bool(profile.is_kids))
    now = time.monotonic()
    hit = model.memo.get(key)
    if hit is not None and now - hit[0] < VISIBLE_SECONDS:
        return hit[1]
    mask = np.zeros(model.n_items, dtype=bool)
    mask[model.rows_of(maturity_visible_titles(profile).values_list("id", flat=True))] = True
    model.memo[key] = (now, mask)
    return mask


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
    problem: str | None = None  # NO_MODEL / FILES_MISSING when model is None


def reset() -> None:
    """Forget the cached model (tests; and after the serving files were rewritten)."""
    global _state
    _state = _State()


def _serving_version_from_db() -> str | None:
    mv = serving_version()
    return mv.version if mv is not None else None


def _warn_cache_error() -> None:
    # Once a minute, not a traceback per request.
    warn_every(
        log, "serving-cache", "serving: the cache raised; the serving version is read from the database", exc_info=True
    )


def _resolve_version(now: float) -> tuple[str | None, str | None]:
    """(serving version or None, problem). Cheap: the cache key, else the DB now and then."""

    try:
        version = cache.get(SERVING_CACHE_KEY)
    except Exception:  # a cache that raises (Redis is wrapped and never does) is only a miss:
        version = None  # the database below names the serving version just as well
        _warn_cache_error()
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
    return drop_profiles(version=version, profile_ids=[profile_id]) > 0


def drop_profiles(*, version: str, profile_ids) -> int:
    """Remove these profiles' rows (vectors and trained positives) from a version, on disk and in
    memory. Returns how many rows went; 0 when none was there or the files are gone."""
    try:
        art = artifacts.load(version)
    except artifacts.ArtifactsMissing:
        return 0
    dropped = art.without_profiles(profile_ids)
    if not dropped:
        return 0
    artifacts.rewrite_users(art)
    with _state.lock:
        if _state.model is not None and _state.model.version == version:
            _state.model = ServingModel.from_artifacts(art)
    return dropped
