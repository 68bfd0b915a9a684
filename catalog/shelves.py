"""Shelves: the non-personalized home rows, built from catalog data for one profile.

A Row is what the home page and the API render: a key (the HTML hook `data-row`), a
heading, a reason a person can read, and its titles, each with its own reason.

How the rows stay cheap (the home page must cost a fixed, small number of queries however
big the catalog and however many rows):
- each row first produces a `RowSpec`: only title ids and reasons, from ONE query (trending
  and genre rows: two), always restricted to `visible_titles(profile)` (the shared rows: to
  `maturity_visible_titles`, see below);
- the rows that are the same for every profile at one maturity setting (trending, new
  arrivals, genre rows) are cached by that setting for `SHARED_TTL` seconds; personal rows
  (continue watching, my list) are never cached, so they can't leak across profiles;
- `rows_from_specs` then fetches every Title of every row in one query, through
  `visible_titles(profile)`: that is where the titles blocked for this profile leave the shared
  rows (a block is per profile, so it can't be part of a cache shared by a maturity setting).

The recommender reuses the specs (`row_specs`) as candidates it re-ranks for a profile.
"""

import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import Count, Exists, F, Func, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.expressions import Window
from django.db.models.functions import Coalesce, RowNumber, TruncDate
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import Profile

from .models import Collection, CollectionItem, Episode, Genre, ListEntry, Rating, Title, ViewingActivity
from .selectors import hidden_title_ids, maturity_visible_titles, visible_titles

# Titles per row, on every home row (the recommender's rows too).
ROW_LENGTH = 20
# "Popular in <genre>" shelves on a home.
GENRE_SHELVES = 4
SHARED_TTL = 60
TRENDING_WINDOW_DAYS = 7
# Trending weighs each view or rating by exp(-age / TRENDING_DECAY_DAYS): yesterday counts
# for about 0.6, a week ago for 0.03.
TRENDING_DECAY_DAYS = 2.0
# "Top 10 today" (row key `top-10`): the last day's trending activity, filled from the week's
# when fewer titles moved today; a row needs at least TOP_TEN_MIN titles to be shown.
TOP_TEN = 10
TOP_TEN_MIN = 3
# Continue watching reads this many recent unfinished viewings to find ROW_LENGTH titles
# (a series has one viewing per episode).
CONTINUE_SCAN = ROW_LENGTH * 5
CACHE_VERSION = 1

logger = logging.getLogger(__name__)


@dataclass
class RowItem:
    title: Title
    reason: str = ""
    # Player progress 0..1 for Continue watching, else None.
    progress: float | None = None


@dataclass
class Row:
    key: str
    title: str
    reason: str
    items: list[RowItem] = field(default_factory=list)
    # The row's "Why am I seeing this?" page (recommendation rows only).
    why_url: str | None = None
    # Chosen for this profile by the recommender (not a catalog shelf or its own list).
    personalized: bool = False


@dataclass
class RowSpec:
    """A row before its titles are loaded: ids only, so it is cheap to cache and to merge."""

    key: str
    title: str
    reason: str
    # (title id, reason, progress or None), in display order.
    items: list[tuple[int, str, float | None]] = field(default_factory=list)
    # A curated collection's admin position (where a personalized home places it), else None.
    position: int | None = None

    def as_cacheable(self) -> dict:
        return {
            "key": self.key,
            "title": self.title,
            "reason": self.reason,
            "items": [list(i) for i in self.items],
            "position": self.position,
        }

    @classmethod
    def from_cached(cls, data: dict) -> "RowSpec":
        return cls(data["key"], data["title"], data["reason"], [tuple(i) for i in data["items"]], data.get("position"))


class _Count(Func):
    """COUNT(*) in a correlated subquery without a GROUP BY (works on PostgreSQL and SQLite)."""

    template = "COUNT(*)"
    output_field = IntegerField()


def _visible_ids(profile: Profile):
    return visible_titles(profile).values("pk")


def _shared_key(name: str, profile: Profile) -> str:
    # Everything that changes maturity_visible_titles(profile) must be in the key.
    return f"catalog:rows:v{CACHE_VERSION}:{name}:{profile.maturity_limit}:{int(profile.is_kids)}"


def _cached_specs(name: str, profile: Profile, build) -> list[RowSpec]:
    key = _shared_key(name, profile)
    # A cache outage (Redis down) must cost speed, never the page: log it and build afresh.
    try:
        cached = cache.get(key)
    except Exception:
        logger.warning("home row cache unavailable", exc_info=True)
        cached = None
    if cached is not None:
        return [RowSpec.from_cached(d) for d in cached]
    specs = build(profile)
    try:
        cache.set(key, [s.as_cacheable() for s in specs], SHARED_TTL)
    except Exception:
        logger.warning("home row cache unavailable", exc_info=True)
    return specs


# --- Personal rows (never cached) ----------------------------------------------------------


def continue_watching_spec(profile: Profile) -> RowSpec:
    """Unfinished films and episodes, most recent first; a series whose latest episode was
    finished offers the next one. One query: the next episode comes from a subquery."""
    after = Episode.objects.filter(title_id=OuterRef("title_id")).filter(
        Q(season__number__gt=OuterRef("episode__season__number"))
        | Q(season__number=OuterRef("episode__season__number"), number__gt=OuterRef("episode__number"))
    )
    next_episode = after.order_by("season__number", "number")
    rows = (
        ViewingActivity.objects.filter(profile=profile, title__in=_visible_ids(profile))
        .filter(Q(completed=False) | Q(episode__isnull=False))
        # "Remove from row" (catalog.services.continue_watching_dismiss) marks every viewing of
        # the title; a viewing newer than the mark (the next play) brings the title back.
        .filter(Q(dismissed_at__isnull=True) | Q(last_watched_at__gt=F("dismissed_at")))
        .annotate(
            next_season=Subquery(next_episode.values("season__number")[:1]),
            next_number=Subquery(next_episode.values("number")[:1]),
        )
        .order_by("-last_watched_at", "-id")
        .values_list(
            "title_id",
            "position_seconds",
            "duration_seconds",
            "completed",
            "episode__season__number",
            "episode__number",
            "next_season",
            "next_number",
        )[:CONTINUE_SCAN]
    )
    items, seen = [], set()
    for title_id, position, duration, done, season, number, next_season, next_number in rows:
        if title_id in seen:
            continue
        seen.add(title_id)
        if done:
            # A finished film, or the last episode of a series, has nothing to continue.
            if next_number is not None:
                items.append((title_id, f"Next: S{next_season}:E{next_number}", None))
        else:
            progress = min(1.0, position / duration) if duration else 0.0
            minutes_left = max(1, math.ceil((duration - position) / 60)) if duration else None
            where = f"S{season}:E{number} · " if season is not None else ""
            reason = f"{where}{minutes_left} min left" if minutes_left else f"{where}Continue"
            items.append((title_id, reason, progress))
        if len(items) >= ROW_LENGTH:
            break
    return RowSpec("continue-watching", "Continue watching", "Pick up where you left off.", items)


def my_list_spec(profile: Profile) -> RowSpec:
    entries = (
        ListEntry.objects.filter(profile=profile, title__in=_visible_ids(profile))
        .order_by("-added_at", "-id")
        .values_list("title_id", "added_at")[:ROW_LENGTH]
    )
    items = [(tid, f"On your list since {date_format(added, 'M j')}", None) for tid, added in entries]
    return RowSpec("my-list", "My List", "Titles you saved to watch later.", items)


# --- Shared rows (cached per maturity setting) -----------------------------------------------


def _activity_by_day(profile: Profile, *, now, days: int) -> list[tuple[int, date, int]]:
    """(title id, day, views + ratings) of the last `days` days: one query, result size bounded
    by titles x days."""
    since = now - timedelta(days=days)
    # Shared (cached per maturity setting): one profile's blocks must not shorten another's row.
    visible = maturity_visible_titles(profile).values("pk")
    views, ratings = (
        model.objects.filter(**{f"{stamp}__gte": since}, title__in=visible)
        .annotate(day=TruncDate(stamp))
        .order_by()
        .values("title_id", "day")
        .annotate(n=Count("pk"))
        .values_list("title_id", "day", "n")
        for model, stamp in ((ViewingActivity, "last_watched_at"), (Rating, "updated_at"))
    )
    return list(views.union(ratings, all=True))  # one round trip for both kinds of activity


def _decayed_scores(per_day, *, now, min_day: date | None = None) -> dict[int, float]:
    scores: dict[int, float] = defaultdict(float)
    for title_id, day, n in per_day:
        if min_day is not None and day < min_day:
            continue
        # TruncDate buckets in the current time zone; take each day's events at its noon.
        midday = datetime.combine(day, time(12), tzinfo=timezone.get_current_timezone())
        age_days = max(0.0, (now - midday).total_seconds() / 86400)
        scores[title_id] += n * math.exp(-age_days / TRENDING_DECAY_DAYS)
    return dict(scores)


def trending_scores(profile: Profile, *, now=None) -> dict[int, float]:
    """Time-decayed activity of the last week: sum of exp(-age/decay) over views and ratings.

    Counted per title and day in the database; the age of a day's events is taken at the
    middle of that day, never in the future.
    """
    now = now or timezone.now()
    return _decayed_scores(_activity_by_day(profile, now=now, days=TRENDING_WINDOW_DAYS), now=now)


def _ranked(scores: dict[int, float]) -> list[int]:
    return [tid for tid, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))]


def _build_trending(profile: Profile) -> list[RowSpec]:
    """Trending now (the week) and Top 10 today (today's activity, filled from the week's when
    fewer titles moved today), from the same single query."""
    now = timezone.now()
    per_day = _activity_by_day(profile, now=now, days=TRENDING_WINDOW_DAYS)
    week = _ranked(_decayed_scores(per_day, now=now))
    items = [(tid, f"#{rank} trending this week", None) for rank, tid in enumerate(week[:ROW_LENGTH], start=1)]
    trending = RowSpec("trending", "Trending now", "What people are watching and rating this week.", items)
    today = timezone.localdate(now)
    top = _ranked(_decayed_scores(per_day, now=now, min_day=today))[:TOP_TEN]
    top += [tid for tid in week if tid not in top][: TOP_TEN - len(top)]
    if len(top) < TOP_TEN_MIN:
        top = []  # a "Top 10" of two titles says nothing
    items = [(tid, f"No. {rank} on Marquee today", None) for rank, tid in enumerate(top, start=1)]
    top_ten = RowSpec("top-10", "Top 10 today", "The most watched and rated titles on Marquee today.", items)
    return [trending, top_ten]


def _build_new_arrivals(profile: Profile) -> list[RowSpec]:
    titles = (
        maturity_visible_titles(profile).order_by("-date_added", "-id").values_list("pk", "date_added")[:ROW_LENGTH]
    )
    items = [(tid, f"Added {date_format(added, 'M j')}", None) for tid, added in titles]
    return [RowSpec("new-arrivals", "New arrivals", "Recently added to Marquee.", items)]


def _build_genres(profile: Profile) -> list[RowSpec]:
    visible = maturity_visible_titles(profile)
    # Genre popularity: ratings of the genre's titles (a correlated count per genre measured
    # faster than one grouped join over every rating on the demo catalog).
    genre_ratings = Rating.objects.filter(title__genres=OuterRef("pk")).values(n=_Count())
    genres = list(
        Genre.objects.filter(Exists(visible.filter(genres=OuterRef("pk"))))
        .annotate(popularity=Coalesce(Subquery(genre_ratings), Value(0)))
        .order_by("-popularity", "name")
        .values_list("pk", "name", "slug")[:GENRE_SHELVES]
    )
    if not genres:
        return []
    link = Title.genres.through
    title_ratings = Rating.objects.filter(title_id=OuterRef("title_id")).values(n=_Count())
    title_viewers = ViewingActivity.objects.filter(title_id=OuterRef("title_id")).values(n=_Count())
    pairs = (
        link.objects.filter(genre_id__in=[g[0] for g in genres], title_id__in=visible.values("pk"))
        .annotate(popularity=Coalesce(Subquery(title_ratings), Value(0)) + Coalesce(Subquery(title_viewers), Value(0)))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("genre_id")],
                order_by=[F("popularity").desc(), F("title__date_added").desc(), F("title_id").desc()],
            )
        )
        .filter(rank__lte=ROW_LENGTH)
        .values_list("genre_id", "title_id", "rank")
    )
    by_genre: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for genre_id, title_id, rank in pairs:
        by_genre[genre_id].append((rank, title_id))
    specs = []
    for genre_id, name, slug in genres:
        ranked = sorted(by_genre.get(genre_id, []))
        items = [(tid, f"Popular in {name}", None) for _, tid in ranked]
        specs.append(RowSpec(f"genre-{slug}", f"Popular in {name}", f"Most watched and rated {name} titles.", items))
    return specs


def top_ten_spec(profile: Profile) -> RowSpec:
    # Built and cached with Trending now (one query for both).
    specs = _cached_specs("trending", profile, _build_trending)
    return specs[1] if len(specs) > 1 else RowSpec("top-10", "Top 10 today", "", [])


def trending_spec(profile: Profile) -> RowSpec:
    return _cached_specs("trending", profile, _build_trending)[0]


def new_arrivals_spec(profile: Profile) -> RowSpec:
    return _cached_specs("new-arrivals", profile, _build_new_arrivals)[0]


def genre_specs(profile: Profile) -> list[RowSpec]:
    return _cached_specs("genres", profile, _build_genres)


def _audiences(profile: Profile) -> list[str]:
    # Collection.audience: curators aim a row at everyone, kids profiles only, or adults only.
    return ["everyone", "kids" if profile.is_kids else "adults"]


def collection_specs(profile: Profile, *, now=None) -> list[RowSpec]:
    """Live collections for this profile's audience (kids / adults / everyone) in position
    order, their visible items in order (one query, uncached, so an admin switching a
    collection on or off is seen at once)."""
    rows = (
        CollectionItem.objects.filter(
            collection__in=Collection.objects.filter(Collection.live_q(now), audience__in=_audiences(profile)),
            title__in=_visible_ids(profile),
        )
        .order_by("collection__position", "collection_id", "position", "id")
        .values_list(
            "collection_id",
            "collection__name",
            "collection__slug",
            "collection__description",
            "collection__position",
            "title_id",
        )
    )
    specs: dict[int, RowSpec] = {}
    for collection_id, name, slug, description, position, title_id in rows:
        spec = specs.get(collection_id)
        if spec is None:
            reason = description or f"Hand-picked by the Marquee team: {name}."
            spec = specs[collection_id] = RowSpec(f"collection-{slug}", name, reason, position=position)
        if len(spec.items) < ROW_LENGTH:
            spec.items.append((title_id, f"Part of the collection “{name}”", None))
    return list(specs.values())


def row_specs(profile: Profile, *, now=None) -> list[RowSpec]:
    """Every non-personalized row's candidates, in home-page order (empty rows included).

    `now` (default: the present) is the moment whose live collections are shown: staff
    preview passes a future moment to check a scheduled row before it goes live. The other
    rows are always of the present (activity that has not happened cannot be previewed).
    """
    return [
        continue_watching_spec(profile),
        my_list_spec(profile),
        top_ten_spec(profile),
        trending_spec(profile),
        new_arrivals_spec(profile),
        *collection_specs(profile, now=now),
        *genre_specs(profile),
    ]


def rows_from_specs(specs: list[RowSpec], *, profile: Profile) -> list[Row]:
    """Load every title of every spec in one query; drop titles no longer visible and empty rows."""
    ids = {tid for spec in specs for tid, _, _ in spec.items}
    # A title marked "Not for me" leaves every row; visible_titles takes out the blocked ones.
    titles = visible_titles(profile).exclude(pk__in=hidden_title_ids(profile)).in_bulk(ids) if ids else {}
    rows = []
    for spec in specs:
        items = [
            RowItem(title=titles[tid], reason=reason, progress=progress)
            for tid, reason, progress in spec.items
            if tid in titles
        ]
        if items:
            rows.append(Row(key=spec.key, title=spec.title, reason=spec.reason, items=items))
    return rows


def non_personalized_rows(*, profile: Profile, now=None) -> list[Row]:
    """Continue watching, My List, Trending now, New arrivals, Collections, genre rows
    (`now`: see `row_specs`)."""
    return rows_from_specs(row_specs(profile, now=now), profile=profile)
