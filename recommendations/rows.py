"""Personalized rows: Top picks, Because you loved X, <Genre> for you, and re-ranked shelves.

Input: the serving model, the profile's taste and folded-in vector, and the catalog's
non-personalized rows (whose candidates are re-ordered for the profile). Output: a list of
`catalog.rows.Row`, ordered for the profile, each row and each title with a reason a person can
read. Rules kept here:

- recommendation rows never hold a title the profile may not see (`visible_titles`), rated (any
  value), finished, in progress, or disliked;
- a title appears at most twice in the first five rows;
- all the Title objects needed come from ONE query through `visible_titles(profile)`.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
from django.urls import reverse

from accounts.models import Profile
from catalog.models import Genre, Title
from catalog.rows import Row, RowItem, RowSpec
from catalog.selectors import visible_titles

from .foldin import VERBS, Taste
from .serving import ServingModel, top_k

ROW_LENGTH = 20
BECAUSE_ROWS = 2
# The home shows at most this many rows (the least relevant shelves are left out): about as many
# as the non-personalized home, so the page costs about the same to render.
MAX_ROWS = 12
GENRE_ROWS = 2
# A title may appear this many times in the first DEDUP_WINDOW rows.
MAX_REPEATS = 2
DEDUP_WINDOW = 5
# Under this cosine similarity a positive is not a convincing "because".
BECAUSE_MIN_SIMILARITY = 0.35
INDEX_SECONDS = 300.0
VISIBLE_SECONDS = 60.0
# Rows that are the profile's own shelves (never re-ranked or filtered as recommendations).
OWN_ROWS = ("continue-watching", "my-list")


# --- per-process catalog index: genres of titles (changes rarely; refreshed every few minutes)


@dataclass
class CatalogIndex:
    built_at: float
    genre_names: dict[str, str]  # slug -> name
    title_genres: dict[int, list[str]]  # title id -> genre slugs


_index: CatalogIndex | None = None


def catalog_index() -> CatalogIndex:
    global _index
    now = time.monotonic()
    if _index is None or now - _index.built_at > INDEX_SECONDS:
        names = dict(Genre.objects.values_list("slug", "name"))
        pairs: dict[int, list[str]] = defaultdict(list)
        for tid, slug in Title.genres.through.objects.values_list("title_id", "genre__slug").order_by("id"):
            pairs[tid].append(slug)
        _index = CatalogIndex(built_at=now, genre_names=names, title_genres=dict(pairs))
    return _index


def reset_index() -> None:
    global _index
    _index = None


def _visible_rows(model: ServingModel, profile: Profile) -> np.ndarray:
    """Bool mask over the model's items: visible to this maturity level (memoized briefly)."""
    key = ("visible", int(profile.maturity_limit), bool(profile.is_kids))
    now = time.monotonic()
    hit = model.memo.get(key)
    if hit is not None and now - hit[0] < VISIBLE_SECONDS:
        return hit[1]
    mask = np.zeros(model.n_items, dtype=bool)
    ids = visible_titles(profile).values_list("id", flat=True)
    mask[model.rows_of(ids)] = True
    model.memo[key] = (now, mask)
    return mask


def _genre_rows(model: ServingModel, index: CatalogIndex) -> dict[str, np.ndarray]:
    hit = model.memo.get("genre_rows")
    if hit is not None and hit[0] == index.built_at:
        return hit[1]
    by_genre: dict[str, list[int]] = defaultdict(list)
    for tid, slugs in index.title_genres.items():
        row = model.row_of_title.get(tid)
        if row is not None:
            for slug in slugs:
                by_genre[slug].append(row)
    out = {slug: np.asarray(rows, dtype=np.int64) for slug, rows in by_genre.items()}
    model.memo["genre_rows"] = (index.built_at, out)
    return out


def _join(words: list[str]) -> str:
    words = [w for w in words if w]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _ranked(counter: Counter, limit: int) -> list[str]:
    return [k for k, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


@dataclass
class _Draft:
    key: str
    title: str
    reason: str
    ids: list[int]
    reasons: dict[int, str]
    personal: bool = True
    progress: dict[int, float | None] | None = None


class RowBuilder:
    def __init__(self, *, profile: Profile, model: ServingModel, taste: Taste, vector: np.ndarray):
        self.profile = profile
        self.model = model
        self.taste = taste
        self.index = catalog_index()
        self.scores = model.score(vector)
        excluded_rows = model.rows_of(set(taste.excluded) | set(taste.downs))
        self.allowed = _visible_rows(model, profile).copy()
        self.allowed[excluded_rows] = False
        self.excluded_ids = set(taste.excluded) | set(taste.downs)
        # The profile's taste in genres: its positives' genres, weighted, plus onboarding picks.
        genre_weight: Counter = Counter()
        for p in taste.positives:
            for slug in self.index.title_genres.get(p.title_id, []):
                genre_weight[slug] += p.weight
        for slug in taste.genres:
            genre_weight[slug] += 2.0
        self.genre_weight = genre_weight
        self.taste_genres = set(_ranked(genre_weight, 4))
        self.seeds = [s for s in taste.seeds(10) if s.title_id in model.row_of_title]
        self.seed_rows = np.asarray([model.row_of_title[s.title_id] for s in self.seeds], dtype=np.int64)

    # --- reasons -------------------------------------------------------------------------

    def genre_name(self, slug: str) -> str:
        return self.index.genre_names.get(slug, slug).lower()

    def taste_reason(self, tid: int) -> str | None:
        shared = [g for g in self.index.title_genres.get(tid, []) if g in self.taste_genres]
        shared.sort(key=lambda g: -self.genre_weight[g])
        if not shared:
            return None
        return f"Matches your taste for {_join([self.genre_name(g) for g in shared[:2]])}"

    def pick_reasons(self, rows: np.ndarray) -> dict[int, str]:
        """Per item: the positive it is most like ("Because you loved Heat"), else genres."""
        reasons: dict[int, str] = {}
        sims = self.model.similar(rows, self.seed_rows) if len(self.seed_rows) and len(rows) else None
        for i, row in enumerate(rows):
            tid = int(self.model.title_ids[row])
            if sims is not None:
                j = int(np.argmax(sims[i]))
                if sims[i, j] >= BECAUSE_MIN_SIMILARITY:
                    seed = self.seeds[j]
                    reasons[tid] = f"Because you {VERBS[seed.kind]} {seed.name}"
                    continue
            reasons[tid] = self.taste_reason(tid) or "Popular with viewers who share your taste"
        return reasons

    # --- rows --------------------------------------------------------------------------

    def _ids(self, rows: np.ndarray) -> list[int]:
        return [int(self.model.title_ids[r]) for r in rows]

    def top_picks(self) -> _Draft:
        rows = top_k(self.scores, ROW_LENGTH * 2, self.allowed)
        return _Draft(
            key="top-picks",
            title="Top picks for you",
            reason=self._summary(),
            ids=self._ids(rows),
            reasons=self.pick_reasons(rows),
        )

    def _summary(self) -> str:
        parts = []
        if self.seeds:
            parts.append(f"what you {VERBS[self.seeds[0].kind]}, like {self.seeds[0].name}")
        if self.taste_genres:
            names = [self.genre_name(g) for g in _ranked(self.genre_weight, 2)]
            parts.append(f"your taste for {_join(names)}")
        return "Chosen for you from " + (" and ".join(parts) if parts else "what viewers like you enjoy")

    def because_rows(self) -> list[_Draft]:
        drafts = []
        used_titles: set[int] = set()
        for seed, seed_row in zip(self.seeds, self.seed_rows, strict=False):
            if len(drafts) >= BECAUSE_ROWS:
                break
            if seed.title_id in used_titles:
                continue
            used_titles.add(seed.title_id)
            sim = self.model.item_unit @ self.model.item_unit[seed_row]
            rows = top_k(sim, ROW_LENGTH * 2, self.allowed)
            rows = rows[sim[rows] > 0]
            if len(rows) < 3:
                continue
            seed_genres = set(self.index.title_genres.get(seed.title_id, []))
            reasons = {}
            for row in rows:
                tid = int(self.model.title_ids[row])
                shared = [g for g in self.index.title_genres.get(tid, []) if g in seed_genres]
                reasons[tid] = (
                    f"Shares {_join([self.genre_name(g) for g in shared[:2]])} with {seed.name}"
                    if shared
                    else f"Viewers who liked {seed.name} enjoy this too"
                )
            verb = VERBS[seed.kind]
            drafts.append(
                _Draft(
                    key=f"because-{seed.title_id}",
                    title=f"Because you {verb} {seed.name}",
                    reason=f"Titles closest to {seed.name}, which you {verb}",
                    ids=self._ids(rows),
                    reasons=reasons,
                )
            )
        return drafts

    def genre_rows(self) -> list[_Draft]:
        by_genre = _genre_rows(self.model, self.index)
        drafts = []
        for slug in _ranked(self.genre_weight, GENRE_ROWS):
            candidates = by_genre.get(slug)
            if candidates is None or not len(candidates):
                continue
            mask = np.zeros(self.model.n_items, dtype=bool)
            mask[candidates] = True
            rows = top_k(self.scores, ROW_LENGTH * 2, mask & self.allowed)
            if len(rows) < 3:
                continue
            name = self.index.genre_names.get(slug, slug)
            reasons = self.pick_reasons(rows)
            drafts.append(
                _Draft(
                    key=f"genre-for-you-{slug}",
                    title=f"{name} for you",
                    reason=f"You often enjoy {name.lower()}; these are the ones we think you'll like most",
                    ids=self._ids(rows),
                    reasons=reasons,
                )
            )
        return drafts

    def reranked(self, spec: RowSpec) -> _Draft | None:
        """A catalog shelf (trending, new, collection, genre) filtered and re-ordered by score."""
        items = [(tid, reason) for tid, reason, _ in spec.items if tid not in self.excluded_ids]
        if not items:
            return None
        floor = float(self.scores.min()) - 1.0 if self.model.n_items else 0.0

        def score(item: tuple[int, str]) -> float:
            r = self.model.row_of_title.get(item[0])
            return float(self.scores[r]) if r is not None else floor

        items.sort(key=score, reverse=True)
        return _Draft(
            key=spec.key,
            title=spec.title,
            reason=f"{spec.reason}, ordered for your taste" if spec.reason else "Ordered for your taste",
            ids=[tid for tid, _ in items],
            reasons={tid: reason or self.taste_reason(tid) or spec.title for tid, reason in items},
        )

    def own(self, spec: RowSpec) -> _Draft:
        return _Draft(
            key=spec.key,
            title=spec.title,
            reason=spec.reason,
            ids=[tid for tid, _, _ in spec.items],
            reasons={tid: reason for tid, reason, _ in spec.items},
            personal=False,
            progress={tid: progress for tid, _, progress in spec.items},
        )

    def mean_score(self, draft: _Draft) -> float:
        rows = self.model.rows_of(draft.ids[:5])
        if not len(rows):
            return float("-inf")
        return float(self.scores[rows].mean())


def _order(builder: RowBuilder, drafts: list[_Draft]) -> list[_Draft]:
    """Continue watching first, then Top picks, then every other row by its mean top score."""
    first = [d for d in drafts if d.key == "continue-watching"]
    picks = [d for d in drafts if d.key == "top-picks"]
    rest = [d for d in drafts if d.key not in ("continue-watching", "top-picks")]
    rest.sort(key=builder.mean_score, reverse=True)
    return first + picks + rest


def _dedupe(drafts: list[_Draft]) -> list[_Draft]:
    """At most MAX_REPEATS appearances of a title in the first DEDUP_WINDOW rows shown."""
    seen: Counter = Counter()
    out = []
    for draft in drafts:
        if len(out) < DEDUP_WINDOW:
            ids = [t for t in draft.ids if seen[t] < MAX_REPEATS]
            if draft.personal:
                # Titles not shown yet lead the row, so each row starts with something new.
                ids = ([t for t in ids if not seen[t]] + [t for t in ids if seen[t]])[:ROW_LENGTH]
            if not ids:
                continue
            seen.update(ids)
            draft.ids = ids
        elif draft.personal:
            draft.ids = draft.ids[:ROW_LENGTH]
        out.append(draft)
    return out


def personalized_rows(
    *, profile: Profile, model: ServingModel, taste: Taste, vector: np.ndarray, catalog_specs: list[RowSpec]
) -> tuple[list[Row], dict]:
    """The profile's rows, ordered and de-duplicated, plus a summary for "why" pages."""
    b = RowBuilder(profile=profile, model=model, taste=taste, vector=vector)
    drafts = [b.top_picks(), *b.because_rows(), *b.genre_rows()]
    for_you = {d.key.removeprefix("genre-for-you-") for d in drafts if d.key.startswith("genre-for-you-")}
    for spec in catalog_specs:
        if spec.key in OWN_ROWS:
            drafts.append(b.own(spec))
        elif spec.key.startswith("genre-") and spec.key.removeprefix("genre-") in for_you:
            continue  # the profile's own "<Genre> for you" row replaces the generic one
        else:
            draft = b.reranked(spec)
            if draft is not None:
                drafts.append(draft)
    drafts = _dedupe(_order(b, [d for d in drafts if d.ids]))[:MAX_ROWS]

    # ONE query for every title of every row, through the visibility rule itself (the score
    # mask is only a fast pre-filter).
    wanted = {t for d in drafts for t in d.ids}
    # Cards show names, years and posters: the long synopsis and the artwork file stay unloaded.
    loaded = (
        {t.pk: t for t in visible_titles(profile).filter(pk__in=wanted).defer("synopsis", "artwork")} if wanted else {}
    )

    rows = []
    for d in drafts:
        items = [
            RowItem(title=loaded[t], reason=d.reasons.get(t, ""), progress=(d.progress or {}).get(t))
            for t in d.ids
            if t in loaded
        ]
        if not items:
            continue
        row = Row(key=d.key, title=d.title, reason=d.reason, items=items)
        # Read by the home template's "Why am I seeing this?" link (personal rows only).
        row.why_url = reverse("recommendation-why", args=[d.key]) if d.personal else None
        row.personalized = d.personal
        rows.append(row)
    summary = {
        "seeds": [{"title_id": s.title_id, "name": s.name, "verb": VERBS[s.kind]} for s in b.seeds[:5]],
        "genres": [b.index.genre_names.get(g, g) for g in _ranked(b.genre_weight, 4)],
    }
    return rows, summary
