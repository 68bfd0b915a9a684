"""Personalized artwork: which poster variant (catalog.posters.VARIANTS) a profile sees.

A contextual Thompson-sampling bandit over the variants:

- Context: the profile's taste, as the genre family (catalog.posters.genre_family) of most of
  the titles it liked or watched; "any" without a taste yet, or without personalization
  consent (the context is read from ratings and viewing, which only personalization may use).
- Arms: the variants. Each (context, variant) has a Beta(1 + takes, 1 + impressions - takes)
  posterior, summed over titles from ArtworkStat: an impression is a card shown in a home
  row (catalog.signals.rows_shown), a take is that card opened (title_opened_from_row, whose
  link carries `&art=<variant>`).
- Choice: Thompson sampling in its probability-matching form. P(variant is best) is estimated
  by Monte Carlo draws from the posteriors (seeded by the counts, so the same counts give the
  same probabilities in every process), bounded into [FLOOR, CEILING], and each card then
  picks a variant with those probabilities using a uniform number hashed from
  (profile, page token, title). That is one Thompson draw per card, in distribution.
- Bounded exploration: no variant's probability goes below FLOOR (5%: a variant that lost
  early keeps being shown a little, so the bandit can recover when tastes change) nor above
  CEILING (90%: even a clear winner leaves 10% of cards to the others).
- Stable within a page view: the policy is computed once per request and memoized on the
  request's profile object. The page token is the STABLE_SECONDS time bucket and a context's
  probabilities are frozen (cached) for the bucket, so reloading within it shows the same
  variants; the posteriors move on at the next bucket (the bandit learns in 15-minute steps).
- Consent: analytics only. Without it, the default variant and nothing is learned.

What is learned is aggregate counters per (title, context, variant), with no profile, so
nothing here is personal data. Per profile, only short-lived cache entries: the taste context
(a family name, recomputed when the profile's engagement stamp moves, gone within the hour),
and two flags (a home page counted in this time bucket, a title taken in it; they expire with
the bucket and hold no content) that keep reloads from counting one impression or click twice.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from accounts.models import Profile
from catalog.models import Rating, RatingValue, Title, ViewingActivity
from catalog.posters import DEFAULT_VARIANT, VARIANTS, genre_family
from privacy import consent

from .artwork_models import ArtworkStat

logger = logging.getLogger(__name__)

ANY_CONTEXT = "any"
STABLE_SECONDS = 15 * 60
FLOOR = 0.05
CEILING = 0.90
MONTE_CARLO_DRAWS = 4000
# Staff see a variant's take rate only from this many impressions on (a handful of views would
# let a rate point at one viewer's click).
MIN_IMPRESSIONS_SHOWN = 20
MAX_TASTE_TITLES = 500
# A profile's context (a genre family name, derived from its ratings and viewing) is cached this
# long at most; a deleted profile's entry expires with it.
TASTE_CACHE_SECONDS = 3600
_MEMO_ATTR = "_marquee_artwork_policy"


# --- The bandit (pure) ---------------------------------------------------------------------------


def bounded(probabilities: Mapping[str, float], *, floor: float = FLOOR, ceiling: float = CEILING) -> dict[str, float]:
    """Probabilities clipped into [floor, ceiling], the rest spread over the unclipped ones in
    proportion, so they still sum to 1 (water-filling; a few rounds settle it)."""
    keys = list(probabilities)
    p = np.array([max(0.0, probabilities[k]) for k in keys], dtype=float)
    p = p / p.sum() if p.sum() > 0 else np.full(len(keys), 1 / len(keys))
    floor = min(floor, 1 / len(keys))
    ceiling = max(ceiling, 1 / len(keys))
    fixed = np.zeros(len(keys), dtype=bool)
    for _ in range(len(keys) + 1):
        low, high = (p < floor - 1e-12) & ~fixed, (p > ceiling + 1e-12) & ~fixed
        if not (low.any() or high.any()):
            break
        p[low], p[high] = floor, ceiling
        fixed |= low | high
        free = ~fixed
        rest = 1.0 - p[fixed].sum()
        if free.any() and p[free].sum() > 0:
            p[free] = p[free] / p[free].sum() * rest
    return {k: float(v) for k, v in zip(keys, p, strict=True)}


def thompson_probabilities(
    counts: Mapping[str, tuple[int, int]], *, draws: int = MONTE_CARLO_DRAWS, seed: str = ""
) -> dict[str, float]:
    """P(each variant has the highest take rate) under Beta(1 + takes, 1 + misses) posteriors,
    by Monte Carlo. `counts` maps variant -> (impressions, takes). Deterministic: the draws are
    seeded by the counts (and `seed`)."""
    keys = list(counts)
    digest = hashlib.sha256(repr((seed, sorted(counts.items()))).encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
    alpha = np.array([1 + min(counts[k][1], counts[k][0]) for k in keys], dtype=float)
    beta = np.array([1 + max(counts[k][0] - counts[k][1], 0) for k in keys], dtype=float)
    samples = rng.beta(alpha, beta, size=(draws, len(keys)))
    wins = np.bincount(samples.argmax(axis=1), minlength=len(keys))
    return {k: float(w) / draws for k, w in zip(keys, wins, strict=True)}


def has_upload(title: Title) -> bool:
    """Whether the title has uploaded artwork, without a query: home rows load titles with the
    artwork field deferred, and then this answers False (the variant URL serves an upload anyway,
    catalog.views.title_poster)."""
    return "artwork" not in title.get_deferred_fields() and bool(title.artwork)


def _unit(*parts: object) -> float:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class ArtworkPolicy:
    """What one page view shows: the probabilities of each variant for this profile's context."""

    profile_id: int | None
    context: str
    token: int
    probabilities: dict[str, float] = field(default_factory=lambda: {DEFAULT_VARIANT: 1.0})
    learning: bool = False  # analytics consent: impressions and takes are counted

    def choose(self, title_id: int) -> str:
        if not self.learning:
            return DEFAULT_VARIANT
        u = _unit("artwork", self.profile_id, self.token, title_id)
        cumulative = 0.0
        for variant in VARIANTS:
            cumulative += self.probabilities.get(variant, 0.0)
            if u < cumulative:
                return variant
        return VARIANTS[-1]


# --- Reads ---------------------------------------------------------------------------------------


def taste_context(profile: Profile) -> str:
    """The genre family most of the profile's liked or watched titles belong to; ANY_CONTEXT
    without a taste or without personalization consent. Cached with the profile's engagement
    stamp (a rating or a viewing moves it), as the recommender caches its taste: one query
    only when the taste changed."""
    if not consent.allows_for(profile.account, "personalization"):
        return ANY_CONTEXT
    key = f"artwork:taste:v1:{profile.pk}"
    stamp = int(profile.engagement_stamp)
    cached = cache.get(key)
    if isinstance(cached, dict) and cached.get("stamp") == stamp and isinstance(cached.get("context"), str):
        return cached["context"]
    context = _taste_context_read(profile)
    cache.set(key, {"stamp": stamp, "context": context}, TASTE_CACHE_SECONDS)
    return context


def _taste_context_read(profile: Profile) -> str:
    liked = Rating.objects.filter(
        profile=profile, value__in=[RatingValue.UP, RatingValue.LOVE], exclude_from_recommendations=False
    ).values("title_id")
    watched = ViewingActivity.objects.filter(profile=profile, exclude_from_recommendations=False).values("title_id")
    pairs = (
        Title.genres.through.objects.filter(Q(title_id__in=liked) | Q(title_id__in=watched))
        .values_list("title_id", "genre__name")
        .order_by()[: MAX_TASTE_TITLES * 4]
    )
    genres: dict[int, list[str]] = defaultdict(list)
    for title_id, name in pairs:
        genres[title_id].append(name)
    if not genres:
        return ANY_CONTEXT
    families = Counter(genre_family(names) for names in genres.values())
    best = max(families.values())
    # Ties go to the alphabetically first family: stable, whatever order the rows came in.
    return min(f for f, n in families.items() if n == best)


def all_counts() -> dict[str, dict[str, tuple[int, int]]]:
    """context -> variant -> (impressions, takes) summed over titles: one query for every
    context (a few dozen rows)."""
    out: dict[str, dict[str, tuple[int, int]]] = {}
    rows = (
        ArtworkStat.objects.filter(variant__in=VARIANTS)
        .values("context", "variant")
        .annotate(i=Sum("impressions"), t=Sum("takes"))
        .order_by()
    )
    for row in rows:
        counts = out.setdefault(row["context"], dict.fromkeys(VARIANTS, (0, 0)))
        counts[row["variant"]] = (int(row["i"] or 0), int(row["t"] or 0))
    return out


def context_counts(context: str) -> dict[str, tuple[int, int]]:
    """variant -> (impressions, takes) summed over titles, for one context."""
    return all_counts().get(context, dict.fromkeys(VARIANTS, (0, 0)))


def context_probabilities(context: str, token: int) -> dict[str, float]:
    """The bounded Thompson probabilities of a context for one time bucket. The bucket's first
    page view reads every context's counters (one query) and caches their probabilities for
    the bucket (aggregate, shared by every profile), so every page view of the bucket shows
    the same variants, whichever context it has."""
    key = f"artwork:policy:v2:{token}"
    table = cache.get(key)
    if not isinstance(table, dict):
        table = {ctx: bounded(thompson_probabilities(counts, seed=ctx)) for ctx, counts in all_counts().items()}
        # Kept for two buckets: a take from a page opened just before the bucket turned is
        # checked against the previous bucket's choice (take_record).
        cache.set(key, table, 2 * STABLE_SECONDS)
    probabilities = table.get(context)
    if isinstance(probabilities, dict) and set(probabilities) == set(VARIANTS):
        return {k: float(v) for k, v in probabilities.items()}
    # Nothing counted for this context yet: the flat prior's probabilities (no query).
    return bounded(thompson_probabilities(dict.fromkeys(VARIANTS, (0, 0)), seed=context))


def page_token(now=None) -> int:
    return int((now or timezone.now()).timestamp() // STABLE_SECONDS)


def policy_for(profile: Profile | None, *, now=None, token: int | None = None) -> ArtworkPolicy:
    """The artwork policy of one page view. Memoized on the profile object (which lives for one
    request), so the home's impression receiver and its cards agree; pass `token` to start a
    new page view on a long-lived object (the benchmark does)."""
    memo = getattr(profile, _MEMO_ATTR, None) if profile is not None else None
    if memo is not None and (token is None or memo.token == token):
        return memo
    token = page_token(now) if token is None else token
    if profile is None or profile.pk is None:
        return ArtworkPolicy(profile_id=None, context=ANY_CONTEXT, token=token)
    if not consent.allows_for(profile.account, "analytics"):
        policy = ArtworkPolicy(profile_id=profile.pk, context=ANY_CONTEXT, token=token)
    else:
        context = taste_context(profile)
        probabilities = context_probabilities(context, token)
        policy = ArtworkPolicy(
            profile_id=profile.pk, context=context, token=token, probabilities=probabilities, learning=True
        )
    setattr(profile, _MEMO_ATTR, policy)
    return policy


def title_rates(title: Title) -> list[dict]:
    """Per-variant impressions, takes and take rate of one title (all contexts), for staff.
    `rate` is None below MIN_IMPRESSIONS_SHOWN impressions."""
    rows = {
        r["variant"]: r
        for r in ArtworkStat.objects.filter(title=title)
        .values("variant")
        .annotate(impressions=Sum("impressions"), takes=Sum("takes"))
        .order_by()
    }
    out = []
    for variant in VARIANTS:
        r = rows.get(variant, {})
        shown, taken = int(r.get("impressions") or 0), int(r.get("takes") or 0)
        enough = shown >= MIN_IMPRESSIONS_SHOWN
        out.append(
            {
                "variant": variant,
                "is_default": variant == DEFAULT_VARIANT,
                "impressions": shown if enough else None,
                "takes": taken if enough else None,
                "rate": (taken / shown) if enough else None,
            }
        )
    return out


# --- Writes --------------------------------------------------------------------------------------


def _add(rows: Iterable[tuple[int, str, str, int, int]], now) -> int:
    """Add (title_id, context, variant, impressions, takes) to the counters: one upsert
    (INSERT ... ON CONFLICT DO UPDATE, which PostgreSQL and SQLite >= 3.24 both speak), so
    concurrent page views add up rather than overwrite each other."""
    rows = list(rows)
    if not rows:
        return 0
    table = connection.ops.quote_name(ArtworkStat._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    params: list = []
    for title_id, context, variant, shown, taken in rows:
        params += [title_id, context, variant, shown, taken, now]
    # Only the quoted table name and the number of placeholders are formatted in; values are params.
    sql = (
        f"INSERT INTO {table} (title_id, context, variant, impressions, takes, updated_at) VALUES {values} "  # noqa: S608
        f"ON CONFLICT (title_id, context, variant) DO UPDATE SET "
        f"impressions = {table}.impressions + excluded.impressions, "
        f"takes = {table}.takes + excluded.takes, updated_at = excluded.updated_at"
    )
    # Inside a transaction, a savepoint: a failed count (a title deleted meanwhile) must not abort
    # the caller's work. Requests run in autocommit (no ATOMIC_REQUESTS): no savepoint needed there.
    with transaction.atomic(savepoint=connection.in_atomic_block), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return len(rows)


def impressions_record(*, profile: Profile, rows, now=None, token: int | None = None) -> int:
    """Count the home's cards (catalog.shelves.Row items) as impressions of the variant each
    showed. Each title once per page; a page view of the same time bucket again counts nothing
    (a reload). Titles known to have uploaded artwork show that, not a variant: not counted."""
    policy = policy_for(profile, now=now, token=token)
    if not policy.learning:
        return 0
    if not cache.add(f"artwork:shown:{profile.pk}:{policy.token}", 1, STABLE_SECONDS):
        return 0
    seen: dict[int, str] = {}
    for row in rows:
        for item in row.items:
            title = item.title
            if title.pk not in seen and not has_upload(title):
                seen[title.pk] = policy.choose(title.pk)
    now = now or timezone.now()
    return _add(((tid, policy.context, variant, 1, 0) for tid, variant in sorted(seen.items())), now)


def take_record(*, profile: Profile, title: Title, variant: str, now=None, token: int | None = None) -> bool:
    """A card showing `variant` was opened (its link's `art=`). Gated like impressions; one take
    per title and profile per time bucket."""
    if variant not in VARIANTS:
        return False
    policy = policy_for(profile, now=now, token=token)
    if not policy.learning:
        return False
    # Only the variant this profile's card showed counts: the one its policy chose for this
    # title in this bucket, or in the previous one (a page opened just before the bucket
    # turned). A hand-made `art=` naming another variant teaches the bandit nothing, so one
    # account cannot steer what everyone else in its context is shown.
    if policy.choose(title.pk) != variant:
        previous = ArtworkPolicy(
            profile_id=policy.profile_id,
            context=policy.context,
            token=policy.token - 1,
            probabilities=context_probabilities(policy.context, policy.token - 1),
            learning=True,
        )
        if previous.choose(title.pk) != variant:
            return False
    if not cache.add(f"artwork:took:{profile.pk}:{title.pk}:{policy.token}", 1, STABLE_SECONDS):
        return False
    _add([(title.pk, policy.context, variant, 0, 1)], now or timezone.now())
    return True


# --- Demo -----------------------------------------------------------------------------------------

DEMO_PROFILES = 60
DEMO_VISITS = 20
DEMO_CARDS = 20
DEMO_POOL = 200
# The demo audience's hidden taste in artwork: a base take rate, and a lift for the variant each
# taste context favours (the benchmark's population has the same shape).
DEMO_BASE = {"genre": 0.05, "setting": 0.05, "cast": 0.07}
DEMO_LIFT = 0.08
DEMO_FAVOURITE = {"western": "cast", "romance": "cast", "drama": "cast", "scifi": "setting", "crime": "setting"}


def demo_artwork_write(*, seed: int, n_profiles: int = DEMO_PROFILES) -> dict[str, int]:
    """Demo artwork counters for `manage.py seed_demo`, so the staff's take-rate table and the
    bandit start with something: a sample of analytics-consenting profiles each saw DEMO_VISITS
    homes of DEMO_CARDS popular titles they may see, variants spread evenly (as the bandit starts),
    and opened cards with their context's hidden take rates. Bulk-inserted aggregates, like the
    other demo writers (the per-view path would take minutes). Returns the counts written."""
    from catalog.selectors import titles_with_popularity, visible_titles

    r = random.Random(seed)
    allowed = consent.accounts_allowing("analytics")
    candidates = list(Profile.objects.filter(account_id__in=allowed).select_related("account").order_by("pk"))
    sample = sorted(r.sample(candidates, min(n_profiles, len(candidates))), key=lambda p: p.pk)
    popular = list(
        titles_with_popularity(Title.objects.filter(is_published=True))
        .order_by("-popularity", "pk")
        .values_list("pk", flat=True)[:DEMO_POOL]
    )
    counts: Counter = Counter()
    for profile in sample:
        context = taste_context(profile)
        pool = sorted(set(visible_titles(profile).filter(pk__in=popular).values_list("pk", flat=True)))
        if not pool:
            continue
        favourite = DEMO_FAVOURITE.get(context, "genre")
        for _ in range(DEMO_VISITS):
            for title_id in r.sample(pool, min(DEMO_CARDS, len(pool))):
                variant = r.choice(VARIANTS)
                rate = DEMO_BASE[variant] + (DEMO_LIFT if variant == favourite else 0.0)
                counts[(title_id, context, variant, "i")] += 1
                if r.random() < rate:
                    counts[(title_id, context, variant, "t")] += 1
    now = timezone.now()
    keys = sorted({k[:3] for k in counts})
    ArtworkStat.objects.bulk_create(
        [
            ArtworkStat(
                title_id=tid,
                context=ctx,
                variant=variant,
                impressions=counts[(tid, ctx, variant, "i")],
                takes=counts[(tid, ctx, variant, "t")],
                updated_at=now,
            )
            for tid, ctx, variant in keys
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    return {
        "artwork_impressions": sum(n for k, n in counts.items() if k[3] == "i"),
        "artwork_takes": sum(n for k, n in counts.items() if k[3] == "t"),
    }


# --- Receivers (connected in apps.py) --------------------------------------------------------------


def on_rows_shown(sender, *, profile, rows, **kwargs):
    # Measurement must never cost a viewer their page: a failure is logged and swallowed.
    try:
        impressions_record(profile=profile, rows=rows)
    except Exception:
        logger.exception("recording artwork impressions failed")


def on_title_opened_from_row(sender, *, profile, title, row_key, artwork="", **kwargs):
    if not artwork:
        return
    try:
        take_record(profile=profile, title=title, variant=artwork)
    except Exception:
        logger.exception("recording an artwork take failed")


def on_demo_seeded(sender, *, seed, **kwargs):
    """Demo artwork counters after `seed_demo` (its summary prints the counts)."""
    return demo_artwork_write(seed=seed)
