"""Issue 15, insights: figures that add up (one audience definition, series finished at their last
episode, units, clusters in order, the pickers showing the brief's choice), the demo's home-row
engagement, the layers (a compute service keyed by section, one k, one CSV cell rule, one CSV
route), and background recomputation with honest messages and a progress fragment that stops."""

import ast
import csv
import io
import re
import threading
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from catalog.models import RatingValue, TitleKind
from common.csv import defuse
from insights import aggregates, clusters, computation, services, views
from insights.models import Click, Impression, InsightsSnapshot, SnapshotStatus, TitleStats
from ops import background
from tests.support.accounts import make_account
from tests.support.factories import (
    EpisodeFactory,
    GenreFactory,
    RatingFactory,
    SeasonFactory,
    TagFactory,
    TitleFactory,
    ViewingFactory,
)
from tests.support.recommender import install_axis_model

ROOT = Path(django_settings.BASE_DIR)


def _people(prefix, n, consents=True):
    return [make_account(f"{prefix}{i}", consents=consents)[1] for i in range(n)]


def _install_model(tmp_path, settings, profiles, axis, titles):
    """A serving model whose profiles point along axis[i] (0 or 1): clusters of known sizes."""
    settings.MODEL_ROOT = tmp_path / "models"
    install_axis_model(profiles, titles, axis=axis, spread=0.01, version="vr2")


def _compute() -> InsightsSnapshot:
    snap = InsightsSnapshot.objects.create()
    assert computation.snapshot_compute(snap.pk), InsightsSnapshot.objects.get(pk=snap.pk).error
    snap.refresh_from_db()
    return snap


@pytest.fixture
def clustered(db, tmp_path, settings, monkeypatch):
    """12 consenting profiles in two taste clusters (8 along axis 0, 4 along axis 1), k = 3.

    Where the bug showed: every member of the big cluster loves "Liked" but only 3 of them
    watched it, and 5 viewers who refused analytics watched it too. The cluster's count
    (watched or liked) was 8 beside "3 viewers (all consenting)".
    """
    monkeypatch.setattr(clusters, "TOP_SCORED", 4)
    action, romance = GenreFactory(name="Action", slug="action"), GenreFactory(name="Romance", slug="romance")
    titles = [
        TitleFactory(name=n, genres=[action if i % 2 == 0 else romance])
        for i, n in enumerate(["Liked", "Sweet", "Loud", "Tender"])
    ]
    profiles = _people("cl", 12)
    axis = [0] * 8 + [1] * 4
    refusers = _people("clr", 5, consents=False)
    for i, p in enumerate(profiles):
        if axis[i] == 0:
            RatingFactory(profile=p, title=titles[0], value=RatingValue.LOVE)
            RatingFactory(profile=p, title=titles[2], value=RatingValue.UP)
        else:
            RatingFactory(profile=p, title=titles[1], value=RatingValue.LOVE)
            ViewingFactory(profile=p, title=titles[3])
    for p in profiles[:3]:
        ViewingFactory(profile=p, title=titles[0])
    for p in refusers:
        ViewingFactory(profile=p, title=titles[0])
    _install_model(tmp_path, settings, profiles + refusers, axis + [0] * 5, titles)
    return {"titles": titles, "profiles": profiles, "snap": _compute()}


# --- figures that add up ---------------------------------------------------------------------------


def test_cluster_counts_never_exceed_the_consenting_audience(clustered, staff_client):
    snap = clustered["snap"]
    liked = clustered["titles"][0]
    assert snap.data["consenting_profiles"] == 12
    stats = {s.title_id: s for s in TitleStats.objects.all()}
    assert stats[liked.pk].viewers == 3  # the old comparison: 8 "watched or liked" beside 3 viewers
    assert stats[liked.pk].engaged == 8  # one definition now: watched or liked, all consenting
    for cluster in snap.data["clusters"]["clusters"]:
        for fav in cluster["favourites"]:
            assert fav["members"] <= stats[fav["title_id"]].engaged <= snap.data["consenting_profiles"]
        for tid, n in cluster["audience"].items():
            assert n == stats[int(tid)].engaged
    # The brief shows both figures side by side: the cluster's never above everyone's.
    response = staff_client.get(reverse("insights:greenlight"), {"cluster": 1})
    assert response.status_code == 200
    brief = response.context["brief"]
    everyone = {r["title_id"]: r["audience"] for r in brief["comparables"]}
    shared = [t for t in brief["top_titles"] if t["title_id"] in everyone]
    assert shared, "the test needs a title in both lists"
    for t in shared:
        assert t["members"] <= everyone[t["title_id"]]
    html = response.content.decode()
    assert "8 profiles of the cluster watched or liked it" in html
    assert "Profiles who watched or liked it (all consenting)" in html
    assert "<td>8</td>" in html


def test_clusters_are_numbered_and_listed_by_size_in_the_page_and_the_selector(clustered, staff_client):
    listed = clustered["snap"].data["clusters"]["clusters"]
    assert [(c["id"], c["size"]) for c in listed] == [(1, 8), (2, 4)]
    html = staff_client.get(reverse("insights:dashboard")).content.decode()
    assert re.findall(r'data-cluster="(\d+)"', html) == ["1", "2"]
    gl = staff_client.get(reverse("insights:greenlight")).content.decode()
    assert re.findall(r'<option value="(\d+)"', gl) == ["1", "2"]


def test_greenlight_selectors_keep_the_choice_whose_brief_is_shown(clustered, staff_client):
    html = staff_client.get(reverse("insights:greenlight"), {"cluster": 2}).content.decode()
    assert "Audience cluster 2" in html
    assert re.findall(r'<option value="(\d+)" selected>', html) == ["2"]
    tag = TagFactory(name="Heist", slug="heist")
    clustered["titles"][1].title_tags.create(tag=tag)
    html = staff_client.get(reverse("insights:greenlight"), {"genre": "romance", "tag": "heist"}).content.decode()
    assert "Romance × Heist" in html
    assert '<option value="romance" selected>' in html and '<option value="heist" selected>' in html
    assert '<option value="action" selected>' not in html
    # Nothing asked: nothing pre-selected beyond the browser's default.
    plain = staff_client.get(reverse("insights:greenlight")).content.decode()
    assert " selected>" not in plain


@pytest.mark.django_db
def test_a_series_is_finished_when_its_last_episode_is():
    show = TitleFactory(name="Show", kind=TitleKind.SERIES)
    s1, s2 = SeasonFactory(title=show, number=1), SeasonFactory(title=show, number=2)
    e11, e12 = (EpisodeFactory(title=show, season=s1, number=n) for n in (1, 2))
    e21, e22 = (EpisodeFactory(title=show, season=s2, number=n) for n in (1, 2))
    a, b, c, d = _people("se", 4)
    # a skipped to the finale and finished it: finished.
    ViewingFactory(profile=a, title=show, episode=e11, completed=False)
    ViewingFactory(profile=a, title=show, episode=e22, completed=True)
    # b finished everything but the finale: not finished, stopped at S2E2.
    for e in (e11, e12, e21):
        ViewingFactory(profile=b, title=show, episode=e, completed=True)
    ViewingFactory(profile=b, title=show, episode=e22, completed=False)
    # c finished season 1 only; d finished the whole series in order.
    for e in (e11, e12):
        ViewingFactory(profile=c, title=show, episode=e, completed=True)
    for e in (e11, e12, e21, e22):
        ViewingFactory(profile=d, title=show, episode=e, completed=True)
    film = TitleFactory(name="Film")
    for p in (a, b, c):
        ViewingFactory(profile=p, title=film, completed=p is a)

    row = next(r for r in aggregates.drop_off()["rows"] if r["name"] == "Show")
    assert (row["viewers"], row["episodes"], row["finished"]) == (4, 4, 2)
    assert row["finished_share"] == 0.5
    kind = {r["name"]: r for r in aggregates.completion("kind")["rows"]}
    # One view per profile and title, films and series alike.
    assert (kind["Series"]["views"], kind["Series"]["completed"], kind["Series"]["completion_rate"]) == (4, 2, 0.5)
    assert (kind["Film"]["views"], kind["Film"]["completed"]) == (3, 1)
    aggregates.title_stats_rebuild(timezone.now())
    stats = TitleStats.objects.get(title=show)
    assert (stats.viewers, stats.finished, stats.completion_rate) == (4, 2, 0.5)
    assert stats.completions == 10  # completed episode rows, a different figure with its own label


# --- units -------------------------------------------------------------------------------------------


@pytest.fixture
def rising(db):
    now = timezone.now()
    riser = TitleFactory(name="Riser")
    people = _people("r", 5)
    ViewingFactory(profile=people[0], title=riser, started_at=now - timezone.timedelta(days=10))
    for p in people[1:]:
        ViewingFactory(profile=p, title=riser, started_at=now - timezone.timedelta(days=2))
        RatingFactory(profile=p, title=riser, value=RatingValue.LOVE)
    return _compute()


def test_every_figure_says_what_it_counts(rising, staff_client):
    html = staff_client.get(reverse("insights:dashboard")).content.decode()
    # Growth is a percentage now, in the table and the chart ("Play growth 15.00" was a bare number).
    assert "Play growth (% week over week)" in html and "300.0%" in html
    svg = re.search(r'<section[^>]*data-section="rising".*?</section>', html, flags=re.S).group(0)
    assert "300.0%" in svg and "Play growth (% week over week)" in svg
    response = staff_client.get(reverse("insights:section-csv", kwargs={"key": "rising"}))
    header = next(csv.reader(io.StringIO(response.content.decode())))
    assert header[:4] == [
        "Title",
        "Profiles who started it this week",
        "Profiles who started it last week",
        "Play growth (% week over week)",
    ]
    # Every numeric column of every section names its unit or what it counts.
    counts = {"Profiles", "Searches", "Episodes", "Catalog titles", "Cluster", "Positive ratings this week"}
    sections = views._sections(rising)
    for sec in sections.values():
        for key, label in sec["columns"]:
            numeric = any(isinstance(r.get(key), int | float) for r in sec["rows"])
            if numeric and key not in ("id",):
                assert "(" in label or label in counts or label.startswith(("Positive ratings", "Profiles")), label
    for _key, (_label, series, _opts) in views.CHARTS.items():
        assert all("(" in legend or "Profiles" in legend for legend, _col in series)


# --- demo data -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_records_home_row_impressions_and_clicks_so_the_row_table_fills():
    from catalog import signals
    from catalog.importing import demo
    from recommendations.home import build_home

    small = demo.Sizes(films=80, series=10, people=80, subscribers=40)
    assert demo.seed_demo(seed=4, sizes=small).created
    # What the command does after a fresh seed (the receivers add their demo data).
    counts = {}
    for _receiver, result in signals.demo_seeded.send(sender=None, seed=4):
        counts.update(result or {})
    assert counts["impressions"] == Impression.objects.count() > 0
    assert counts["clicks"] == Click.objects.count() > 0
    # The rows recorded are the home's rows: the same keys the home page and `?row=` clicks use.
    profile = Impression.objects.select_related("profile__account").first().profile
    home_keys = {row.key for row in build_home(profile=profile).rows}
    assert set(Impression.objects.filter(profile=profile).values_list("row_key", flat=True)) <= home_keys
    assert set(Click.objects.values_list("row_key", flat=True)) <= set(
        Impression.objects.values_list("row_key", flat=True)
    )
    rows = _compute().data["sections"]["rows"]["rows"]
    assert len(rows) >= 3
    assert all(r["impressions"] > 0 for r in rows) and any(r["clicks"] > 0 for r in rows)
    assert any(r["plays"] > 0 for r in rows)  # visits precede real viewing starts: play-through has plays


# --- layers ----------------------------------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names.add(("." * node.level) + (node.module or ""))
            names.update(f"{'.' * node.level}{node.module or ''}:{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_services_never_import_tasks_and_the_task_only_calls_the_service(monkeypatch):
    imported = _imports(ROOT / "insights" / "services.py")
    assert not any("tasks" in name for name in imported), imported
    from insights import tasks

    seen = []
    monkeypatch.setattr(computation, "snapshot_compute", lambda pk: seen.append(pk) or True)
    assert tasks.insights_compute.run(41) is True and seen == [41]
    assert not hasattr(tasks, "run") and not hasattr(tasks, "STALE_AFTER")


def test_compute_steps_are_keyed_by_section_key():
    keys = [key for key, _label, _fn in computation.STEPS]
    assert len(keys) == len(set(keys))
    assert set(views.SECTION_ORDER) <= set(keys)
    assert {"clusters", "combo_audiences"} <= set(keys)


@pytest.mark.django_db
def test_a_run_stores_each_result_and_timing_under_its_step_key():
    snap = InsightsSnapshot.objects.create()
    steps = [
        ("demo-section", "A section", lambda run: aggregates.section("demo-section", "Demo", [["n", "N (x)"]], [])),
        ("clusters", "Clusters", lambda run: {"available": False, "clusters": []}),
    ]
    assert computation.snapshot_compute(snap.pk, steps=steps)
    snap.refresh_from_db()
    assert list(snap.data["sections"]) == ["demo-section"]
    assert snap.data["clusters"] == {"available": False, "clusters": []}
    assert set(snap.data["timings"]) == {"demo-section", "clusters"}


def test_one_min_group_and_one_csv_cell_rule_in_the_codebase():
    apps = ["accounts", "catalog", "common", "insights", "ops", "privacy", "recommendations", "api"]
    defs = {"min_group": [], "defuse-like": []}
    for app in apps:
        for path in (ROOT / app).rglob("*.py"):
            text = path.read_text()
            if re.search(r"^def min_group\(", text, flags=re.M):
                defs["min_group"].append(str(path.relative_to(ROOT)))
            if "FORMULA_PREFIXES" in text and "= (" in text.split("FORMULA_PREFIXES", 1)[1][:5]:
                defs["defuse-like"].append(str(path.relative_to(ROOT)))
            assert "INSIGHTS_MIN_GROUP_SIZE" not in text or path.name == "aggregates.py", path
    assert defs == {"min_group": ["insights/aggregates.py"], "defuse-like": ["common/csv.py"]}
    assert "common.csv:defuse" in _imports(ROOT / "privacy" / "exports.py")
    assert "common.csv:defuse" in _imports(ROOT / "insights" / "views.py")


def test_the_csv_cell_rule():
    assert defuse("=HYPERLINK(x)") == "'=HYPERLINK(x)"
    assert defuse("@SUM(A1)") == "'@SUM(A1)"
    assert defuse("-cmd|evil") == "'-cmd|evil"
    assert defuse("\tx") == "'\tx"
    assert defuse("-0.25") == "-0.25" and defuse(-3) == "-3" and defuse("+4") == "+4"
    assert defuse(None) == "" and defuse("Drama") == "Drama"
    from privacy.exports import section_csv

    text = section_csv([{"query": "=cmd|evil", "n": -2}], ["query", "n"])
    assert text.splitlines()[1] == "'=cmd|evil,-2"


@pytest.mark.django_db
def test_one_csv_route_old_links_redirect_to_it(staff_client, rising):
    url = reverse("insights:section-csv", kwargs={"key": "rising"})
    old = staff_client.get(reverse("insights:dashboard"), {"format": "csv", "section": "rising"})
    assert old.status_code == 302 and old["Location"] == url
    for bad in ("²", "../etc", ""):
        refused = staff_client.get(reverse("insights:dashboard"), {"format": "csv", "section": bad})
        assert refused.status_code == 404, bad
    title = TitleFactory()
    old = staff_client.get(reverse("insights:title", kwargs={"pk": title.pk}), {"format": "csv"})
    assert old["Location"] == reverse("insights:section-csv", kwargs={"key": f"title-{title.pk}"})
    assert staff_client.get(old["Location"]).content.decode().startswith("Home row,Impressions (times shown)")
    assert staff_client.get(reverse("insights:section-csv", kwargs={"key": "title-999999"})).status_code == 404
    assert staff_client.get(reverse("insights:section-csv", kwargs={"key": "title-x"})).status_code == 404


# --- background recompute, progress, first visit -----------------------------------------------------


@pytest.mark.django_db
def test_first_visit_to_an_empty_dashboard_starts_one_computation(staff_client):
    response = staff_client.get(reverse("insights:dashboard"))
    assert response.status_code == 200
    snap = InsightsSnapshot.objects.get()
    assert snap.trigger == "first-visit" and snap.status == SnapshotStatus.PENDING
    html = response.content.decode()
    assert f'hx-get="{reverse("insights:status")}?run={snap.pk}"' in html and "<progress" in html
    # Many first visits: still one run (single-flight), and once one was ever asked, none more.
    for _ in range(3):
        staff_client.get(reverse("insights:dashboard"))
    assert InsightsSnapshot.objects.count() == 1
    InsightsSnapshot.objects.update(status=SnapshotStatus.FAILED)
    staff_client.get(reverse("insights:dashboard"))
    assert InsightsSnapshot.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_first_visit_inline_path_shows_the_figures_it_computed(staff, staff_client):
    """Without threads (the suite's default), the run happens right after the commit, before the
    page reads the state again: the first visit shows its figures."""
    TitleFactory(name="Anything")
    response = staff_client.get(reverse("insights:dashboard"))
    snap = InsightsSnapshot.objects.get()
    assert snap.status == SnapshotStatus.READY
    html = response.content.decode()
    assert "Figures computed" in html and 'data-section="demand-genre"' in html
    assert "hx-get" not in html


@pytest.mark.django_db(transaction=True)
def test_refresh_inline_says_it_finished(staff, staff_client):
    done = staff_client.post(reverse("insights:refresh"), follow=True)
    assert InsightsSnapshot.objects.get().status == SnapshotStatus.READY
    assert "Aggregation finished: the figures below are fresh." in done.content.decode()
    assert "progress is shown below" not in done.content.decode()


@pytest.mark.django_db
def test_refresh_says_queued_or_already_running(staff_client):
    queued = staff_client.post(reverse("insights:refresh"), follow=True)  # in a test transaction: not run yet
    assert "Aggregation queued: it runs in the background" in queued.content.decode()
    again = staff_client.post(reverse("insights:refresh"), follow=True)
    assert "An aggregation is already queued (0%)" in again.content.decode()
    InsightsSnapshot.objects.update(status=SnapshotStatus.RUNNING, progress=40, heartbeat_at=timezone.now())
    running = staff_client.post(reverse("insights:refresh"), follow=True).content.decode()
    assert "An aggregation is already running (40%)" in running
    assert "<progress" in running and "disabled" in running
    assert InsightsSnapshot.objects.count() == 1


@pytest.mark.django_db
def test_status_fragment_polls_while_active_and_stops_with_the_fresh_figures(staff_client):
    running = InsightsSnapshot.objects.create(status=SnapshotStatus.RUNNING, progress=40, step="Content gaps")
    url = reverse("insights:status")
    active = staff_client.get(url, {"run": running.pk}).content.decode()
    assert f'hx-get="{url}?run={running.pk}"' in active and 'hx-trigger="every 2s"' in active
    assert 'value="40"' in active and "Content gaps" in active and "40%" in active
    assert "hx-swap-oob" not in active
    # The run ends: the next poll stops polling and swaps the new figures in.
    InsightsSnapshot.objects.filter(pk=running.pk).delete()
    snap = _compute()
    done = staff_client.get(url, {"run": snap.pk}).content.decode()
    assert "hx-get" not in done and "Aggregation finished" in done
    assert '<div id="insights-body" hx-swap-oob="true">' in done and "Content insights" not in done
    # Without a watched run (a plain status read), no body comes along.
    assert "hx-swap-oob" not in staff_client.get(url).content.decode()
    assert staff_client.get(url, {"run": "x"}).status_code == 200


GATE = threading.Event()


@pytest.fixture
def threads(settings, monkeypatch):
    """The embedded stack's path: the run happens in a thread of the web process, gated so the
    test can look at the page while it is running."""
    settings.OUTBOX_EAGER_THREADS = True
    GATE.clear()

    def gated(run):
        if not GATE.wait(timeout=20):
            raise TimeoutError("the test never opened the gate")

    monkeypatch.setattr(computation, "STEPS", [("gate", "Waiting at the gate", gated), *computation.STEPS])
    yield
    GATE.set()
    assert background.wait_idle(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_recompute_runs_in_a_web_process_thread_with_progress(threads, staff, staff_client):
    TitleFactory(name="Anything")
    response = staff_client.post(reverse("insights:refresh"), follow=True)
    html = response.content.decode()
    assert "Aggregation queued: it runs in the background" in html  # answered while the run waits
    snap = InsightsSnapshot.objects.get()
    assert snap.status in (SnapshotStatus.PENDING, SnapshotStatus.RUNNING)
    assert background.running() == 1
    status = staff_client.get(reverse("insights:status"), {"run": snap.pk}).content.decode()
    assert "hx-get" in status and "<progress" in status
    GATE.set()
    assert background.wait_idle(timeout=30)
    snap.refresh_from_db()
    assert snap.status == SnapshotStatus.READY and snap.progress == 100
    assert "gate" in snap.data["timings"] and "demand-genre" in snap.data["sections"]
    done = staff_client.get(reverse("insights:status"), {"run": snap.pk}).content.decode()
    assert "hx-get" not in done and "hx-swap-oob" in done


@pytest.mark.django_db(transaction=True)
def test_first_visit_in_thread_mode_answers_at_once_and_computes_behind(threads, staff, staff_client):
    response = staff_client.get(reverse("insights:dashboard"))
    assert response.status_code == 200 and b"<progress" in response.content
    snap = InsightsSnapshot.objects.get()
    assert snap.status in (SnapshotStatus.PENDING, SnapshotStatus.RUNNING)
    # Visits meanwhile join the running computation.
    staff_client.get(reverse("insights:dashboard"))
    again, created = services.snapshot_request(trigger="manual")
    assert (again.pk, created) == (snap.pk, False)
    GATE.set()
    assert background.wait_idle(timeout=30)
    snap.refresh_from_db()
    assert snap.status == SnapshotStatus.READY and InsightsSnapshot.objects.count() == 1
    page = staff_client.get(reverse("insights:dashboard")).content.decode()
    assert "Figures computed" in page and "hx-get" not in page
