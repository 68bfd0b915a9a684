"""Staff pages of insights. Thin: selectors read the precomputed snapshot, services write."""

from __future__ import annotations

import csv
import logging

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Profile
from catalog.models import Genre, Tag, Title
from common.ids import parse_id
from recommendations.home import build_home

from . import aggregates, charts, clusters, selectors, services

log = logging.getLogger(__name__)


def _bad_id_search(query: str) -> bool:
    """True for digits that are not an id ("²", Arabic-Indic ones, past 64 bits): the search selectors would
    take them for one and int() them. A search box asking for "name or id" answers a 400."""
    return query.isdigit() and parse_id(query) is None


BODY_CACHE_VERSION = 1
BODY_CACHE_SECONDS = 60 * 60 * 24

# Charts drawn for the sections: (label column, [(legend, value column)], options).
CHARTS = {
    "demand-genre": ("name", [("Demand share", "demand_share"), ("Share of catalog", "catalog_share")], {}),
    "demand-tag": ("name", [("Demand share", "demand_share"), ("Share of catalog", "catalog_share")], {}),
    "rising": ("name", [("Play growth", "plays_growth"), ("Rating growth", "positive_growth")], {"percent": False}),
    "gaps": ("term", [("Profiles", "profiles")], {"percent": False}),
    "completion-genre": ("name", [("Completion rate", "completion_rate")], {}),
    "completion-kind": ("name", [("Completion rate", "completion_rate")], {}),
    "dropoff": (
        "name",
        [("Finished the series", "finished_share"), ("Stopping at the top stop", "top_stop_share")],
        {},
    ),
    "rows": ("row", [("Click-through", "ctr"), ("Play-through", "play_through")], {}),
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


def _csv_cell(value):
    # Search terms are typed by viewers: never let a spreadsheet run them as formulas.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _csv_response(sec: dict) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="insights-{sec["key"]}.csv"'
    writer = csv.writer(response)
    writer.writerow([label for _key, label in sec["columns"]])
    for row in sec["rows"]:
        writer.writerow([_csv_cell(row.get(key)) for key, _label in sec["columns"]])
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
            "min_group": snapshot.data.get("min_group", aggregates.min_group()) if snapshot else aggregates.min_group(),
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


@staff_member_required
@require_GET
def dashboard(request):
    if request.GET.get("format") == "csv":
        sections = _sections(selectors.snapshot_latest())
        key = request.GET.get("section", "")
        if key not in sections:
            return HttpResponse("Unknown or not yet computed section.", status=404, content_type="text/plain")
        return _csv_response(sections[key])
    # Without its (large) data: the rendered figures come from the cache when they can.
    snapshot = selectors.snapshot_latest(with_data=False)
    failed = selectors.snapshot_last_failed()
    if failed is not None and snapshot is not None and failed.created_at < snapshot.created_at:
        failed = None  # a later run succeeded: the old failure is history
    context = {
        "snapshot": snapshot,
        "body_html": mark_safe(_cached_body(snapshot)),  # noqa: S308 - our own rendered template
        "active": selectors.snapshot_active(),
        "failed": failed,
        "title": "Content insights",
    }
    return render(request, "insights/dashboard.html", context)


def _percent_cols(sec: dict) -> set[str]:
    return {k for k, _ in sec["columns"] if k.endswith(("_share", "_rate", "ctr", "play_through", "gap"))}


@staff_member_required
@require_GET
def section_csv(request, key: str):
    sections = _sections(selectors.snapshot_latest())
    if key not in sections:
        raise Http404("Unknown or not yet computed section.")
    return _csv_response(sections[key])


@staff_member_required
@require_POST
def refresh(request):
    _snap, created = services.snapshot_request(trigger="manual")
    if created:
        messages.info(request, "Aggregation queued: progress is shown below.")
    else:
        messages.info(request, "An aggregation is already running.")
    return redirect("insights:dashboard")


@staff_member_required
@require_GET
def status(request):
    """The progress fragment (htmx polls it while a run is active)."""
    return render(
        request,
        "insights/_status.html",
        {"active": selectors.snapshot_active(), "snapshot": selectors.snapshot_latest(with_data=False), "failed": None},
    )


@staff_member_required
@require_GET
def greenlight(request):
    snapshot = selectors.snapshot_latest()
    data = snapshot.data if snapshot else {}
    cluster_list = (data.get("clusters") or {}).get("clusters", [])
    genres, tags = selectors.combo_choices()
    context = {
        "snapshot": snapshot,
        "cluster_list": cluster_list,
        "genres": genres,
        "tags": tags,
        "min_group": data.get("min_group", aggregates.min_group()),
        "title": "Greenlight brief",
    }
    cluster_param = request.GET.get("cluster", "")
    genre_slug, tag_slug = request.GET.get("genre", ""), request.GET.get("tag", "")
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
        context["brief"] = {
            "heading": f"Audience cluster {cluster['id']}",
            "audience": cluster["size"],
            "top_titles": cluster["favourites"],
            "genres": cluster["top_genres"],
            "tags": cluster["top_tags"],
            "searches": cluster["searches_not_found"],
            "comparables": _comparables(cluster["top_scored"], stats, names),
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
        comparables = _comparables([t.pk for t in titles], stats, names)
        comparables.sort(key=lambda r: -(r["viewers"] or 0))
        gaps = (data.get("sections", {}).get("gaps") or {}).get("rows", [])
        words = {genre.name.lower(), tag.name.lower()}
        # Precomputed by the aggregation run; pairs under k profiles were never stored.
        audience = (data.get("combo_audiences") or {}).get(f"{genre.slug}|{tag.slug}", 0)
        context["brief"] = {
            "heading": f"{genre.name} × {tag.name}",
            "audience": audience,
            "top_titles": [
                {"title_id": r["title_id"], "name": r["name"], "members": r["viewers"]}
                for r in comparables[:10]
                if r["viewers"] is not None
            ],
            "genres": [],
            "tags": [],
            "searches": [g for g in gaps if any(w in g["term"] for w in words)][:15],
            "comparables": comparables[:25],
            "candidates": [],
            "catalog_titles": len(titles),
            "suppressed": audience < context["min_group"],
        }
    return render(request, "insights/greenlight.html", context)


def _comparables(title_ids, stats, names) -> list[dict]:
    k = aggregates.min_group()
    rows = []
    for tid in title_ids:
        s = stats.get(tid)
        ok = s is not None and s.audience >= k
        rows.append(
            {
                "title_id": tid,
                "name": names.get(tid, "?"),
                "viewers": s.viewers if ok else None,
                "completion_rate": (s.completions / s.plays if s.plays else 0.0) if ok else None,
                "positive_share": ((s.up + s.love) / s.raters if s.raters else 0.0) if ok else None,
                "suppressed": not ok,
            }
        )
    return rows


@staff_member_required
@require_GET
def preview(request):
    """Home as a chosen profile sees it: read-only (nothing is recorded for that profile), audited."""
    query = request.GET.get("profile", "").strip()
    if "id" in request.GET:
        profile_id = parse_id(request.GET["id"])
        if profile_id is None:
            return render(
                request, "insights/preview_pick.html", {"error": "Invalid profile id.", "query": query}, status=400
            )
        profile = get_object_or_404(Profile.objects.select_related("account"), pk=profile_id)
        home = build_home(profile=profile)
        services.preview_audit_record(staff=request.user, profile=profile)
        return render(request, "insights/preview_home.html", {"home": home, "previewed": profile})
    if _bad_id_search(query):
        error = "Not a profile id: use ASCII digits (1, 2, 3...), a profile name or a username."
        return render(request, "insights/preview_pick.html", {"error": error, "query": query}, status=400)
    matches = selectors.profiles_find(query)
    return render(
        request,
        "insights/preview_pick.html",
        {"query": query, "matches": matches, "audits": selectors.preview_audits(), "title": "Preview home"},
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


@staff_member_required
@require_GET
def title_performance(request, pk: int):
    title = get_object_or_404(Title, pk=pk)
    stats = selectors.title_stats_for([title.pk]).get(title.pk)
    k = aggregates.min_group()
    suppressed = stats is None or stats.audience < k
    impressions = selectors.title_impressions(title)
    impressions_ok = [r for r in impressions if (r["profiles"] or 0) >= k]
    chart = ""
    if stats is not None and not suppressed:
        chart = charts.bar_chart(
            title=f"Ratings of {title.name}",
            labels=["Disliked", "Liked", "Loved"],
            series=[("Ratings", [stats.down, stats.up, stats.love])],
            percent=False,
        )
    imp_chart = ""
    if impressions_ok:
        imp_chart = charts.bar_chart(
            title=f"Impressions vs plays of {title.name} by home row",
            labels=[r["row_key"] for r in impressions_ok],
            series=[
                ("Impressions", [r["impressions"] for r in impressions_ok]),
                ("Plays after impression", [r["plays"] for r in impressions_ok]),
            ],
            percent=False,
        )
    if request.GET.get("format") == "csv":
        sec = aggregates.section(
            f"title-{title.pk}",
            title.name,
            [["row_key", "Home row"], ["impressions", "Impressions"], ["clicks", "Opens"], ["plays", "Plays"]],
            impressions_ok,
        )
        return _csv_response(sec)
    return render(
        request,
        "insights/title.html",
        {
            "t": title,
            "stats": stats,
            "suppressed": suppressed,
            "completion_rate": (stats.completions / stats.plays) if stats and stats.plays else 0,
            "impressions": impressions_ok,
            "impressions_hidden": len(impressions) - len(impressions_ok),
            "chart": chart,
            "imp_chart": imp_chart,
            "min_group": k,
            "title": f"Performance: {title.name}",
        },
    )
