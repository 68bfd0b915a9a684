"""Watching together: one "For all of you" row for 2 to 5 profiles of one account.

What the row may hold: titles every member may see (the intersection of each member's
`visible_titles`, so the strictest maturity limit and every member's blocks apply) that no
member rated, watched, saved or hid (each member's `Taste.excluded` and negatives).

How it is ranked: each member's scores come from the same vector the home uses
(`foldin.profile_state`: trained, updated or folded in), normalized per member over the group's
candidates so that one member's scale cannot dominate, then combined by a group rule:

- `average`: the mean of the members' normalized scores (the most enjoyment overall);
- `least_misery`: the minimum (nobody is left out; the mean breaks ties);
- `blend`: (1 - BLEND_WEIGHT) * mean + BLEND_WEIGHT * minimum.

Normalizations: z-score (each member's scores over the candidates, centred and scaled), rank
percentile, or reciprocal rank (as rank fusion does).

DEFAULT_RULE and DEFAULT_NORMALIZATION are what `bench/bench_together.py` measured best on
synthetic households of real MovieLens users (bench/README.md, "Watching together").

Each title's reason names whose taste it balances ("Alex and Sam both liked Heat"), from the
members' positives only, and only titles every member may see: an adult's R-rated like is never
shown to a kids member. Without a model, or without personalization consent, the row is the
popular titles everyone may see, and says so.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Profile
from catalog.models import Title
from catalog.selectors import hidden_title_ids, titles_with_popularity, visible_titles
from catalog.shelves import ROW_LENGTH, Row, RowItem
from privacy import consent

from . import foldin, serving
from .foldin import Positive, Taste
from .personal_rows import BECAUSE_MIN_SIMILARITY, _join, _sentence
from .serving import ServingModel, top_k, visible_mask

log = logging.getLogger(__name__)

KEY = "together"
TITLE = "For all of you"
MIN_MEMBERS, MAX_MEMBERS = 2, 5

AVERAGE, LEAST_MISERY, BLEND = "average", "least_misery", "blend"
RULES = (AVERAGE, LEAST_MISERY, BLEND)
PERCENTILE, ZSCORE, RECIPROCAL_RANK = "percentile", "zscore", "reciprocal_rank"
NORMALIZATIONS = (PERCENTILE, ZSCORE, RECIPROCAL_RANK)
# Reciprocal rank fusion's constant: 1 / (RRF_K + rank), rank 1 best (Cormack et al. use 60).
RRF_K = 60
# Chosen by bench/bench_together.py (bench/README.md, "Watching together"): the average of z-scores
# was best or tied on both the group's mean nDCG@10 and its worst-served member's, in two samples of
# 200 households; least misery lost on both (it amplifies the noise of the lowest prediction).
DEFAULT_RULE = AVERAGE
DEFAULT_NORMALIZATION = ZSCORE
BLEND_WEIGHT = 0.5
# Least misery alone ties often (two titles both at one member's 60th percentile); a sliver of
# the mean orders those ties without changing anything else.
TIE_BREAK = 1e-6
# A member with no title of theirs to name is still named when the title sits this high on
# their own list (share of the group's candidates it beats).
SUITS_PERCENTILE = 0.9
SEEDS_PER_MEMBER = 10
# Ids in `with`: how many pieces we read at all, and digits per id (an int64 holds 18).
MAX_PIECES = 20
_ID = re.compile(r"[0-9]{1,18}")

# A positive in a reason about someone else ("Sam loved Heat").
VERBS = {"love": "loved", "up": "liked", "finished": "watched", "watched": "watched", "list": "saved"}

_POPULAR = "these are popular titles all of you may watch."
_UNAVAILABLE = f"Group picks are unavailable for a moment, so {_POPULAR}"
FALLBACK_REASONS = {
    "consent": f"Personalization is switched off for this account, so {_POPULAR}",
    serving.NO_MODEL: f"Group picks are still being prepared, so for now {_POPULAR}",
    serving.FILES_MISSING: _UNAVAILABLE,
    serving.CACHE_DOWN: _UNAVAILABLE,
    "error": _UNAVAILABLE,
    "no-signal": f"None of you has rated anything yet, so {_POPULAR}",
}
RULE_PHRASES = {
    AVERAGE: "ranked by what you would enjoy most on average",
    LEAST_MISERY: "ranked so that nobody is left out",
    BLEND: "ranked by what you would all enjoy, without leaving anyone out",
}


class GroupInvalid(ValueError):
    """The chosen profiles do not make a group (the message says why, in plain words)."""


@dataclass
class Together:
    row: Row
    members: list[Profile]
    personalized: bool
    rule: str | None = None
    # Why the row is not personal, when it is not (the row's reason says it too).
    fallback: str | None = None
    extra: dict = field(default_factory=dict)


# --- who is in the group --------------------------------------------------------------------


def parse_with(raw: str | Iterable[str] | None, *, self_id: int) -> list[int]:
    """The other members' ids from `with` ("1,2", or several values): 1 to 4 distinct ids, in
    the order given, the profile itself left out. Raises GroupInvalid with the reason."""
    values = [raw] if isinstance(raw, str) else list(raw or [])
    # Empty pieces ("1,", an unticked form) say nothing; anything else must be an id.
    pieces = [p.strip() for v in values for p in v.split(",") if p.strip()]
    if not pieces:
        raise GroupInvalid(f"Choose 1 to {MAX_MEMBERS - 1} other profiles to watch with.")
    if len(pieces) > MAX_PIECES:
        raise GroupInvalid(f"At most {MAX_MEMBERS} profiles can watch together.")
    ids: list[int] = []
    for piece in pieces:
        # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
        if not _ID.fullmatch(piece):
            raise GroupInvalid(f"“{piece[:20]}” is not a profile id: use whole numbers separated by commas.")
        pid = int(piece)
        if pid != self_id and pid not in ids:
            ids.append(pid)
    if not ids:
        raise GroupInvalid(f"Choose 1 to {MAX_MEMBERS - 1} other profiles to watch with.")
    if len(ids) > MAX_MEMBERS - 1:
        raise GroupInvalid(f"At most {MAX_MEMBERS} profiles can watch together (you and {MAX_MEMBERS - 1} others).")
    return ids


def group_members(*, profile: Profile, other_ids: list[int]) -> list[Profile]:
    """[profile, *others]: the others must be profiles of the same account, else Http404 (never
    a 403 that confirms another account's profile exists). One query."""
    found = {p.pk: p for p in Profile.objects.filter(account_id=profile.account_id, pk__in=other_ids)}
    if len(found) != len(set(other_ids)):
        raise Http404("No such profile in this household.")
    for p in found.values():
        p.account = profile.account  # the same account object: one consent read for all
    return [profile, *(found[pid] for pid in other_ids)]


def visible_to_all(profiles: list[Profile]) -> QuerySet[Title]:
    """Titles every profile may see: visible_titles of each, intersected, minus what any hid."""
    qs = visible_titles(profiles[0])
    for p in profiles[1:]:
        qs = qs.filter(pk__in=visible_titles(p).values("pk"))
    for p in profiles:
        qs = qs.exclude(pk__in=hidden_title_ids(p))
    return qs


# --- the group rules (pure numpy) -----------------------------------------------------------


def normalize(scores: np.ndarray, allowed: np.ndarray, method: str = DEFAULT_NORMALIZATION) -> np.ndarray:
    """[m, n] scores -> [m, n] per-member normalized scores over the `allowed` items (0 elsewhere).

    percentile: the share of the allowed items each item beats, 0..1; zscore: (s - mean) / sd;
    reciprocal_rank: 1 / (RRF_K + rank), rank 1 the member's best (top-heavy, as rank fusion).
    """
    if method not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {', '.join(NORMALIZATIONS)}")
    scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    out = np.zeros_like(scores)
    idx = np.flatnonzero(allowed)
    if not len(idx):
        return out
    sub = scores[:, idx]
    if method in (PERCENTILE, RECIPROCAL_RANK):
        # 0 for the member's worst allowed item, len - 1 for its best.
        ranks = sub.argsort(axis=1, kind="stable").argsort(axis=1, kind="stable")
        if method == PERCENTILE:
            out[:, idx] = ranks / max(len(idx) - 1, 1)
        else:
            out[:, idx] = 1.0 / (RRF_K + (len(idx) - ranks))
    else:
        sd = sub.std(axis=1, keepdims=True)
        out[:, idx] = (sub - sub.mean(axis=1, keepdims=True)) / np.maximum(sd, 1e-9)
    return out


def combine(normalized: np.ndarray, rule: str = DEFAULT_RULE, *, blend_weight: float = BLEND_WEIGHT) -> np.ndarray:
    """[m, n] normalized member scores -> [n] group scores by `rule` (module docstring)."""
    normalized = np.atleast_2d(normalized)
    mean, low = normalized.mean(axis=0), normalized.min(axis=0)
    if rule == AVERAGE:
        return mean
    if rule == LEAST_MISERY:
        return low + TIE_BREAK * mean
    if rule == BLEND:
        return (1.0 - blend_weight) * mean + blend_weight * low
    raise ValueError(f"rule must be one of {', '.join(RULES)}")


# --- the row --------------------------------------------------------------------------------


def _check(profiles: list[Profile]) -> None:
    if not MIN_MEMBERS <= len(profiles) <= MAX_MEMBERS:
        raise GroupInvalid(f"{MIN_MEMBERS} to {MAX_MEMBERS} profiles can watch together.")
    if len({p.account_id for p in profiles}) != 1 or len({p.pk for p in profiles}) != len(profiles):
        raise GroupInvalid("The profiles watching together must be distinct profiles of one account.")


def build_together(
    *,
    profiles: list[Profile],
    rule: str = DEFAULT_RULE,
    normalization: str = DEFAULT_NORMALIZATION,
    blend_weight: float = BLEND_WEIGHT,
    limit: int = ROW_LENGTH,
) -> Together:
    """The "For all of you" row of these profiles (2-5 of one account; GroupInvalid otherwise).

    `rule`, `normalization` and `blend_weight` are there for the benchmark; the product uses the
    defaults. Never raises for a recommender fault: the popular titles all may see instead.
    """
    _check(profiles)
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}")
    if not consent.allows_for(profiles[0].account, "personalization"):
        return popular_together(profiles=profiles, reason="consent", limit=limit)
    lookup = serving.get_model()
    if lookup.model is None:
        return popular_together(profiles=profiles, reason=lookup.problem or serving.NO_MODEL, limit=limit)
    try:
        states = [foldin.profile_state(lookup.model, p) for p in profiles]
        if all(vec is None for _, vec in states):
            return popular_together(profiles=profiles, reason="no-signal", tastes=[t for t, _ in states], limit=limit)
        return _GroupBuilder(lookup.model, profiles, states).build(
            rule=rule, normalization=normalization, blend_weight=blend_weight, limit=limit
        )
    except Exception:  # a recommender fault must never cost the group its row
        log.exception("group row failed for profiles %s; falling back", [p.pk for p in profiles])
        return popular_together(profiles=profiles, reason="error", limit=limit)


class _GroupBuilder:
    def __init__(self, model: ServingModel, profiles: list[Profile], states: list[tuple[Taste, np.ndarray | None]]):
        self.model = model
        self.profiles = profiles
        self.tastes = [t for t, _ in states]
        # A member without any signal yet counts as "what most viewers like" (the item biases:
        # the zero vector's scores), so the others' taste leads without ignoring them.
        self.has_taste = [vec is not None for _, vec in states]
        vectors = [vec if vec is not None else np.zeros(model.dim, np.float32) for _, vec in states]
        self.scores = model.score_many(np.vstack(vectors))
        visible = np.logical_and.reduce([visible_mask(model, p) for p in profiles])
        self.visible = visible
        self.allowed = visible.copy()
        for taste in self.tastes:
            self.allowed[model.rows_of(set(taste.excluded) | set(taste.negative_ids))] = False

    def build(self, *, rule: str, normalization: str, blend_weight: float, limit: int) -> Together:
        model = self.model
        group = combine(normalize(self.scores, self.allowed, normalization), rule, blend_weight=blend_weight)
        # Twice the row: a title visible_titles refuses to a member (the masks are per maturity
        # setting; a block is per profile) drops out at the load below.
        rows = top_k(group, limit * 2, self.allowed)
        ids = [int(model.title_ids[r]) for r in rows]
        seeds = [
            [s for s in taste.seeds(SEEDS_PER_MEMBER) if self._visible_row(s.title_id) is not None] if ok else []
            for taste, ok in zip(self.tastes, self.has_taste, strict=True)
        ]
        wanted = set(ids) | {s.title_id for member in seeds for s in member}
        # ONE query for the row's titles and the titles its reasons may name, through the
        # visibility rule itself (the masks are only a fast pre-filter).
        loaded = (
            visible_to_all(self.profiles).filter(pk__in=wanted).defer("synopsis", "artwork").in_bulk() if wanted else {}
        )
        seeds = [[s for s in member if s.title_id in loaded] for member in seeds]
        kept = [(r, t) for r, t in zip(rows, ids, strict=True) if t in loaded][:limit]
        reasons = self._reasons(np.asarray([r for r, _ in kept], dtype=np.int64), seeds, loaded)
        items = [RowItem(title=loaded[t], reason=reasons[i]) for i, (_, t) in enumerate(kept)]
        names = _join([p.name for p in self.profiles])
        reason = f"Picked for {names}: titles all of you may watch, {RULE_PHRASES[rule]}"
        quiet = [p.name for p, ok in zip(self.profiles, self.has_taste, strict=True) if not ok]
        if quiet:
            reason += f". {_join(quiet)} {'has' if len(quiet) == 1 else 'have'} not rated anything yet"
        if not items:
            reason = "Nothing is left that all of you may watch and none of you has seen"
        return Together(
            row=Row(key=KEY, title=TITLE, reason=_sentence(reason), items=items, personalized=True),
            members=self.profiles,
            personalized=True,
            rule=rule,
            extra={"model_version": model.version, "normalization": normalization},
        )

    def _visible_row(self, title_id: int) -> int | None:
        row = self.model.row_of_title.get(title_id)
        return row if row is not None and self.visible[row] else None

    def _reasons(self, rows: np.ndarray, seeds: list[list[Positive]], loaded: dict) -> list[str]:
        """Per item: which members' positives it is like, by name ("Alex and Sam both liked Heat")."""
        m = len(self.profiles)
        # Each member's cosine similarity of every item to each of their seeds.
        sims = [
            self.model.similar(rows, self.model.rows_of([s.title_id for s in member]))
            if len(member) and len(rows)
            else None
            for member in seeds
        ]
        # Where each item sits on each member's own list (share of the group's candidates it beats).
        pct = np.zeros((m, len(rows)))
        candidates = np.flatnonzero(self.allowed)
        for i in range(m):
            ordered = np.sort(self.scores[i, candidates])
            pct[i] = np.searchsorted(ordered, self.scores[i, rows]) / max(len(ordered) - 1, 1)
        out = []
        for j in range(len(rows)):
            # (member index -> {seed title id: similarity}) above the "because" threshold.
            close: dict[int, dict[int, float]] = {}
            for i, member_sims in enumerate(sims):
                if member_sims is None:
                    continue
                row_sims = member_sims[j]
                hits = {seeds[i][k].title_id: float(s) for k, s in enumerate(row_sims) if s >= BECAUSE_MIN_SIMILARITY}
                if hits:
                    close[i] = hits
            out.append(self._reason(close, seeds, pct[:, j], loaded))
        return out

    def _reason(self, close: dict[int, dict[int, float]], seeds: list[list[Positive]], pct, loaded) -> str:
        names = [p.name for p in self.profiles]
        kind_of = {(i, s.title_id): s.kind for i, member in enumerate(seeds) for s in member}
        parts = []
        left = dict(close)
        # Greedy: the title that most remaining members are close to (a shared like first), then
        # the next, so "Alex and Sam both liked Heat" wins over two separate sentences.
        while left:
            votes: dict[int, list[int]] = {}
            for i, hits in left.items():
                for tid in hits:
                    votes.setdefault(tid, []).append(i)
            tid, who = max(votes.items(), key=lambda kv: (len(kv[1]), sum(left[i][kv[0]] for i in kv[1]), -kv[0]))
            verbs = {VERBS[kind_of[(i, tid)]] for i in who}
            verb = verbs.pop() if len(verbs) == 1 else "liked"
            name = loaded[tid].name
            if len(who) == 1:
                parts.append(f"{names[who[0]]} {verb} {name}")
            else:
                parts.append(f"{_join([names[i] for i in who])} {'both' if len(who) == 2 else 'all'} {verb} {name}")
            for i in who:
                left.pop(i)
        suits = [
            names[i] for i in range(len(names)) if i not in close and self.has_taste[i] and pct[i] >= SUITS_PERCENTILE
        ]
        if parts:
            text = "; ".join(parts)
            return f"{text}; a good fit for {_join(suits)} too" if suits else text
        if suits:
            return f"High on the lists of {_join(suits)}" if len(suits) > 1 else f"A good fit for {suits[0]}"
        tasted = [names[i] for i in range(len(names)) if self.has_taste[i]]
        return f"A middle ground for {_join(tasted or names)}"


def popular_together(
    *, profiles: list[Profile], reason: str, tastes: list[Taste] | None = None, limit: int = ROW_LENGTH
) -> Together:
    """The most rated and watched titles all these profiles may see (the row without a model).

    Titles a member already rated or watched are left out only while the account allows
    personalization: without it, their history is not used to pick anything.
    """
    _check(profiles)
    qs = visible_to_all(profiles)
    if reason != "consent":
        if tastes is None:
            found = foldin.tastes_for([p.pk for p in profiles])
            tastes = [found[p.pk] for p in profiles]
        seen = {t for taste in tastes for t in (*taste.excluded, *taste.negative_ids)}
        if seen:
            qs = qs.exclude(pk__in=seen)
    titles = list(titles_with_popularity(qs.defer("synopsis", "artwork")).order_by("-popularity", "-id")[:limit])
    items = [RowItem(title=t, reason=f"#{rank} most watched and rated on Marquee") for rank, t in enumerate(titles, 1)]
    return Together(
        row=Row(key=KEY, title=TITLE, reason=FALLBACK_REASONS[reason], items=items),
        members=profiles,
        personalized=False,
        fallback=reason,
    )
