"""A profile's taste now, and its vector for the serving model.

Served = model: a profile the model was trained on keeps its trained vector. What changed since
training is applied on top, and nothing waits for the nightly retrain:

- trained, nothing changed since            -> the trained vector, as it is;
- trained, new positives or negatives since -> `foldin_update_epochs` WARP epochs on the trained
                                              vector, the item vectors fixed;
- never trained, or a signal it was trained on was withdrawn (the rating deleted or turned down,
  "Not for me", "Don't use this to recommend", history removed: the trained vector remembers
  it)                                       -> folded in afresh: starting from the sum of its user
                                              features (kids, onboarding genres), as LightFM
                                              represents a user, then `foldin_epochs` WARP epochs.

The WARP epochs are LightFM's own (`fit_partial` on a one-user model whose item side is the
serving model's, frozen), with the version's learning rate, sampler and regularization: the
objective the item vectors were trained with. bench/README.md compares this with the ridge
fold-in it replaced. Negatives (down, "Not for me") then push the vector away from what the
profile rejected (WARP has no explicit negatives).

Everything derived for one profile lives under ONE cache key (`profile_cache_key`), checked
against the profile's engagement stamp and the model version: any rating, list add, finish or
"Not for me" moves the stamp, so the next page load recomputes, and a purge is a single delete.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from django.core.cache import cache
from django.db.models import CharField, F, Value

from accounts.models import Profile
from catalog.models import BlockedTitle, HiddenTitle, ListEntry, Rating, SearchClick, ViewingActivity
from ops.metrics import FOLDIN_SECONDS, timed
from privacy import consent

from . import signals
from .models import OnboardingGenre
from .serving import ServingModel

log = logging.getLogger(__name__)

PROFILE_CACHE_SECONDS = 3600
# Adagrad accumulator that makes a parameter's learning rate vanish: the item side stays fixed.
_FROZEN = 1e30
# Negative steps: how many passes, and their size relative to the version's learning rate.
NEGATIVE_EPOCHS = 10
NEGATIVE_STEP = 1.0

# What a positive is called in a reason ("Because you loved Heat").
VERBS = {"love": "loved", "up": "liked", "finished": "watched", "watched": "watched", "list": "added"}
# Kinds that may seed a "Because you ..." row (a search click is too weak to name).
SEED_KINDS = tuple(VERBS)


@dataclass
class Positive:
    title_id: int
    name: str
    kind: str  # a key of signals.STRENGTH
    weight: float
    at: float  # epoch seconds of the most recent signal


@dataclass
class Taste:
    """What the recommender knows about one profile right now (JSON-able)."""

    positives: list[Positive] = field(default_factory=list)
    # Down-rated or "Not for me" titles, with when (epoch seconds).
    negatives: list[tuple[int, float]] = field(default_factory=list)
    # Titles never shown in recommendation rows: rated (any value), watched or in progress,
    # on My List, hidden, blocked for the profile.
    excluded: list[int] = field(default_factory=list)
    genres: list[str] = field(default_factory=list)  # onboarding genre slugs
    # Blocked for the profile by the account holder (viewing restrictions). Still taste (what it
    # watched before stays in its vector), but never named in a reason or a "Because you" row.
    blocked: list[int] = field(default_factory=list)

    @property
    def has_signal(self) -> bool:
        return bool(self.positives) or bool(self.genres)

    @property
    def has_positives(self) -> bool:
        return bool(self.positives)

    @property
    def negative_ids(self) -> list[int]:
        return [t for t, _ in self.negatives]

    def seeds(self, limit: int) -> list[Positive]:
        """The most recent positives that may name a row, newest first (never a blocked title)."""
        blocked = set(self.blocked)
        real = [p for p in self.positives if p.kind in SEED_KINDS and p.title_id not in blocked]
        return sorted(real, key=lambda p: (p.at, signals.STRENGTH[p.kind]), reverse=True)[:limit]

    def to_json(self) -> dict:
        return {
            "positives": [[p.title_id, p.name, p.kind, p.weight, p.at] for p in self.positives],
            "negatives": [[t, at] for t, at in self.negatives],
            "excluded": self.excluded,
            "genres": self.genres,
            "blocked": self.blocked,
        }

    @classmethod
    def from_json(cls, data: dict) -> Taste:
        return cls(
            positives=[Positive(int(t), str(n), str(k), float(w), float(a)) for t, n, k, w, a in data["positives"]],
            negatives=[(int(t), float(at)) for t, at in data["negatives"]],
            excluded=[int(t) for t in data["excluded"]],
            genres=[str(g) for g in data["genres"]],
            # Cached before restrictions existed: nothing was blocked then.
            blocked=[int(t) for t in data.get("blocked", [])],
        )


def tastes_for(profile_ids: list[int], *, now: float | None = None) -> dict[int, Taste]:
    """Read the current signals of many profiles: four queries whatever their number."""
    now = time.time() if now is None else now
    best: dict[int, dict[int, Positive]] = defaultdict(dict)
    negatives: dict[int, dict[int, float]] = defaultdict(dict)
    excluded: dict[int, set[int]] = defaultdict(set)

    def offer(pid: int, tid: int, name: str, kind: str, at) -> None:
        stamp = at.timestamp() if at else 0.0
        weight = signals.weight(
            kind, stamp, now=now, half_life_days=signals.HALF_LIFE_DAYS, floor=signals.RECENCY_FLOOR
        )
        seen = best[pid].get(tid)
        # One positive per title, as in training: the strongest signal, the latest time.
        if seen is None or weight > seen.weight:
            best[pid][tid] = Positive(tid, name, kind, weight, max(stamp, seen.at if seen else 0.0))
        else:
            seen.at = max(seen.at, stamp)

    for pid, tid, name, value, at, ignored in Rating.objects.filter(profile_id__in=profile_ids).values_list(
        "profile_id", "title_id", "title__name", "value", "updated_at", "exclude_from_recommendations"
    ):
        excluded[pid].add(tid)
        if ignored:
            continue
        if value == "down":
            negatives[pid][tid] = at.timestamp()
        else:
            offer(pid, tid, name, value, at)
    for pid, tid, name, completed, pos, dur, at, ignored in ViewingActivity.objects.filter(
        profile_id__in=profile_ids
    ).values_list(
        "profile_id",
        "title_id",
        "title__name",
        "completed",
        "position_seconds",
        "duration_seconds",
        "last_watched_at",
        "exclude_from_recommendations",
    ):
        # A finished film is done; anything in progress already sits in Continue watching.
        excluded[pid].add(tid)
        if ignored:
            continue
        if completed:
            offer(pid, tid, name, "finished", at)
        elif dur and pos / dur >= signals.MOSTLY_WATCHED:
            offer(pid, tid, name, "watched", at)
    # My List, "Not for me", blocked titles and titles opened from search in one round trip.
    # Search clicks count only while the account allows search history.
    allowing = Profile.objects.filter(pk__in=profile_ids, account_id__in=consent.accounts_allowing("search_history"))
    fields = ("profile_id", "title_id", "title__name", "at", "kind")
    saved = (
        ListEntry.objects.filter(profile_id__in=profile_ids)
        .annotate(at=F("added_at"), kind=Value("list", output_field=CharField()))
        .order_by()
        .values_list(*fields)
        .union(
            HiddenTitle.objects.filter(profile_id__in=profile_ids)
            .annotate(at=F("created_at"), kind=Value("hidden", output_field=CharField()))
            .order_by()
            .values_list(*fields),
            BlockedTitle.objects.filter(profile_id__in=profile_ids)
            .annotate(at=F("created_at"), kind=Value("blocked", output_field=CharField()))
            .order_by()
            .values_list(*fields),
            SearchClick.objects.filter(profile_id__in=allowing.values("pk"))
            .annotate(at=F("created_at"), kind=Value("search", output_field=CharField()))
            .order_by()
            .values_list(*fields),
            all=True,
        )
    )
    blocked: dict[int, set[int]] = defaultdict(set)
    for pid, tid, name, at, kind in saved:
        if kind == "blocked":
            # Invisible to the profile: never a candidate. Not a negative (a restriction is the
            # account holder's choice, not the profile's taste).
            blocked[pid].add(tid)
            excluded[pid].add(tid)
            continue
        if kind == "hidden":
            negatives[pid][tid] = at.timestamp()
            excluded[pid].add(tid)
            continue
        offer(pid, tid, name, kind, at)
        if kind == "list":
            # Already saved for later: it has its own row, and recommending it back is noise.
            excluded[pid].add(tid)
    genres: dict[int, list[str]] = defaultdict(list)
    for pid, slug in (
        OnboardingGenre.objects.filter(profile_id__in=profile_ids)
        .order_by("id")
        .values_list("profile_id", "genre__slug")
    ):
        genres[pid].append(slug)
    for pid in negatives:
        # A title rated down or hidden is never a positive, whatever else happened to it.
        for tid in negatives[pid]:
            best[pid].pop(tid, None)
    return {
        pid: Taste(
            positives=list(best[pid].values()),
            negatives=sorted(negatives[pid].items()),
            excluded=sorted(excluded[pid]),
            genres=genres[pid],
            blocked=sorted(blocked[pid]),
        )
        for pid in profile_ids
    }


# --- the vector -------------------------------------------------------------------------------


class _OneUser:
    """A one-user LightFM whose item side is the serving model's, frozen (built once per version)."""

    def __init__(self, model: ServingModel):
        from lightfm import LightFM  # the training library; only fold-ins need it at serving time

        p = model.params
        self.lock = threading.Lock()
        self.n_items = model.n_items
        self.lf = LightFM(
            no_components=model.dim,
            loss="warp",
            learning_schedule=p.learning_schedule,
            learning_rate=p.foldin_learning_rate or p.learning_rate,
            item_alpha=0.0,
            user_alpha=p.user_alpha,
            max_sampled=p.max_sampled,
            random_state=0,
        )
        self.item_features = sp.identity(self.n_items, dtype=np.float32, format="csr")
        self.user_features = sp.identity(1, dtype=np.float32, format="csr")
        # Zero epochs allocate the parameters; then the item side becomes the serving model's.
        empty = sp.coo_matrix((1, self.n_items), dtype=np.float32)
        self.lf.fit_partial(empty, user_features=self.user_features, item_features=self.item_features, epochs=0)
        self.lf.item_embeddings[:] = model.item_vecs
        self.lf.item_biases[:] = model.item_bias
        for name in ("item_embedding_gradients", "item_bias_gradients"):
            getattr(self.lf, name)[:] = _FROZEN
        for name in ("item_embedding_momentum", "item_bias_momentum"):
            getattr(self.lf, name)[:] = 0.0

    def warp(self, start: np.ndarray, rows: np.ndarray, weights: np.ndarray, *, epochs: int, seed: int) -> np.ndarray:
        if epochs <= 0 or not len(rows):
            return start.astype(np.float32)
        inter = sp.coo_matrix(
            (np.ones(len(rows), np.float32), (np.zeros(len(rows), np.int32), rows.astype(np.int32))),
            shape=(1, self.n_items),
        )
        weight = sp.coo_matrix((weights.astype(np.float32), (inter.row, inter.col)), shape=inter.shape)
        lf = self.lf
        with self.lock:
            lf.random_state = np.random.RandomState(seed)
            lf.user_embeddings[0] = start
            lf.user_biases[0] = 0.0
            initial = 1.0 if lf.learning_schedule == "adagrad" else 0.0
            lf.user_embedding_gradients[:] = initial
            lf.user_bias_gradients[:] = initial
            lf.user_embedding_momentum[:] = 0.0
            lf.user_bias_momentum[:] = 0.0
            lf.fit_partial(
                inter,
                user_features=self.user_features,
                item_features=self.item_features,
                sample_weight=weight,
                epochs=epochs,
                num_threads=1,
            )
            return lf.user_embeddings[0].astype(np.float32).copy()


def _one_user(model: ServingModel) -> _OneUser:
    hit = model.memo.get("one-user")
    if hit is None:
        hit = model.memo["one-user"] = _OneUser(model)
    return hit


def _push_away(model: ServingModel, u: np.ndarray, pos_rows: np.ndarray, neg_rows: np.ndarray, seed: int):
    """Pairwise steps until each rejected title scores a margin below the profile's positives."""
    if not len(neg_rows) or not len(pos_rows):
        return u
    rng = np.random.default_rng(seed)
    u = u.astype(np.float64)
    lr = model.params.learning_rate * NEGATIVE_STEP
    vp, vn = model.item_vecs[pos_rows].astype(np.float64), model.item_vecs[neg_rows].astype(np.float64)
    bp, bn = model.item_bias[pos_rows], model.item_bias[neg_rows]
    for _ in range(NEGATIVE_EPOCHS):
        p = rng.integers(0, len(pos_rows), size=len(neg_rows))
        violated = (vn @ u + bn) > (vp[p] @ u + bp[p]) - 1.0
        if not violated.any():
            break
        u += lr * (vp[p][violated] - vn[violated]).sum(axis=0)
    return u.astype(np.float32)


def profile_vector(model: ServingModel, profile_id: int, taste: Taste, *, is_kids: bool) -> np.ndarray | None:
    """The profile's vector for this model (module docstring), or None when there is no taste."""
    if not taste.has_signal:
        return None
    rows, weights, new_rows = [], [], []
    trained = model.trained(profile_id)
    learned = trained[1] if trained is not None else set()
    for p in taste.positives:
        row = model.row_of_title.get(p.title_id)
        if row is not None:
            rows.append(row)
            weights.append(p.weight)
            new_rows.append(p.title_id not in learned)
    rows_a = np.asarray(rows, dtype=np.int64)
    weights_a = np.asarray(weights, dtype=np.float32)
    is_new = np.asarray(new_rows, dtype=bool)
    neg_all = [(model.row_of_title.get(t), at) for t, at in taste.negatives]
    seed = int(profile_id) % (2**31)
    current = {p.title_id for p in taste.positives}
    if trained is not None and not (learned - current):
        neg_new = np.asarray([r for r, at in neg_all if r is not None and at > model.data_cutoff], dtype=np.int64)
        if not is_new.any() and not len(neg_new):
            return trained[0]
        # Only what is new moves the vector; the rest stays as the positives' lookup for sampling.
        u = _one_user(model).warp(
            trained[0],
            rows_a,
            np.where(is_new, weights_a, 0.0),
            epochs=model.params.foldin_update_epochs,
            seed=seed,
        )
        return _push_away(model, u, rows_a, neg_new, seed)
    start = np.zeros(model.dim, dtype=np.float32)
    features = [f"genre:{slug}" for slug in taste.genres] + (["kids"] if is_kids else [])
    for name in features:
        vec = model.user_feature_vecs.get(name)
        if vec is not None:
            start = start + vec
    if model.params.foldin_init_scale > 0 and len(rows_a):
        mean = (model.item_vecs[rows_a] * weights_a[:, None]).sum(axis=0) / max(float(weights_a.sum()), 1e-9)
        start = start + model.params.foldin_init_scale * mean
    u = _one_user(model).warp(start, rows_a, weights_a, epochs=model.params.foldin_epochs, seed=seed)
    neg = np.asarray([r for r, _ in neg_all if r is not None], dtype=np.int64)
    return _push_away(model, u, rows_a, neg, seed)


def profile_cache_key(profile_id: int) -> str:
    return f"recommendations:profile:{profile_id}"


def profile_state(model: ServingModel, profile) -> tuple[Taste, np.ndarray | None]:
    """(taste, vector) of the profile now: from the cache when its stamp and version match."""
    key = profile_cache_key(profile.pk)
    stamp = int(profile.engagement_stamp)
    try:
        cached = cache.get(key)
    except Exception:  # a broken cache only costs a recomputation
        cached = None
    if cached and cached.get("stamp") == stamp and "negatives" in cached.get("taste", {}):
        taste = Taste.from_json(cached["taste"])
        if cached.get("version") == model.version:
            vec = cached.get("vec")
            return taste, (np.asarray(vec, dtype=np.float32) if vec is not None else None)
    else:
        taste = tastes_for([profile.pk])[profile.pk]
    with timed(FOLDIN_SECONDS):  # /metrics: fold-in time, cache misses only
        vec = profile_vector(model, profile.pk, taste, is_kids=profile.is_kids)
    try:
        cache.set(
            key,
            {
                "stamp": stamp,
                "version": model.version,
                "taste": taste.to_json(),
                "vec": vec.tolist() if vec is not None else None,
            },
            timeout=PROFILE_CACHE_SECONDS,
        )
    except Exception:
        log.warning("could not cache the taste of profile %s", profile.pk, exc_info=True)
    return taste, vec
