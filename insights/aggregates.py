"""The aggregations behind the dashboard. Run by the Celery task only, never per request.

Every function reads engagement of profiles whose account consented to analytics (`consented()`)
and returns a *section*: a JSON-ready dict

    {"key", "title", "columns": [[key, label], ...], "rows": [dict, ...], "suppressed": int, "note"}

k-anonymity: a row (genre, tag, title, search term, cluster, home row) backed by fewer than
`min_group()` distinct profiles is dropped and counted in `suppressed`; the page says so. Where
only a lower bound of distinct profiles is cheap (viewers and raters of a group overlap), the
bound is used, so the rule errs towards hiding.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum

from accounts.models import Profile
from catalog.models import Episode, Genre, Rating, SearchQuery, Tag, Title, TitleKind, TitleTag, ViewingActivity
from privacy import consent

from .models import Click, Impression, ImpressionDaily, TitleStats

POSITIVE = ("up", "love")
# A search with at most this many results is a content gap.
FEW_RESULTS = 2
# A play counts for an impression when the profile starts the title within this window.
PLAY_WINDOW_HOURS = 24
# Rows kept in the snapshot per section (the CSV has the same rows as the page).
MAX_ROWS = 200


def min_group(data: dict | None = None) -> int:
    """The k of k-anonymity: the one every suppression and every notice uses.

    With a snapshot's `data`, the k that run applied (the page must say what was applied, even
    if the setting changed since); otherwise INSIGHTS_MIN_GROUP_SIZE.
    """
    if data and "min_group" in data:
        return int(data["min_group"])
    return settings.INSIGHTS_MIN_GROUP_SIZE


def consented():
    """Profile ids of accounts that allow analytics (a subquery, evaluated by the database)."""
    return Profile.objects.filter(account_id__in=consent.accounts_allowing("analytics")).values("pk")


def section(key, title, columns, rows, suppressed=0, note=""):
    return {"key": key, "title": title, "columns": columns, "rows": rows, "suppressed": suppressed, "note": note}


def _share(part, whole) -> float:
    return round(part / whole, 4) if whole else 0.0


# --- demand vs supply ---------------------------------------------------------------------------


def demand_supply(dim: str) -> dict:
    """Share of viewing time and of positive ratings vs share of the published catalog, per genre/tag.

    A title in two genres counts for both, so shares of each column can add up to more than 1.
    Sorted by gap = demand share (mean of the two engagement shares) - catalog share.
    """
    k = min_group()
    P = consented()
    if dim == "genre":
        names = dict(Genre.objects.values_list("pk", "name"))
        catalog = (
            Title.genres.through.objects.filter(title__is_published=True)
            .values("genre_id")
            .annotate(n=Count("title_id"))
            .values_list("genre_id", "n")
        )
        path = "title__genres"
    else:
        names = dict(Tag.objects.values_list("pk", "name"))
        catalog = (
            TitleTag.objects.filter(title__is_published=True)
            .values("tag_id")
            .annotate(n=Count("title_id"))
            .values_list("tag_id", "n")
        )
        path = "title__title_tags__tag"
    catalog = dict(catalog)
    n_titles = Title.objects.filter(is_published=True).count()
    views = ViewingActivity.objects.filter(profile_id__in=P)
    ratings = Rating.objects.filter(profile_id__in=P, value__in=POSITIVE)
    total_secs = views.aggregate(s=Sum("position_seconds"))["s"] or 0
    total_pos = ratings.count()
    by_view = {
        g: (secs or 0, n)
        for g, secs, n in views.filter(**{f"{path}__isnull": False})
        .values(path)
        .annotate(secs=Sum("position_seconds"), n=Count("profile_id", distinct=True))
        .values_list(path, "secs", "n")
    }
    by_pos = {
        g: (c, n)
        for g, c, n in ratings.filter(**{f"{path}__isnull": False})
        .values(path)
        .annotate(c=Count("pk"), n=Count("profile_id", distinct=True))
        .values_list(path, "c", "n")
    }
    rows, suppressed = [], 0
    for gid in set(catalog) | set(by_view) | set(by_pos):
        secs, viewers = by_view.get(gid, (0, 0))
        pos, raters = by_pos.get(gid, (0, 0))
        if not (secs or pos):
            continue  # no demand at all: nothing to say and nobody behind it
        if max(viewers, raters) < k:
            suppressed += 1
            continue
        view_share, pos_share = _share(secs, total_secs), _share(pos, total_pos)
        demand = round((view_share + pos_share) / 2, 4)
        supply = _share(catalog.get(gid, 0), n_titles)
        rows.append(
            {
                "name": names.get(gid, "?"),
                "viewing_share": view_share,
                "positive_share": pos_share,
                "demand_share": demand,
                "catalog_share": supply,
                "catalog_titles": catalog.get(gid, 0),
                "gap": round(demand - supply, 4),
                "profiles": max(viewers, raters),
            }
        )
    rows.sort(key=lambda r: (-r["gap"], r["name"]))
    label = "Genre" if dim == "genre" else "Tag"
    columns = [
        ["name", label],
        ["viewing_share", "Share of viewing time (%)"],
        ["positive_share", "Share of positive ratings (%)"],
        ["demand_share", "Demand share (%)"],
        ["catalog_share", "Share of catalog (% of titles)"],
        ["catalog_titles", "Catalog titles"],
        ["gap", "Gap (demand - supply, % points)"],
        ["profiles", "Profiles (at least)"],
    ]
    return section(
        f"demand-{dim}",
        f"Demand vs supply by {label.lower()}",
        columns,
        rows[:MAX_ROWS],
        suppressed,
        "Positive gap: viewers want more of it than the catalog offers.",
    )


# --- rising titles ------------------------------------------------------------------------------


def rising_titles(now: datetime) -> dict:
    """Week-over-week growth: profiles starting a title (plays) and positive ratings given."""
    k = min_group()
    P = consented()
    week, prev = now - timedelta(days=7), now - timedelta(days=14)
    plays = (
        ViewingActivity.objects.filter(profile_id__in=P, started_at__gte=prev, started_at__lt=now)
        .values("title_id")
        .annotate(
            cur=Count("profile_id", distinct=True, filter=Q(started_at__gte=week)),
            old=Count("profile_id", distinct=True, filter=Q(started_at__lt=week)),
        )
        .values_list("title_id", "cur", "old")
    )
    pos = (
        Rating.objects.filter(profile_id__in=P, value__in=POSITIVE, created_at__gte=prev, created_at__lt=now)
        .values("title_id")
        .annotate(cur=Count("pk", filter=Q(created_at__gte=week)), old=Count("pk", filter=Q(created_at__lt=week)))
        .values_list("title_id", "cur", "old")
    )
    stats: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for tid, cur, old in plays:
        stats[tid][0:2] = [cur, old]
    for tid, cur, old in pos:
        stats[tid][2:4] = [cur, old]
    names = dict(Title.objects.filter(pk__in=list(stats)).values_list("pk", "name")) if stats else {}
    rows, suppressed = [], 0
    for tid, (pc, po, rc, ro) in stats.items():
        if pc + rc <= po + ro:
            continue  # not rising
        # A profile rates a title once, so positive ratings in a window are distinct profiles too.
        if max(pc, po, rc, ro) < k:
            suppressed += 1
            continue
        rows.append(
            {
                "title_id": tid,
                "name": names.get(tid, "?"),
                "plays_this_week": pc,
                "plays_last_week": po,
                # Growth as a fraction of last week (shown as %); from nothing, as if from one.
                "plays_growth": round((pc - po) / max(po, 1), 3),
                "positive_this_week": rc,
                "positive_last_week": ro,
                "positive_growth": round((rc - ro) / max(ro, 1), 3),
            }
        )
    rows.sort(key=lambda r: (-(r["plays_growth"] + r["positive_growth"]), -r["plays_this_week"], r["name"]))
    columns = [
        ["name", "Title"],
        ["plays_this_week", "Profiles who started it this week"],
        ["plays_last_week", "Profiles who started it last week"],
        ["plays_growth", "Play growth (% week over week)"],
        ["positive_this_week", "Positive ratings this week"],
        ["positive_last_week", "Positive ratings last week"],
        ["positive_growth", "Rating growth (% week over week)"],
    ]
    return section(
        "rising",
        "Rising titles (week over week)",
        columns,
        rows[:50],
        suppressed,
        "Growth: this week's count minus last week's, as a % of last week's (from none, as if from one).",
    )


# --- content gaps ---------------------------------------------------------------------------------

_PUNCT = re.compile(r"[^\w\s]+")
_SPACE = re.compile(r"\s+")


def search_term_key(text: str) -> str:
    """Case, accents, punctuation and spacing folded: "Amélie!" and "  amelie" group together."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return _SPACE.sub(" ", _PUNCT.sub(" ", text)).strip()


def group_gap_searches(triples) -> tuple[list[dict], int]:
    """(profile_id, query, result_count) -> grouped rows (k-anonymous) and the suppressed count."""
    k = min_group()
    searches: Counter = Counter()
    profiles: dict[str, set] = defaultdict(set)
    results: dict[str, int] = defaultdict(int)
    for profile_id, query, result_count in triples:
        term = search_term_key(query)
        if not term:
            continue
        searches[term] += 1
        profiles[term].add(profile_id)
        results[term] += result_count
    rows, suppressed = [], 0
    for term, n in searches.items():
        if len(profiles[term]) < k:
            suppressed += 1
            continue
        rows.append(
            {
                "term": term,
                "searches": n,
                "profiles": len(profiles[term]),
                "avg_results": round(results[term] / n, 2),
            }
        )
    rows.sort(key=lambda r: (-r["profiles"], -r["searches"], r["term"]))
    return rows, suppressed


GAP_COLUMNS = [
    ["term", "Search (normalized)"],
    ["searches", "Searches"],
    ["profiles", "Profiles who searched"],
    ["avg_results", "Average results (titles per search)"],
]


def content_gaps() -> dict:
    triples = SearchQuery.objects.filter(profile_id__in=consented(), result_count__lte=FEW_RESULTS).values_list(
        "profile_id", "query", "result_count"
    )
    rows, suppressed = group_gap_searches(triples.iterator(chunk_size=5000))
    return section(
        "gaps",
        "Content gaps: searches with no or few results",
        GAP_COLUMNS,
        rows[:MAX_ROWS],
        suppressed,
        f"Searches that found at most {FEW_RESULTS} titles, grouped after folding case, accents and punctuation.",
    )


# --- completion and drop-off -----------------------------------------------------------------------


def last_episodes(title_ids=None) -> dict[int, int]:
    """Per series, the id of its last episode (highest season, then episode number)."""
    qs = Episode.objects.all() if title_ids is None else Episode.objects.filter(title_id__in=title_ids)
    last: dict[int, tuple[tuple[int, int], int]] = {}
    for eid, tid, season, number in qs.values_list("id", "title_id", "season__number", "number").iterator(
        chunk_size=10000
    ):
        if tid not in last or (season, number) > last[tid][0]:
            last[tid] = ((season, number), eid)
    return {tid: eid for tid, (_pos, eid) in last.items()}


def title_views() -> dict[tuple[int, int], bool]:
    """(profile, title) -> finished, one entry per consenting profile and title it started.

    The one definition of "finished" every figure uses: a film when its viewing row is
    completed, a series when its last episode is (however many episodes before it were
    skipped or left half-way). A series counts once per viewer, as a film does, so the
    completion rates of films and series compare.
    """
    last = last_episodes(
        ViewingActivity.objects.filter(profile_id__in=consented(), episode__isnull=False).values("title_id")
    )  # a subquery: the database picks the series
    views: dict[tuple[int, int], bool] = {}
    for pid, tid, eid, completed in (
        ViewingActivity.objects.filter(profile_id__in=consented())
        .values_list("profile_id", "title_id", "episode_id", "completed")
        .iterator(chunk_size=10000)
    ):
        # A film has no last episode (None == None); a series' row without an episode finishes nothing.
        done = bool(completed) and eid == last.get(tid)
        views[(pid, tid)] = views.get((pid, tid), False) or done
    return views


def completion(by: str) -> dict:
    """Share of started titles finished (see `title_views`), by genre or by kind."""
    k = min_group()
    views = title_views()
    tids = {tid for _pid, tid in views}
    if by == "genre":
        groups: dict[int, list[str]] = defaultdict(list)
        for tid, name in Title.genres.through.objects.filter(title_id__in=list(tids)).values_list(
            "title_id", "genre__name"
        ):
            groups[tid].append(name)
    else:
        kinds = dict(TitleKind.choices)
        groups = {
            tid: [str(kinds.get(kind, kind))]
            for tid, kind in Title.objects.filter(pk__in=list(tids)).values_list("pk", "kind")
        }
    n: Counter = Counter()
    done: Counter = Counter()
    people: dict[str, set[int]] = defaultdict(set)
    for (pid, tid), finished in views.items():
        for name in groups.get(tid, ()):
            n[name] += 1
            done[name] += finished
            people[name].add(pid)
    rows, suppressed = [], 0
    for name, started in n.items():
        if len(people[name]) < k:
            suppressed += 1
            continue
        rows.append(
            {
                "name": name,
                "views": started,
                "completed": done[name],
                "completion_rate": _share(done[name], started),
                "profiles": len(people[name]),
            }
        )
    rows.sort(key=lambda r: (-r["completion_rate"], r["name"]))
    columns = [
        ["name", "Genre" if by == "genre" else "Kind"],
        ["views", "Titles started (one per profile and title)"],
        ["completed", "Finished (a series: its last episode)"],
        ["completion_rate", "Completion rate (% of titles started)"],
        ["profiles", "Profiles"],
    ]
    return section(
        f"completion-{by}",
        f"Completion rate by {by}",
        columns,
        rows,
        suppressed,
        "A film is finished when watched to the end, a series when its last episode is.",
    )


def drop_off() -> dict:
    """Per series: where viewers stop. A viewer finished the series when they completed its last
    episode; otherwise their stopping point is the furthest episode they reached."""
    k = min_group()
    rows_q = ViewingActivity.objects.filter(
        profile_id__in=consented(), episode__isnull=False, title__kind=TitleKind.SERIES
    ).values_list("profile_id", "title_id", "episode_id", "episode__season__number", "episode__number", "completed")
    furthest: dict[tuple[int, int], tuple[int, int]] = {}
    watched: dict[tuple[int, int], list[tuple[int, bool]]] = defaultdict(list)
    for pid, tid, eid, season, number, completed in rows_q.iterator(chunk_size=5000):
        key, pos = (pid, tid), (season, number)
        if key not in furthest or pos > furthest[key]:
            furthest[key] = pos
        watched[key].append((eid, bool(completed)))
    series_ids = {tid for _, tid in furthest}
    last = last_episodes(series_ids)
    n_episodes = Counter(Episode.objects.filter(title_id__in=series_ids).values_list("title_id", flat=True))
    viewers: Counter = Counter()
    finished: Counter = Counter()
    stops: dict[int, Counter] = defaultdict(Counter)
    for (pid, tid), pos in furthest.items():
        viewers[tid] += 1
        if any(done and eid == last.get(tid) for eid, done in watched[(pid, tid)]):
            finished[tid] += 1
        else:
            stops[tid][pos] += 1
    names = dict(Title.objects.filter(pk__in=series_ids).values_list("pk", "name")) if series_ids else {}
    rows, suppressed = [], 0
    for tid, n in viewers.items():
        if n < k:
            suppressed += 1
            continue
        common = stops[tid].most_common(1)
        (season, number), stopped_there = common[0] if common else ((None, None), 0)
        rows.append(
            {
                "title_id": tid,
                "name": names.get(tid, "?"),
                "viewers": n,
                "episodes": n_episodes[tid],
                "finished": finished[tid],
                "finished_share": _share(finished[tid], n),
                "top_stop": f"S{season}E{number}" if season is not None else "",
                "top_stop_share": _share(stopped_there, n),
            }
        )
    # Most watched first: the series whose drop-off matters most lead the chart.
    rows.sort(key=lambda r: (-r["viewers"], r["name"]))
    columns = [
        ["name", "Series"],
        ["viewers", "Viewers (profiles)"],
        ["episodes", "Episodes"],
        ["finished", "Finished the series (profiles)"],
        ["finished_share", "Finished the series (% of viewers)"],
        ["top_stop", "Most common last episode"],
        ["top_stop_share", "Stopping there (% of viewers)"],
    ]
    return section(
        "dropoff",
        "Series drop-off points",
        columns,
        rows[:MAX_ROWS],
        suppressed,
        "A viewer finished a series when they completed its last episode; otherwise they stopped at the "
        "furthest episode they reached.",
    )


# --- per-title stats -------------------------------------------------------------------------------


def title_stats_rebuild(now: datetime, engaged: dict[int, set[int]] | None = None) -> int:
    """Rebuild TitleStats from consenting profiles' viewing and ratings.

    `engaged` (from `engagement_sets`, the same the clusters count with) gives each title's
    audience of profiles who watched or liked it, so a cluster's count of a title's audience is
    a part of this one by construction.
    """
    P = consented()
    stats: dict[int, TitleStats] = {}

    def get(tid):
        if tid not in stats:
            stats[tid] = TitleStats(title_id=tid, computed_at=now)
        return stats[tid]

    for tid, viewers, plays, done, secs in (
        ViewingActivity.objects.filter(profile_id__in=P)
        .values("title_id")
        .annotate(
            v=Count("profile_id", distinct=True),
            pl=Count("pk"),
            d=Count("pk", filter=Q(completed=True)),
            s=Sum("position_seconds"),
        )
        .values_list("title_id", "v", "pl", "d", "s")
        .iterator(chunk_size=5000)
    ):
        s = get(tid)
        s.viewers, s.plays, s.completions, s.viewing_seconds = viewers, plays, done, secs or 0
    for tid, down, up, love in (
        Rating.objects.filter(profile_id__in=P)
        .values("title_id")
        .annotate(
            dn=Count("pk", filter=Q(value="down")),
            u=Count("pk", filter=Q(value="up")),
            lv=Count("pk", filter=Q(value="love")),
        )
        .values_list("title_id", "dn", "u", "lv")
        .iterator(chunk_size=5000)
    ):
        s = get(tid)
        s.down, s.up, s.love, s.raters = down, up, love, down + up + love
    for (_pid, tid), finished in title_views().items():
        if finished:
            get(tid).finished += 1
    audience: Counter = Counter()
    for titles in (engaged if engaged is not None else engagement_sets()).values():
        audience.update(titles)
    for tid, n in audience.items():
        get(tid).engaged = n
    with transaction.atomic():  # readers see the old stats or the new, never none
        TitleStats.objects.all().delete()
        TitleStats.objects.bulk_create(stats.values(), batch_size=2000)
    return len(stats)


# --- impressions ---------------------------------------------------------------------------------------


def impressions_daily_rebuild(now: datetime) -> int:
    """Rebuild the daily aggregates of the days that may still change (idempotent).

    A day's plays are final PLAY_WINDOW_HOURS after it ends, so a run redoes the days from two
    days before the last aggregated one (all raw days on the first run). Older aggregate rows
    stay untouched, also after their raw rows are purged. Play-through is matched in Python
    from two plain reads (impressions; viewing starts since then): a correlated EXISTS per
    impression measured far slower on SQLite.
    """
    first_raw = Impression.objects.order_by("shown_at").values_list("shown_at", flat=True).first()
    if first_raw is None:
        return 0
    start_day = first_raw.date()
    last_done = ImpressionDaily.objects.order_by("-date").values_list("date", flat=True).first()
    if last_done is not None:
        start_day = max(start_day, last_done - timedelta(days=2))
    start = datetime.combine(start_day, datetime.min.time(), tzinfo=first_raw.tzinfo)
    window = timedelta(hours=PLAY_WINDOW_HOURS)
    starts: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    for pid, tid, started in (
        ViewingActivity.objects.filter(started_at__gte=start, profile_id__in=Impression.objects.values("profile_id"))
        .values_list("profile_id", "title_id", "started_at")
        .iterator(chunk_size=10000)
    ):
        starts[(pid, tid)].append(started)
    rows: dict[tuple, ImpressionDaily] = {}
    profiles: dict[tuple, set] = defaultdict(set)
    for pid, tid, row_key, shown in (
        Impression.objects.filter(shown_at__gte=start)
        .values_list("profile_id", "title_id", "row_key", "shown_at")
        .iterator(chunk_size=10000)
    ):
        key = (shown.date(), row_key, tid)
        obj = rows.get(key)
        if obj is None:
            obj = rows[key] = ImpressionDaily(date=key[0], row_key=row_key, title_id=tid)
        obj.impressions += 1
        profiles[key].add(pid)
        if any(shown <= s < shown + window for s in starts.get((pid, tid), ())):
            obj.plays += 1
    for key, members in profiles.items():
        rows[key].profiles = len(members)
    for clicked, row_key, tid in Click.objects.filter(clicked_at__gte=start).values_list(
        "clicked_at", "row_key", "title_id"
    ):
        key = (clicked.date(), row_key, tid)
        obj = rows.get(key)
        if obj is None:
            obj = rows[key] = ImpressionDaily(date=key[0], row_key=row_key, title_id=tid)
        obj.clicks += 1
    with transaction.atomic():
        ImpressionDaily.objects.filter(date__gte=start_day).delete()
        ImpressionDaily.objects.bulk_create(rows.values(), batch_size=2000)
    return len(rows)


def row_performance(now: datetime, days: int = 30) -> dict:
    """Per home row, last `days` days: impressions, click-through and play-through.

    k-anonymity counts distinct profiles from the raw rows (still within retention).
    """
    k = min_group()
    since = (now - timedelta(days=days)).date()
    agg = (
        ImpressionDaily.objects.filter(date__gte=since)
        .values("row_key")
        .annotate(n=Sum("impressions"), c=Sum("clicks"), pl=Sum("plays"))
        .values_list("row_key", "n", "c", "pl")
    )
    profiles = dict(
        Impression.objects.filter(shown_at__gte=now - timedelta(days=days))
        .values("row_key")
        .annotate(p=Count("profile_id", distinct=True))
        .values_list("row_key", "p")
    )
    rows, suppressed = [], 0
    for key, n, c, pl in agg:
        if profiles.get(key, 0) < k:
            suppressed += 1
            continue
        rows.append(
            {
                "row": key,
                "impressions": n or 0,
                "clicks": c or 0,
                "ctr": _share(c or 0, n or 0),
                "plays": pl or 0,
                "play_through": _share(pl or 0, n or 0),
                "profiles": profiles.get(key, 0),
            }
        )
    rows.sort(key=lambda r: (-r["impressions"], r["row"]))
    columns = [
        ["row", "Home row"],
        ["impressions", "Impressions (titles shown)"],
        ["clicks", "Detail opens (clicks)"],
        ["ctr", "Click-through (% of impressions)"],
        ["plays", f"Plays within {PLAY_WINDOW_HOURS} h (impressions)"],
        ["play_through", "Play-through (% of impressions)"],
        ["profiles", "Profiles"],
    ]
    return section(
        "rows",
        f"Home rows: click-through and play-through (last {days} days)",
        columns,
        rows,
        suppressed,
        f"Play-through: share of impressions after which the profile started the title within {PLAY_WINDOW_HOURS} h.",
    )


# --- audiences shared by clusters and the greenlight brief -------------------------------------------


def engagement_sets() -> dict[int, set[int]]:
    """Per consenting profile, the titles it watched (any viewing) or rated positively."""
    P = consented()
    engaged: dict[int, set[int]] = defaultdict(set)
    for pid, tid in (
        Rating.objects.filter(profile_id__in=P, value__in=POSITIVE)
        .values_list("profile_id", "title_id")
        .iterator(chunk_size=10000)
    ):
        engaged[pid].add(tid)
    for pid, tid in (
        ViewingActivity.objects.filter(profile_id__in=P)
        .values_list("profile_id", "title_id")
        .distinct()
        .iterator(chunk_size=10000)
    ):
        engaged[pid].add(tid)
    return engaged


def combo_audiences(engaged: dict[int, set[int]]) -> dict[str, int]:
    """Distinct profiles per genre+tag pair ("genre_slug|tag_slug"), pairs of k or more only.

    Precomputed for the greenlight brief: counting distinct people per pair at request time
    would mean scanning raw engagement.
    """
    k = min_group()
    genre_slugs = dict(Genre.objects.values_list("pk", "slug"))
    tag_slugs = dict(Tag.objects.values_list("pk", "slug"))
    title_genres: dict[int, list[str]] = defaultdict(list)
    for tid, gid in Title.genres.through.objects.values_list("title_id", "genre_id"):
        title_genres[tid].append(genre_slugs[gid])
    title_combos: dict[int, list[str]] = defaultdict(list)
    for tid, tag_id in TitleTag.objects.values_list("title_id", "tag_id"):
        for g in title_genres.get(tid, ()):
            title_combos[tid].append(f"{g}|{tag_slugs[tag_id]}")
    counts: Counter = Counter()
    for titles in engaged.values():
        combos: set[str] = set()
        for tid in titles:
            combos.update(title_combos.get(tid, ()))
        counts.update(combos)
    return {combo: n for combo, n in counts.items() if n >= k}
