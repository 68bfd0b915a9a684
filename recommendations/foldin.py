"""Fold-in: a profile's vector from the serving model's item vectors and its CURRENT interactions.

Nothing waits for the nightly retrain. Each request reads the profile's taste (ratings, viewing,
My List, onboarding genres) and solves a small weighted ridge regression against the item
vectors, the implicit-feedback "fold-in" of Hu, Koren & Volinsky (2008):

    u = (V^T V + lambda I + sum_i (c_i - 1) v_i v_i^T)^-1  sum_{i positive} c_i v_i

with confidence c_i = 1 + ALPHA * weight_i (love > up > finished > mostly watched > My List,
decayed by age) and down-rated titles as confident zeros. V^T V is precomputed per version, so a
fold-in costs one d x d solve. The direction is scaled to a typical trained user vector's length
(so item biases keep their trained weight) and the profile's user-feature vectors (kids,
onboarding genres) are added, as LightFM sums a user's feature embeddings.

Everything derived for one profile lives under ONE cache key (`profile_cache_key`), checked
against the profile's engagement stamp and the model version: any rating, list add or finish
moves the stamp, so the next page load folds in afresh, and a purge is a single delete.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.core.cache import cache
from django.utils import timezone

from catalog.models import ListEntry, Rating, ViewingActivity

from .serving import ServingModel

log = logging.getLogger(__name__)

# Interaction weights: what each signal says about taste (down is handled as a negative).
WEIGHTS = {"love": 4.0, "up": 2.0, "finished": 2.0, "watched": 1.2, "list": 1.0, "started": 0.3}
# A viewing counts as "mostly watched" from this share on.
MOSTLY_WATCHED = 0.5
HALF_LIFE_DAYS = 180.0
MIN_RECENCY = 0.25
ALPHA = 10.0
DOWN_CONFIDENCE = 3.0
RIDGE = 0.1
PROFILE_CACHE_SECONDS = 3600

# What a positive is called in a reason ("Because you loved Heat").
VERBS = {"love": "loved", "up": "liked", "finished": "watched", "watched": "watched", "list": "added"}


@dataclass
class Positive:
    title_id: int
    name: str
    kind: str  # love / up / finished / watched / list / started
    weight: float
    at: float  # epoch seconds of the most recent signal


@dataclass
class Taste:
    """What the recommender knows about one profile right now (JSON-able)."""

    positives: list[Positive] = field(default_factory=list)
    downs: list[int] = field(default_factory=list)
    # Titles never shown in recommendation rows: rated (any value), finished, in progress.
    excluded: list[int] = field(default_factory=list)
    genres: list[str] = field(default_factory=list)  # onboarding genre slugs

    @property
    def has_signal(self) -> bool:
        return any(p.kind != "started" for p in self.positives) or bool(self.genres)

    @property
    def has_positives(self) -> bool:
        return any(p.kind != "started" for p in self.positives)

    def seeds(self, limit: int) -> list[Positive]:
        """The most recent real positives (not merely started), newest first."""
        real = [p for p in self.positives if p.kind != "started"]
        return sorted(real, key=lambda p: (p.at, WEIGHTS[p.kind]), reverse=True)[:limit]

    def to_json(self) -> dict:
        return {
            "positives": [[p.title_id, p.name, p.kind, p.weight, p.at] for p in self.positives],
            "downs": self.downs,
            "excluded": self.excluded,
            "genres": self.genres,
        }

    @classmethod
    def from_json(cls, data: dict) -> Taste:
        return cls(
            positives=[Positive(int(t), str(n), str(k), float(w), float(a)) for t, n, k, w, a in data["positives"]],
            downs=[int(t) for t in data["downs"]],
            excluded=[int(t) for t in data["excluded"]],
            genres=[str(g) for g in data["genres"]],
        )


def _recency(at: datetime | None, now: datetime) -> float:
    if at is None:
        return 1.0
    age_days = max(0.0, (now - at).total_seconds() / 86400.0)
    return max(MIN_RECENCY, math.pow(0.5, age_days / HALF_LIFE_DAYS))


def tastes_for(profile_ids: list[int]) -> dict[int, Taste]:
    """Read the current interactions of many profiles: 4 queries whatever their number."""
    from .models import OnboardingGenre

    now = timezone.now()
    best: dict[int, dict[int, Positive]] = defaultdict(dict)
    downs: dict[int, set[int]] = defaultdict(set)
    excluded: dict[int, set[int]] = defaultdict(set)

    def offer(pid: int, tid: int, name: str, kind: str, at: datetime | None) -> None:
        weight = WEIGHTS[kind] * _recency(at, now)
        stamp = at.timestamp() if at else 0.0
        seen = best[pid].get(tid)
        if seen is None:
            best[pid][tid] = Positive(tid, name, kind, weight, stamp)
            return
        # Signals on one title add up; the strongest kind names it in reasons.
        if WEIGHTS[kind] > WEIGHTS[seen.kind]:
            seen.kind = kind
        seen.weight += weight
        seen.at = max(seen.at, stamp)

    for pid, tid, name, value, at in Rating.objects.filter(profile_id__in=profile_ids).values_list(
        "profile_id", "title_id", "title__name", "value", "updated_at"
    ):
        excluded[pid].add(tid)
        if value == "down":
            downs[pid].add(tid)
        else:
            offer(pid, tid, name, value, at)
    for pid, tid, name, _episode, completed, pos, dur, at in ViewingActivity.objects.filter(
        profile_id__in=profile_ids
    ).values_list(
        "profile_id",
        "title_id",
        "title__name",
        "episode_id",
        "completed",
        "position_seconds",
        "duration_seconds",
        "last_watched_at",
    ):
        share = pos / dur if dur else 0.0
        if completed:
            offer(pid, tid, name, "finished", at)
        elif share >= MOSTLY_WATCHED:
            offer(pid, tid, name, "watched", at)
        else:
            offer(pid, tid, name, "started", at)
        # A finished film is done; anything in progress already sits in Continue watching.
        # (A series with some finished episodes is in progress as a whole.)
        excluded[pid].add(tid)
    for pid, tid, name, at in ListEntry.objects.filter(profile_id__in=profile_ids).values_list(
        "profile_id", "title_id", "title__name", "added_at"
    ):
        offer(pid, tid, name, "list", at)
        # Already saved for later: it has its own row, and recommending it back is noise.
        excluded[pid].add(tid)
    genres: dict[int, list[str]] = defaultdict(list)
    for pid, slug in (
        OnboardingGenre.objects.filter(profile_id__in=profile_ids)
        .order_by("id")
        .values_list("profile_id", "genre__slug")
    ):
        genres[pid].append(slug)
    for pid in downs:
        # A title rated down is never a positive, whatever else happened to it.
        for tid in downs[pid]:
            best[pid].pop(tid, None)
    return {
        pid: Taste(
            positives=list(best[pid].values()),
            downs=sorted(downs[pid]),
            excluded=sorted(excluded[pid]),
            genres=genres[pid],
        )
        for pid in profile_ids
    }


def fold_in(model: ServingModel, taste: Taste, *, is_kids: bool) -> np.ndarray | None:
    """The profile's vector for this model, or None when there is no signal at all."""
    d = model.dim
    rows, conf, target = [], [], []
    for p in taste.positives:
        row = model.row_of_title.get(p.title_id)
        if row is not None:
            rows.append(row)
            conf.append(1.0 + ALPHA * p.weight)
            target.append(1.0)
    for tid in taste.downs:
        row = model.row_of_title.get(tid)
        if row is not None:
            rows.append(row)
            conf.append(1.0 + ALPHA * DOWN_CONFIDENCE)
            target.append(0.0)
    u = np.zeros(d, dtype=np.float64)
    if any(target):
        v = model.item_vecs[rows].astype(np.float64)
        c = np.asarray(conf)
        t = np.asarray(target)
        lam = RIDGE * (np.trace(model.gram) / max(d, 1)) + 1e-6
        a = model.gram + lam * np.eye(d) + (v.T * (c - 1.0)) @ v
        b = v.T @ (c * t)
        direction = np.linalg.solve(a, b)
        norm = np.linalg.norm(direction)
        if norm > 1e-12:
            u = direction / norm * model.user_norm
    features = [f"genre:{slug}" for slug in taste.genres]
    if is_kids:
        features.append("kids")
    used = [model.user_feature_vecs[f] for f in features if f in model.user_feature_vecs]
    if not any(target) and not taste.genres:
        return None
    for vec in used:
        u = u + vec
    return u.astype(np.float32)


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
    if cached and cached.get("stamp") == stamp:
        taste = Taste.from_json(cached["taste"])
        if cached.get("version") == model.version:
            vec = cached.get("vec")
            return taste, (np.asarray(vec, dtype=np.float32) if vec is not None else None)
    else:
        taste = tastes_for([profile.pk])[profile.pk]
    vec = fold_in(model, taste, is_kids=profile.is_kids)
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
        log.warning("could not cache the fold-in of profile %s", profile.pk, exc_info=True)
    return taste, vec
