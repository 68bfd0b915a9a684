"""Training data straight from the database: interactions, weights and features as numpy/scipy.

No ORM object per interaction: every read is a `values_list` streamed into `np.fromiter`, and
aggregation (one positive per profile and title, the strongest signal, the latest time) is
done in numpy. Only profiles whose account allows personalization contribute
(`contributing_profiles`, the one place that asks).

What counts as a positive and how strongly is `recommendations.signals` (shared with serving):
ratings up/love, finished or mostly watched viewings, My List, titles opened from search. A
title rated down or marked "Not for me" is never a positive for the profile, whatever else
happened; a signal marked "Don't use this to recommend" is left out altogether. Weight =
strength x recency, as `HybridParams` says (`weighted`, `half_life_days`, `recency_floor`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from django.db import connection
from django.db.models import F, FloatField, Func, Q

from accounts.models import Profile
from catalog.models import (
    Credit,
    CreditRole,
    HiddenTitle,
    ListEntry,
    Rating,
    RatingValue,
    SearchClick,
    Title,
    TitleTag,
    ViewingActivity,
)
from privacy import consent

from . import signals
from .models import OnboardingGenre
from .params import HybridParams

TOP_BILLED = 3  # credit order < 3
MIN_FEATURE_TITLES = 2  # a feature seen on one title only is the identity feature again


class EpochSeconds(Func):
    """A datetime column as float seconds since the epoch, computed by the database.

    Converting to Python datetimes row by row would dominate assembly time.
    """

    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)")

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::float8")


@dataclass
class TrainingData:
    profile_ids: np.ndarray  # [n_users] int64, sorted
    title_ids: np.ndarray  # [n_items] int64, sorted
    users: np.ndarray  # [n] user index per positive
    items: np.ndarray  # [n] item index per positive
    strength: np.ndarray  # [n] float32
    timestamps: np.ndarray  # [n] float64 epoch seconds
    weights: np.ndarray  # [n] float32 strength x recency
    item_features: sp.csr_matrix
    item_feature_names: list[str]
    user_features: sp.csr_matrix
    user_feature_names: list[str]
    counts: dict = field(default_factory=dict)
    # Epoch seconds when the data was read: serving treats later signals as "new since training".
    cutoff: float = 0.0

    def positives_of(self) -> tuple[np.ndarray, np.ndarray]:
        """(indptr [n_users + 1], title ids) of each profile's positives: what its vector learned."""
        order = np.lexsort((self.items, self.users))
        counts = np.bincount(self.users, minlength=len(self.profile_ids))
        indptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
        return indptr, self.title_ids[self.items[order]].astype(np.int64)

    def interactions(self, mask: np.ndarray | None = None) -> tuple[sp.coo_matrix, sp.coo_matrix]:
        """(interactions, sample_weight) COO matrices with identical row/col order, as LightFM wants."""
        u, i, w = self.users, self.items, self.weights
        if mask is not None:
            u, i, w = u[mask], i[mask], w[mask]
        shape = (len(self.profile_ids), len(self.title_ids))
        inter = sp.coo_matrix((np.ones(len(u), dtype=np.float32), (u, i)), shape=shape)
        weight = sp.coo_matrix((w.astype(np.float32), (u, i)), shape=shape)
        return inter, weight


# --- who contributes --------------------------------------------------------------------------


def contributing_profiles():
    """Profiles whose account allows personalization: the only ones whose data trains a model."""
    return Profile.objects.filter(account_id__in=consent.accounts_allowing("personalization"))


# --- interactions -----------------------------------------------------------------------------


def _fetch(qs, fields, dtype) -> np.ndarray:
    # Streamed: a server-side cursor on PostgreSQL, chunks on SQLite; never a list of tuples.
    return np.fromiter(qs.values_list(*fields).iterator(chunk_size=20_000), dtype=dtype)


def count_interactions() -> int:
    """All engagement rows that could become positives (the retrain trigger counts these)."""
    return Rating.objects.count() + ViewingActivity.objects.count() + ListEntry.objects.count()


def aggregate_pairs(
    users: np.ndarray, items: np.ndarray, strength: np.ndarray, ts: np.ndarray, n_items: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One row per (user, item): the strongest signal and the latest time. Sorted by key."""
    if len(users) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, np.float32), np.zeros(0, np.float64)
    key = users.astype(np.int64) * n_items + items.astype(np.int64)
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(key)) + 1]
    s = np.maximum.reduceat(strength[order], starts)
    t = np.maximum.reduceat(ts[order], starts)
    k = key[starts]
    return k // n_items, k % n_items, s.astype(np.float32), t


def load_interactions(profile_ids: np.ndarray, title_ids: np.ndarray, params: HybridParams):
    """Positives of the contributing profiles as index arrays (see the module docstring)."""
    contributing = contributing_profiles().values("id")
    i8, f8 = np.int64, np.float64
    ratings = _fetch(
        Rating.objects.filter(profile_id__in=contributing, exclude_from_recommendations=False),
        ("profile_id", "title_id", "value", EpochSeconds("updated_at")),
        [("p", i8), ("t", i8), ("v", "U4"), ("ts", f8)],
    )
    # The 50% rule is evaluated by the database, so unwatched rows never leave it.
    viewing = _fetch(
        ViewingActivity.objects.filter(profile_id__in=contributing, exclude_from_recommendations=False)
        .alias(twice=F("position_seconds") * 2)
        .filter(Q(completed=True) | Q(duration_seconds__gt=0, twice__gte=F("duration_seconds"))),
        ("profile_id", "title_id", EpochSeconds("last_watched_at")),
        [("p", i8), ("t", i8), ("ts", f8)],
    )
    listed = _fetch(
        ListEntry.objects.filter(profile_id__in=contributing),
        ("profile_id", "title_id", EpochSeconds("added_at")),
        [("p", i8), ("t", i8), ("ts", f8)],
    )
    searched = _fetch(
        SearchClick.objects.filter(
            profile_id__in=contributing, profile__account_id__in=consent.accounts_allowing("search_history")
        ),
        ("profile_id", "title_id", EpochSeconds("created_at")),
        [("p", i8), ("t", i8), ("ts", f8)],
    )
    hidden = _fetch(
        HiddenTitle.objects.filter(profile_id__in=contributing), ("profile_id", "title_id"), [("p", i8), ("t", i8)]
    )
    is_down = ratings["v"] == RatingValue.DOWN
    rated_pos = ratings[~is_down] if params.down_strength <= 0 else ratings
    strength = signals.STRENGTH
    parts = [
        (
            rated_pos,
            np.select(
                [rated_pos["v"] == RatingValue.LOVE, rated_pos["v"] == RatingValue.UP],
                [strength["love"], strength["up"]],
                default=params.down_strength,
            ),
        ),
        (viewing, np.full(len(viewing), strength["watched"])),
        (listed, np.full(len(listed), strength["list"])),
        (searched, np.full(len(searched), strength["search"])),
    ]
    p = np.concatenate([part["p"] for part, _ in parts])
    t = np.concatenate([part["t"] for part, _ in parts])
    ts = np.concatenate([part["ts"] for part, _ in parts])
    s = np.concatenate([w for _, w in parts])

    u_idx, i_idx, keep = _index(p, t, profile_ids, title_ids)
    users, items, s, times = aggregate_pairs(u_idx, i_idx, s[keep], ts[keep], len(title_ids))
    # A down rating or "Not for me" vetoes the pair: watched-and-disliked is not a positive.
    veto_p = np.concatenate([hidden["p"], ratings["p"][is_down] if params.down_strength <= 0 else hidden["p"][:0]])
    veto_t = np.concatenate([hidden["t"], ratings["t"][is_down] if params.down_strength <= 0 else hidden["t"][:0]])
    du, di, _ = _index(veto_p, veto_t, profile_ids, title_ids)
    if len(du):
        down_keys = du * len(title_ids) + di
        ok = ~np.isin(users * len(title_ids) + items, down_keys)
        users, items, s, times = users[ok], items[ok], s[ok], times[ok]
    raw = len(ratings) + len(viewing) + len(listed) + len(searched)
    return users, items, s, times, raw


def _index(p, t, profile_ids, title_ids):
    """Map ids to row/column indices, dropping ids outside the sets (unpublished titles...)."""
    u = np.searchsorted(profile_ids, p)
    i = np.searchsorted(title_ids, t)
    u_ok = (
        (u < len(profile_ids)) & (profile_ids[np.minimum(u, len(profile_ids) - 1)] == p)
        if len(profile_ids)
        else np.zeros(len(p), bool)
    )
    i_ok = (
        (i < len(title_ids)) & (title_ids[np.minimum(i, len(title_ids) - 1)] == t)
        if len(title_ids)
        else np.zeros(len(t), bool)
    )
    keep = u_ok & i_ok
    return u[keep].astype(np.int64), i[keep].astype(np.int64), keep


# --- features ---------------------------------------------------------------------------------


def feature_matrix(
    n_rows: int,
    identity_names: list[str],
    rows: np.ndarray,
    names: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    min_rows: int = MIN_FEATURE_TITLES,
    meta_weight: float = 1.0,
) -> tuple[sp.csr_matrix, list[str]]:
    """Identity columns (weight 1) followed by metadata columns, each row's metadata summing to
    `meta_weight`. Built directly as CSR; LightFM is then given it as-is (no normalization there,
    which would otherwise shrink the identity weight of every title that has metadata).

    `rows[j]` has feature `names[j]` with raw weight `weights[j]` (default 1). Features present on
    fewer than `min_rows` rows are dropped: they would only duplicate the identity feature.
    """
    rows = np.asarray(rows, dtype=np.int64)
    names = np.asarray(names, dtype=str)
    weights = np.ones(len(rows)) if weights is None else np.asarray(weights, dtype=np.float64)
    ident = sp.identity(n_rows, dtype=np.float32, format="csr")
    if len(rows) == 0 or meta_weight <= 0:
        return ident, list(identity_names)
    uniq, col = np.unique(names, return_inverse=True)
    # Drop duplicates of (row, feature), then features that are too rare.
    meta = sp.csr_matrix((weights, (rows, col)), shape=(n_rows, len(uniq)))
    meta.sum_duplicates()
    df = np.diff(meta.tocsc().indptr)
    keep = np.flatnonzero(df >= min_rows)
    meta = meta[:, keep]
    row_sums = np.asarray(meta.sum(axis=1)).ravel()
    scale = np.divide(meta_weight, row_sums, out=np.zeros_like(row_sums), where=row_sums > 0)
    meta = sp.diags(scale) @ meta
    matrix = sp.hstack([ident, meta.astype(np.float32)], format="csr")
    return matrix, list(identity_names) + [str(n) for n in uniq[keep]]


def top_per_row(rows: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Mask keeping each row's k heaviest entries."""
    if len(rows) == 0:
        return np.zeros(0, dtype=bool)
    order = np.lexsort((-weights, rows))
    r = rows[order]
    starts = np.r_[0, np.flatnonzero(np.diff(r)) + 1]
    pos = np.arange(len(r)) - np.repeat(starts, np.diff(np.r_[starts, len(r)]))
    mask = np.zeros(len(rows), dtype=bool)
    mask[order[pos < k]] = True
    return mask


def decade_name(years: np.ndarray) -> np.ndarray:
    return np.char.add("decade:", (years // 10 * 10).astype(str))


def item_features(title_ids: np.ndarray, params: HybridParams) -> tuple[sp.csr_matrix, list[str]]:
    """identity + genres + top tags + decade + kind + maturity + top-billed people + directors."""
    identity = [f"title:{t}" for t in title_ids]
    if not params.item_metadata:
        return sp.identity(len(title_ids), dtype=np.float32, format="csr"), identity
    published = Title.objects.filter(is_published=True)
    titles = np.array(
        list(published.values_list("id", "year", "kind", "maturity_rating").order_by("id")),
        dtype=object,
    ).reshape(-1, 4)
    parts_rows, parts_names, parts_w = [], [], []

    def add(ids, names, w=None):
        idx = np.searchsorted(title_ids, ids)
        ok = (idx < len(title_ids)) & (title_ids[np.minimum(idx, len(title_ids) - 1)] == ids)
        parts_rows.append(idx[ok])
        parts_names.append(np.asarray(names, dtype=str)[ok])
        parts_w.append(np.ones(ok.sum()) if w is None else np.asarray(w, dtype=np.float64)[ok])

    if len(titles):
        ids = titles[:, 0].astype(np.int64)
        has_year = np.array([y is not None for y in titles[:, 1]])
        add(ids[has_year], decade_name(titles[has_year, 1].astype(np.int64)))
        add(ids, np.char.add("kind:", titles[:, 2].astype(str)))
        add(ids, np.char.add("maturity:", titles[:, 3].astype(str)))
    g = _fetch(
        Title.genres.through.objects.filter(title__is_published=True),
        ("title_id", "genre__slug"),
        [("t", np.int64), ("g", object)],
    )
    add(g["t"], np.char.add("genre:", g["g"].astype(str)))
    tags = _fetch(
        TitleTag.objects.filter(title__is_published=True),
        ("title_id", "tag__slug", "weight"),
        [("t", np.int64), ("g", object), ("w", np.float64)],
    )
    tags = tags[top_per_row(tags["t"], tags["w"], params.top_tags)]
    add(tags["t"], np.char.add("tag:", tags["g"].astype(str)), np.maximum(tags["w"], 0.0))
    credits = _fetch(
        Credit.objects.filter(title__is_published=True).filter(
            Q(role=CreditRole.DIRECTOR) | Q(role=CreditRole.ACTOR, order__lt=TOP_BILLED)
        ),
        ("title_id", "person_id", "role"),
        [("t", np.int64), ("p", np.int64), ("r", "U10")],
    )
    add(
        credits["t"],
        np.char.add(np.where(credits["r"] == CreditRole.DIRECTOR, "director:", "person:"), credits["p"].astype(str)),
    )
    rows = np.concatenate(parts_rows) if parts_rows else np.zeros(0, np.int64)
    names = np.concatenate(parts_names) if parts_names else np.zeros(0, str)
    weights = np.concatenate(parts_w) if parts_w else np.zeros(0)
    matrix, names = feature_matrix(len(title_ids), identity, rows, names, weights, meta_weight=params.meta_weight)
    if params.normalize_item_features:
        sums = np.asarray(matrix.sum(axis=1)).ravel()
        matrix = sp.csr_matrix(sp.diags(1.0 / np.maximum(sums, 1e-12)) @ matrix, dtype=np.float32)
    return matrix, names


def user_features(profile_ids: np.ndarray) -> tuple[sp.csr_matrix, list[str]]:
    """identity + "kids" + "genre:<slug>" for each onboarding genre pick."""
    kids = np.fromiter(contributing_profiles().filter(is_kids=True).values_list("id", flat=True), dtype=np.int64)
    picks = _fetch(
        OnboardingGenre.objects.filter(profile_id__in=contributing_profiles().values("id")),
        ("profile_id", "genre__slug"),
        [("p", np.int64), ("g", object)],
    )
    rows = np.concatenate([np.searchsorted(profile_ids, kids), np.searchsorted(profile_ids, picks["p"])])
    names = np.concatenate([np.full(len(kids), "kids"), np.char.add("genre:", picks["g"].astype(str))])
    ok = rows < len(profile_ids)
    ok[ok] &= profile_ids[rows[ok]] == np.concatenate([kids, picks["p"]])[ok]
    # min_rows=1: a user feature is shared by design (a new profile folds in through it).
    return feature_matrix(len(profile_ids), [f"profile:{p}" for p in profile_ids], rows[ok], names[ok], min_rows=1)


def assemble(params: HybridParams | None = None, *, on_step: Callable[[str], None] | None = None) -> TrainingData:
    """Everything a training run needs, read in a handful of streamed queries.

    `on_step(name)` hears when the second part starts ("Building features"), for progress."""
    params = params or HybridParams()
    cutoff = time.time()
    profile_ids = np.fromiter(contributing_profiles().order_by("id").values_list("id", flat=True), dtype=np.int64)
    title_ids = np.fromiter(
        Title.objects.filter(is_published=True).order_by("id").values_list("id", flat=True), dtype=np.int64
    )
    users, items, strength, ts, raw = load_interactions(profile_ids, title_ids, params)
    if params.weighted:
        now = None
        if params.recency_reference == "profile" and len(users):
            latest = np.full(len(profile_ids), -np.inf)
            np.maximum.at(latest, users, ts)
            now = latest[users]
        rec = signals.recency(ts, now=now, half_life_days=params.half_life_days, floor=params.recency_floor)
        weights = (strength * rec).astype(np.float32)
    else:
        weights = np.ones(len(users), dtype=np.float32)
    if on_step is not None:
        on_step("Building features")
    i_feat, i_names = item_features(title_ids, params)
    u_feat, u_names = user_features(profile_ids)
    return TrainingData(
        profile_ids=profile_ids,
        title_ids=title_ids,
        users=users,
        items=items,
        strength=strength,
        timestamps=ts,
        weights=weights,
        item_features=i_feat,
        item_feature_names=i_names,
        user_features=u_feat,
        user_feature_names=u_names,
        counts={
            "profiles": len(profile_ids),
            "titles": len(title_ids),
            "interactions": len(users),
            "raw_interactions": raw,
            "item_features": len(i_names),
            "user_features": len(u_names),
            "db_vendor": connection.vendor,
        },
        cutoff=cutoff,
    )
