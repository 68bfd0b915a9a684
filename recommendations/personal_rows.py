"""Personalized rows: Top picks, Because you loved X, <Genre> for you, and re-ranked shelves.

Input: the serving model, the profile's taste and folded-in vector, and the catalog's
non-personalized rows (whose candidates are re-ordered for the profile). Output: a list of
`catalog.shelves.Row`, ordered for the profile, each row and each title with a reason a person can
read. Rules kept here:

- recommendation rows never hold a title the profile may not see (`visible_titles`), rated (any
  value), finished, in progress, or disliked;
- a title appears at most twice in the first five rows;
- all the Title objects needed come from ONE query through `visible_titles(profile)`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
from django.urls import reverse

from accounts.models import Profile
from catalog.selectors import hidden_title_ids, visible_titles
from catalog.shelves import ROW_LENGTH, Row, RowItem, RowSpec
from ops.metrics import SCORING_SECONDS, timed

from .catalog_index import CatalogIndex, catalog_index
from .foldin import VERBS, Taste
from .serving import ServingModel, top_k, visible_mask

BECAUSE_ROWS = 2
# The home shows about this many rows, as many as the non-personalized home, so the page costs
# about the same to render: the least relevant scored rows are left out. The pinned rows and
# live collections are never cut; at least MIN_SCORED_ROWS scored rows remain beside them.
MAX_ROWS = 12
MIN_SCORED_ROWS = 3
# Top of the page, in this order, when present; then "Because you searched for ..." rows.
PINNED_ROWS = ("continue-watching", "top-picks", "my-list", "top-10")
SEARCH_ROWS = 2
GENRE_FOR_YOU_ROWS = 2
# A title may appear this many times in the first DEDUP_WINDOW rows.
MAX_REPEATS = 2
DEDUP_WINDOW = 5
# Under this cosine similarity a positive is not a convincing "because".
BECAUSE_MIN_SIMILARITY = 0.35
# Rows that are the profile's own shelves (never re-ranked or filtered as recommendations).
OWN_ROWS = ("continue-watching", "my-list")
# Kept in their own order, never re-ranked or thinned by the de-duplication: a rank is a rank.
RANKED_ROWS = ("top-10",)


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


def _sentence(text: str) -> str:
    """`text` as a sentence: trimmed, capitalized, ending with a full stop (or ! or ?)."""
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


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
        with timed(SCORING_SECONDS):  # /metrics: scoring the whole catalog for one profile
            self.scores = model.score(vector)
        self.excluded_ids = set(taste.excluded) | set(taste.negative_ids)
        visible = visible_mask(model, profile)
        self.allowed = visible.copy()
        self.allowed[model.rows_of(self.excluded_ids)] = False
        # The profile's taste in genres: its positives' genres, weighted, plus onboarding picks.
        genre_weight: Counter = Counter()
        for p in taste.positives:
            for slug in self.index.title_genres.get(p.title_id, []):
                genre_weight[slug] += p.weight
        for slug in taste.genres:
            genre_weight[slug] += 2.0
        self.genre_weight = genre_weight
        self.taste_genres = set(_ranked(genre_weight, 4))
        # A reason never names a title the profile may not see now (its limit may have changed;
        # blocked titles are not seeds at all, see Taste.seeds).
        self.seeds = [
            s for s in taste.seeds(10) if s.title_id in model.row_of_title and visible[model.row_of_title[s.title_id]]
        ]
        self.collection_positions: dict[str, int] = {}
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

    def _among(self, rows: np.ndarray) -> np.ndarray:
        """The allowed items (visible, not excluded) that are among `rows`, as a mask."""
        mask = np.zeros(self.model.n_items, dtype=bool)
        mask[rows] = True
        return mask & self.allowed

    def _draft(self, key: str, title: str, reason: str, rows: np.ndarray, reasons: dict[int, str]) -> _Draft:
        return _Draft(key=key, title=title, reason=reason, ids=self._ids(rows), reasons=reasons)

    def top_picks(self) -> _Draft:
        rows = top_k(self.scores, ROW_LENGTH * 2, self.allowed)
        return self._draft("top-picks", "Top picks for you", self._summary(), rows, self.pick_reasons(rows))

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
            title, reason = f"Because you {verb} {seed.name}", f"Titles closest to {seed.name}, which you {verb}"
            drafts.append(self._draft(f"because-{seed.title_id}", title, reason, rows, reasons))
        return drafts

    def genre_rows(self) -> list[_Draft]:
        by_genre = _genre_rows(self.model, self.index)
        drafts = []
        for slug in _ranked(self.genre_weight, GENRE_FOR_YOU_ROWS):
            candidates = by_genre.get(slug)
            if candidates is None or not len(candidates):
                continue
            rows = top_k(self.scores, ROW_LENGTH * 2, self._among(candidates))
            if len(rows) < 3:
                continue
            name = self.index.genre_names.get(slug, slug)
            reason = f"You often enjoy {name.lower()}; these are the ones we think you'll like most"
            drafts.append(
                self._draft(f"genre-for-you-{slug}", f"{name} for you", reason, rows, self.pick_reasons(rows))
            )
        return drafts

    def search_rows(self, interests: list[dict]) -> list[_Draft]:
        """ "Because you searched for ...": a recent search that names a genre, tag or person."""
        drafts = []
        for interest in interests:
            if len(drafts) >= SEARCH_ROWS:
                break
            rows = top_k(self.scores, ROW_LENGTH, self._among(self.model.rows_of(interest["title_ids"])))
            if len(rows) < 2:
                continue
            name = interest["name"]
            what = {
                "genre": f"{name.lower()} titles",
                "tag": f"titles tagged “{name}”",
                "person": f"titles with {name}",
            }
            query = interest["query"]
            reason = (
                f"You searched for “{query}” recently: {what[interest['kind']]}, "
                "the ones we think you'll like most first."
            )
            because = f"Because you searched for “{query}”"
            reasons = {int(self.model.title_ids[r]): because for r in rows}
            drafts.append(
                self._draft(f"searched-{interest['kind']}-{interest['slug']}", because, reason, rows, reasons)
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
            reason=f"{_sentence(spec.reason)} Ordered for your taste." if spec.reason else "Ordered for your taste.",
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
    """The page, top to bottom: the pinned rows, then the scored rows by their mean top score
    (only these are cut, to MAX_ROWS in all), with each live collection at its curator's
    position among them."""
    by_key = {d.key: d for d in drafts}
    pinned = [by_key[k] for k in PINNED_ROWS if k in by_key]
    pinned += [d for d in drafts if d.key.startswith("searched-")]
    collections = [d for d in drafts if d.key.startswith("collection-")]
    rest = [d for d in drafts if d not in pinned and d not in collections]
    rest.sort(key=builder.mean_score, reverse=True)
    rest = rest[: max(MIN_SCORED_ROWS, MAX_ROWS - len(pinned) - len(collections))]
    # Collections come in the curator's order (catalog.shelves.collection_specs); each goes to its
    # `position` among the rows after the pinned ones, whatever its score.
    for draft in sorted(collections, key=lambda d: builder.collection_positions.get(d.key, 0)):
        rest.insert(min(builder.collection_positions.get(draft.key, 0), len(rest)), draft)
    return pinned + rest


def _dedupe(drafts: list[_Draft]) -> list[_Draft]:
    """At most MAX_REPEATS appearances of a title in the first DEDUP_WINDOW rows shown."""
    seen: Counter = Counter()
    out = []
    for draft in drafts:
        if draft.key in RANKED_ROWS:
            seen.update(draft.ids)
            out.append(draft)
            continue
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
    *,
    profile: Profile,
    model: ServingModel,
    taste: Taste,
    vector: np.ndarray,
    catalog_specs: list[RowSpec],
    search_interests: list[dict] | None = None,
) -> tuple[list[Row], dict]:
    """The profile's rows, ordered and de-duplicated, plus a summary for "why" pages."""
    search_interests = search_interests or []
    b = RowBuilder(profile=profile, model=model, taste=taste, vector=vector)
    drafts = [b.top_picks(), *b.because_rows(), *b.genre_rows(), *b.search_rows(search_interests)]
    for_you = {d.key.removeprefix("genre-for-you-") for d in drafts if d.key.startswith("genre-for-you-")}
    for spec in catalog_specs:
        if spec.key in OWN_ROWS or spec.key in RANKED_ROWS:
            drafts.append(b.own(spec))
        elif spec.key.startswith("genre-") and spec.key.removeprefix("genre-") in for_you:
            continue  # the profile's own "<Genre> for you" row replaces the generic one
        else:
            draft = b.reranked(spec)
            if draft is not None:
                drafts.append(draft)
    b.collection_positions = {s.key: s.position for s in catalog_specs if s.position is not None}
    drafts = _dedupe(_order(b, [d for d in drafts if d.ids]))

    # ONE query for every title of every row, through the visibility rule itself (the score
    # mask is only a fast pre-filter).
    wanted = {t for d in drafts for t in d.ids}
    # Cards show names, years and posters: the long synopsis and the artwork file stay unloaded.
    # A title marked "Not for me" leaves every row, the profile's own shelves included.
    loaded = (
        {
            t.pk: t
            for t in visible_titles(profile)
            .filter(pk__in=wanted)
            .exclude(pk__in=hidden_title_ids(profile))
            .defer("synopsis", "artwork")
        }
        if wanted
        else {}
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
        rows.append(
            Row(
                key=d.key,
                title=d.title,
                reason=_sentence(d.reason),
                items=items,
                why_url=reverse("recommendation-why", args=[d.key]) if d.personal else None,
                personalized=d.personal,
            )
        )
    summary = {
        "seeds": [{"title_id": s.title_id, "name": s.name, "verb": VERBS[s.kind]} for s in b.seeds[:5]],
        "genres": [b.index.genre_names.get(g, g) for g in _ranked(b.genre_weight, 4)],
    }
    return rows, summary
