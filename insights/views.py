"""Staff pages of insights. Thin: selectors read the precomputed snapshot, services write."""

from __future__ import annotations

import csv
import logging
import re
from datetime import datetime

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Profile
from catalog.models import Genre, Tag, Title
from common.csv import defuse
from common.ids import parse_id
from recommendations.home import build_home

from . import aggregates, charts, clusters, selectors, services
from .models import SnapshotStatus

log = logging.getLogger(__name__)


def _bad_id_search(query: str) -> bool:
    """True for digits that are not an id ("²", Arabic-Indic ones, past 64 bits): the search selectors would
    take them for one and int() them. A search box asking for "name or id" answers a 400."""
    return query.isdigit() and parse_id(query) is None


BODY_CACHE_VERSION = 2
BODY_CACHE_SECONDS = 60 * 60 * 24

# Charts drawn for the sections: (label column, [(legend, value column)], options). Every legend
# says what it counts; percentages print with "%", counts with their unit.
CHARTS = {
    "demand-genre": (
        "name",
        [("Demand share (%)", "demand_share"), ("Share of catalog (% of titles)", "catalog_share")],
        {},
    ),
    "demand-tag": (
        "name",
        [("Demand share (%)", "demand_share"), ("Share of catalog (% of titles)", "catalog_share")],
        {},
    ),
    "rising": (
        "name",
        [("Play growth (% week over week)", "plays_growth"), ("Rating growth (% week over week)", "positive_growth")],
        {},
    ),
    "gaps": ("term", [("Profiles who searched", "profiles")], {"percent": False, "unit": "profiles"}),
    "completion-genre": ("name", [("Completion rate (% of titles started)", "completion_rate")], {}),
    "completion-kind": ("name", [("Completion rate (% of titles started)", "completion_rate")], {}),
    "dropoff": (
        "name",
        [
            ("Finished the series (% of viewers)", "finished_share"),
            ("Stopping at the most common episode (% of viewers)", "top_stop_share"),
        ],
        {},
    ),
    "rows": (
        "row",
        [("Click-through (% of impressions)", "ctr"), ("Play-through (% of impressions)", "play_through")],
        {},
    ),
}
SECTION_ORDER = [
    "demand-genre",
    "demand-tag",
    "rising",
    "gaps",
    "completion-genre",
    "completion-kind",
    "dropoff",
    "rows",
]


def _sections(snapshot) -> dict:
    if snapshot is None:
        return {}
    data = dict(snapshot.data.get("sections", {}))
    result = snapshot.data.get("clusters") or {}
    data["clusters"] = aggregates.section(
        "clusters",
        "Audience taste clusters",
        clusters.CLUSTER_COLUMNS,
        clusters.as_rows(result),
        result.get("suppressed", 0),
        result.get("reason", ""),
    )
    return data


def _csv_response(sec: dict) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="insights-{sec["key"]}.csv"'
    writer = csv.writer(response)
    # Search terms are typed by viewers: never let a spreadsheet run them as formulas.
    writer.writerow([defuse(label) for _key, label in sec["columns"]])
    for row in sec["rows"]:
        writer.writerow([defuse(row.get(key)) for key, _label in sec["columns"]])
    return response


def _dashboard_body(snapshot) -> str:
    """The figures part of the dashboard: rendered once per snapshot, then served from the cache."""
    sections = _sections(snapshot)
    ordered = []
    for key in [*SECTION_ORDER, "clusters"]:
        sec = sections.get(key)
        if sec is None:
            continue
        chart = ""
        if key in CHARTS:
            label, series, opts = CHARTS[key]
            chart = charts.section_chart(sec, label_key=label, series=series, **opts)
        ordered.append({"sec": sec, "chart": chart, "percent_cols": _percent_cols(sec)})
    return render_to_string(
        "insights/_dashboard_body.html",
        {
            "snapshot": snapshot,
            "sections": ordered,
            "clusters": (snapshot.data.get("clusters") if snapshot else None) or {},
            "min_group": aggregates.min_group(snapshot.data if snapshot else None),
            "suppressed_total": sum(s["sec"].get("suppressed", 0) for s in ordered),
        },
    )


def _cached_body(snapshot) -> str:
    if snapshot is None:
        return _dashboard_body(None)
    key = f"insights:dashboard:v{BODY_CACHE_VERSION}:{snapshot.pk}:{aggregates.min_group()}"
    # A cache outage costs speed, never the page.
    try:
        body = cache.get(key)
    except Exception:
        log.warning("insights cache unavailable", exc_info=True)
        body = None
    if body is None:
        snapshot.refresh_from_db(fields=["data"])
        body = _dashboard_body(snapshot)
        try:
            cache.set(key, body, BODY_CACHE_SECONDS)
        except Exception:
            log.warning("insights cache unavailable", exc_info=True)
    return body


def _run_state() -> dict:
    """The latest figures (without their data), the active run and a failure newer than the figures."""
    snapshot = selectors.snapshot_latest(with_data=False)
    failed = selectors.snapshot_last_failed()
    if failed is not None and snapshot is not None and failed.created_at < snapshot.created_at:
        failed = None  # a later run succeeded: the old failure is history
    return {"snapshot": snapshot, "active": selectors.snapshot_active(), "failed": failed}


@staff_member_required
@require_GET
def dashboard(request):
    if request.GET.get("format") == "csv":
        # The one CSV route is insights:section-csv; old links with ?format=csv land there.
        key = request.GET.get("section", "")
        if not _SECTION_KEY.fullmatch(key):
            return HttpResponse("Unknown or not yet computed section.", status=404, content_type="text/plain")
        return redirect("insights:section-csv", key=key)
    state = _run_state()
    if state["snapshot"] is None and state["active"] is None and not selectors.snapshot_ever():
        # A fresh install: the first visit starts the first computation (single-flight, so many
        # first visits start one). Without a broker it runs in a thread of this process, or,
        # in the test suite, inline after the commit; either way the state is read again.
        services.snapshot_request(trigger="first-visit")
        state = _run_state()
    # Without its (large) data: the rendered figures come from the cache when they can.
    context = {
        **state,
        "body_html": mark_safe(_cached_body(state["snapshot"])),  # noqa: S308 - our own rendered template
        "title": "Content insights",
    }
    return render(request, "insights/dashboard.html", context)


def _percent_cols(sec: dict) -> set[str]:
    return {k for k, _ in sec["columns"] if k.endswith(("_share", "_rate", "_growth", "ctr", "play_through", "gap"))}


TITLE_CSV_PREFIX = "title-"
# What the section-csv route's <slug:key> accepts (ASCII only: reversing anything else fails).
_SECTION_KEY = re.compile(r"[-a-zA-Z0-9_]+", re.ASCII)


@staff_member_required
@require_GET
def section_csv(request, key: str):
    """The one CSV route: a dashboard section of the latest snapshot, or `title-<id>` (a title's
    impressions per home row, as on its performance page)."""
    if key.startswith(TITLE_CSV_PREFIX):
        title_id = parse_id(key.removeprefix(TITLE_CSV_PREFIX))
        if title_id is None:
            raise Http404("Unknown section.")
        title = get_object_or_404(Title, pk=title_id)
        return _csv_response(_title_impressions_section(title, aggregates.min_group()))
    sections = _sections(selectors.snapshot_latest())
    if key not in sections:
        raise Http404("Unknown or not yet computed section.")
    return _csv_response(sections[key])


@staff_member_required
@require_POST
def refresh(request):
    snap, created = services.snapshot_request(trigger="manual")
    snap = selectors.snapshot_get(snap.pk) or snap
    if created and snap.status == SnapshotStatus.READY:
        # No broker and no background thread (inline): it ran before this answer.
        messages.success(request, "Aggregation finished: the figures below are fresh.")
    elif created and snap.status == SnapshotStatus.FAILED:
        messages.error(request, "Aggregation failed: see the note below.")
    elif created:
        messages.info(request, "Aggregation queued: it runs in the background; this page shows its progress.")
    else:
        messages.info(
            request,
            f"An aggregation is already {snap.get_status_display().lower()} ({snap.progress}%): "
            "this page shows its progress.",
        )
    return redirect("insights:dashboard")


@staff_member_required
@require_GET
def status(request):
    """The progress fragment: htmx polls it every 2 s while a run is active.

    The polling request names the run it watches (`?run=`); once that run is over, the answer
    stops the polling and carries the fresh figures as an out-of-band swap of the page body.
    """
    state = _run_state()
    watched = parse_id(request.GET.get("run", ""))
    finished = None
    if watched is not None and state["active"] is None:
        finished = selectors.snapshot_get(watched)
    context = {**state, "finished": finished}
    if finished is not None:
        context["body_html"] = mark_safe(_cached_body(state["snapshot"]))  # noqa: S308 - our own rendered template
    return render(request, "insights/_status.html", context)


@staff_member_required
@require_GET
def greenlight(request):
    snapshot = selectors.snapshot_latest()
    data = snapshot.data if snapshot else {}
    cluster_list = (data.get("clusters") or {}).get("clusters", [])
    genres, tags = selectors.combo_choices()
    cluster_param = request.GET.get("cluster", "")
    genre_slug, tag_slug = request.GET.get("genre", ""), request.GET.get("tag", "")
    context = {
        "snapshot": snapshot,
        "cluster_list": cluster_list,
        "genres": genres,
        "tags": tags,
        "min_group": aggregates.min_group(data),
        "title": "Greenlight brief",
        # The pickers keep what was asked for selected, so the form names the brief shown.
        "selected": {"cluster": parse_id(cluster_param), "genre": genre_slug, "tag": tag_slug},
    }
    k = context["min_group"]
    if cluster_param:
        cluster_id = parse_id(cluster_param)  # clusters are numbered from 1
        if cluster_id is None:
            return render(request, "insights/greenlight.html", {**context, "error": "Choose a cluster."}, status=400)
        cluster = next((c for c in cluster_list if c["id"] == cluster_id), None)
        if cluster is None:
            return render(
                request,
                "insights/greenlight.html",
                {**context, "error": "No such cluster (or it is too small to show)."},
                status=404,
            )
        stats = selectors.title_stats_for(cluster["top_scored"])
        names = dict(Title.objects.filter(pk__in=cluster["top_scored"]).values_list("pk", "name"))
        # Both figures of a title from the same run and the same definition (watched or liked):
        # the cluster's members are a part of all consenting profiles, so theirs is never larger.
        audience = cluster.get("audience")
        context["brief"] = {
            "heading": f"Audience cluster {cluster['id']}",
            "audience": cluster["size"],
            "top_titles": cluster["favourites"],
            "genres": cluster["top_genres"],
            "tags": cluster["top_tags"],
            "searches": cluster["searches_not_found"],
            "comparables": _comparables(cluster["top_scored"], stats, names, k, audience),
            "candidates": cluster["candidate_titles"],
        }
    elif genre_slug or tag_slug:
        genre = Genre.objects.filter(slug=genre_slug).first()
        tag = Tag.objects.filter(slug=tag_slug).first()
        if genre is None or tag is None:
            return render(
                request, "insights/greenlight.html", {**context, "error": "Choose a genre and a tag."}, status=400
            )
        titles = list(selectors.combo_titles(genre, tag))
        stats = selectors.title_stats_for(t.pk for t in titles)
        names = {t.pk: t.name for t in titles}
        comparables = _comparables([t.pk for t in titles], stats, names, k)
        comparables.sort(key=lambda r: -(r["audience"] or 0))
        gaps = (data.get("sections", {}).get("gaps") or {}).get("rows", [])
        words = {genre.name.lower(), tag.name.lower()}
        # Precomputed by the aggregation run; pairs under k profiles were never stored.
        audience = (data.get("combo_audiences") or {}).get(f"{genre.slug}|{tag.slug}", 0)
        context["brief"] = {
            "heading": f"{genre.name} × {tag.name}",
            "audience": audience,
            "top_titles": [
                {"title_id": r["title_id"], "name": r["name"], "members": r["audience"]}
                for r in comparables[:10]
                if r["audience"] is not None
            ],
            "genres": [],
            "tags": [],
            "searches": [g for g in gaps if any(w in g["term"] for w in words)][:15],
            "comparables": comparables[:25],
            "candidates": [],
            "catalog_titles": len(titles),
            "suppressed": audience < k,
        }
    return render(request, "insights/greenlight.html", context)


def _comparables(title_ids, stats, names, k: int, audience: dict | None = None) -> list[dict]:
    """How titles did over all consenting profiles. `audience` (a cluster's, from the snapshot)
    gives the watched-or-liked counts of the same run; otherwise TitleStats' (the latest run)."""
    rows = []
    for tid in title_ids:
        s = stats.get(tid)
        people = audience.get(str(tid)) if audience is not None else (s.engaged if s is not None else None)
        ok = s is not None and s.audience >= k and (people or 0) >= k
        rows.append(
            {
                "title_id": tid,
                "name": names.get(tid, "?"),
                "audience": people if ok else None,
                "viewers": s.viewers if ok else None,
                "completion_rate": s.completion_rate if ok else None,
                "positive_share": ((s.up + s.love) / s.raters if s.raters else 0.0) if ok else None,
                "suppressed": not ok,
            }
        )
    return rows


# `<input type="datetime-local">` sends "2026-12-24T18:30" (seconds when a step asks for them).
_AS_OF = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?", re.ASCII)
AS_OF_INVALID = "Not a date and time: give one as YYYY-MM-DDTHH:MM (the picker's format), or leave it empty for now."


def _preview_as_of(raw: str):
    """The preview's moment: None for now, a timezone-aware datetime (read in the site's time
    zone), or False when `raw` is not one."""
    if not raw:
        return None
    if not _AS_OF.fullmatch(raw):
        return False
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:  # well-formed but no such moment: "2026-02-30T10:00"
        return False
    return timezone.make_aware(moment, timezone.get_current_timezone())


@staff_member_required
@require_GET
def preview(request):
    """Home as a chosen profile sees it: read-only (nothing is recorded for that profile), audited.

    `as_of` (optional): the moment whose scheduled collections are live, so a curator checks a
    row before it goes live; every other row is as of now.
    """
    query = request.GET.get("profile", "").strip()
    as_of_raw = request.GET.get("as_of", "").strip()
    as_of = _preview_as_of(as_of_raw)
    pick = {"query": query, "as_of": as_of_raw, "title": "Preview home"}
    if as_of is False:
        return render(request, "insights/preview_pick.html", {**pick, "error": AS_OF_INVALID}, status=400)
    if "id" in request.GET:
        profile_id = parse_id(request.GET["id"])
        if profile_id is None:
            return render(request, "insights/preview_pick.html", {**pick, "error": "Invalid profile id."}, status=400)
        profile = get_object_or_404(Profile.objects.select_related("account"), pk=profile_id)
        home = build_home(profile=profile, now=as_of)
        services.preview_audit_record(staff=request.user, profile=profile)
        context = {"home": home, "previewed": profile, "as_of": as_of, "as_of_value": as_of_raw}
        return render(request, "insights/preview_home.html", context)
    if _bad_id_search(query):
        error = "Not a profile id: use ASCII digits (1, 2, 3...), a profile name or a username."
        return render(request, "insights/preview_pick.html", {**pick, "error": error}, status=400)
    matches = selectors.profiles_find(query)
    return render(
        request,
        "insights/preview_pick.html",
        {**pick, "matches": matches, "audits": selectors.preview_audits()},
    )


@staff_member_required
@require_GET
def titles(request):
    query = request.GET.get("q", "")
    if _bad_id_search(query.strip()):
        messages.error(request, "Not a title id: use ASCII digits (1, 2, 3...) or search by name.")
        context = {"query": query, "results": [], "title": "Title performance"}
        return render(request, "insights/titles.html", context, status=400)
    return render(
        request,
        "insights/titles.html",
        {"query": query, "results": list(selectors.titles_search(query)), "title": "Title performance"},
    )


def _title_impressions_section(title: Title, k: int) -> dict:
    """A title's impressions per home row (last 30 days), rows of k or more profiles only."""
    rows = [r for r in selectors.title_impressions(title) if (r["profiles"] or 0) >= k]
    return aggregates.section(
        f"title-{title.pk}",
        title.name,
        [
            ["row_key", "Home row"],
            ["impressions", "Impressions (times shown)"],
            ["clicks", "Detail opens (clicks)"],
            ["plays", f"Plays within {aggregates.PLAY_WINDOW_HOURS} h of an impression"],
        ],
        rows,
    )


@staff_member_required
@require_GET
def title_performance(request, pk: int):
    title = get_object_or_404(Title, pk=pk)
    if request.GET.get("format") == "csv":
        # The one CSV route serves it (old links with ?format=csv land there).
        return redirect("insights:section-csv", key=f"{TITLE_CSV_PREFIX}{title.pk}")
    stats = selectors.title_stats_for([title.pk]).get(title.pk)
    k = aggregates.min_group()
    suppressed = stats is None or stats.audience < k
    impressions = selectors.title_impressions(title)
    impressions_ok = [r for r in impressions if (r["profiles"] or 0) >= k]
    chart = ""
    if stats is not None and not suppressed:
        chart = charts.bar_chart(
            title=f"Ratings of {title.name} (profiles)",
            labels=["Disliked", "Liked", "Loved"],
            series=[("Ratings (profiles)", [stats.down, stats.up, stats.love])],
            percent=False,
            unit="profiles",
        )
    imp_chart = ""
    if impressions_ok:
        imp_chart = charts.bar_chart(
            title=f"Impressions vs plays of {title.name} by home row",
            labels=[r["row_key"] for r in impressions_ok],
            series=[
                ("Impressions (times shown)", [r["impressions"] for r in impressions_ok]),
                (f"Plays within {aggregates.PLAY_WINDOW_HOURS} h", [r["plays"] for r in impressions_ok]),
            ],
            percent=False,
        )
    return render(
        request,
        "insights/title.html",
        {
            "t": title,
            "stats": stats,
            "suppressed": suppressed,
            "completion_rate": stats.completion_rate if stats else 0,
            "impressions": impressions_ok,
            "impressions_hidden": len(impressions) - len(impressions_ok),
            "chart": chart,
            "imp_chart": imp_chart,
            "min_group": k,
            "csv_key": f"{TITLE_CSV_PREFIX}{title.pk}",
            "title": f"Performance: {title.name}",
        },
    )
