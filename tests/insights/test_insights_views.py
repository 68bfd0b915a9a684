"""Insights pages: staff only (regular user and anonymous are sent to the admin login), CSV
downloads, k-anonymity notices, greenlight brief, audited home preview, title performance."""

import csv
import io
import re

import pytest
from django.urls import reverse

from catalog.models import RatingValue
from insights import computation
from insights.models import InsightsSnapshot, PreviewAudit, SnapshotStatus
from tests.support.accounts import make_account, signed_in_client
from tests.support.factories import (
    CollectionFactory,
    GenreFactory,
    RatingFactory,
    TagFactory,
    TitleFactory,
    UserFactory,
    ViewingFactory,
)

pytestmark = pytest.mark.django_db

PAGES = [
    ("insights:dashboard", {}),
    ("insights:greenlight", {}),
    ("insights:preview", {}),
    ("insights:titles", {}),
    ("insights:status", {}),
    ("insights:section-csv", {"key": "demand-genre"}),
]


@pytest.fixture
def computed(db):
    """A small world, aggregated: Drama liked by 4 consenting fans; one search gap of 3 people."""
    from catalog.models import SearchQuery

    drama = GenreFactory(name="Drama", slug="drama")
    tag = TagFactory(name="Heist", slug="heist")
    d1 = TitleFactory(name="D1", genres=[drama])
    d1.title_tags.create(tag=tag, weight=1.0)
    lonely = TitleFactory(name="Lonely", genres=[GenreFactory(name="Western", slug="western")])
    fans = [make_account(f"fan{i}")[1] for i in range(4)]
    for p in fans:
        ViewingFactory(profile=p, title=d1, position_seconds=600, duration_seconds=600, completed=True)
        RatingFactory(profile=p, title=d1, value=RatingValue.LOVE)
    for p in fans[:3]:
        SearchQuery.objects.create(profile=p, query="=HYPERLINK(heist)", result_count=0)
    ViewingFactory(profile=fans[0], title=lonely)  # one viewer: suppressed everywhere
    snap = InsightsSnapshot.objects.create()
    assert computation.snapshot_compute(snap.pk)
    return {"d1": d1, "lonely": lonely, "fans": fans, "snap": snap}


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_anonymous_is_sent_to_admin_login(client, name, kwargs):
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_regular_subscriber_is_refused(owner_client, name, kwargs):
    response = owner_client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_regular_subscriber_cannot_start_a_run_or_preview(owner_client, owner):
    assert owner_client.post(reverse("insights:refresh")).status_code == 302
    assert InsightsSnapshot.objects.count() == 0
    owner_client.get(reverse("insights:preview"), {"id": owner[1].pk})
    assert PreviewAudit.objects.count() == 0


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_staff_without_superuser_rights_open_every_page(computed, name, kwargs):
    """is_staff is enough: an analyst need not be a superuser (the shared `staff` persona is one)."""
    analyst = UserFactory(username="analyst", is_staff=True, is_superuser=False)
    response = signed_in_client(analyst).get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200


def test_admin_index_links_to_insights(staff_client):
    response = staff_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert reverse("insights:dashboard").encode() in response.content


def test_dashboard_before_any_run(staff_client):
    response = staff_client.get(reverse("insights:dashboard"))
    assert response.status_code == 200
    assert b"No figures yet" in response.content


def test_dashboard_shows_sections_charts_and_suppression(staff_client, computed, django_assert_max_num_queries):
    # session + user, latest ready snapshot, active run, last failed run.
    with django_assert_max_num_queries(6):
        response = staff_client.get(reverse("insights:dashboard"))
    html = response.content.decode()
    assert response.status_code == 200
    for key in ("demand-genre", "demand-tag", "rising", "gaps", "completion-genre", "dropoff", "rows", "clusters"):
        assert f'data-section="{key}"' in html
    svgs = re.findall(r"<svg[^>]*class=\"chart\".*?</svg>", html, flags=re.S)
    assert len(svgs) >= 5 and all("style=" not in svg and "<title>" in svg for svg in svgs)
    assert "fewer than 3 distinct profiles is suppressed" in html
    assert "Western" not in html  # one viewer: hidden
    assert "Drama" in html


def test_dashboard_never_reads_raw_engagement(staff_client, computed, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        staff_client.get(reverse("insights:dashboard"))
    sql = " ".join(q["sql"] for q in ctx.captured_queries).lower()
    for table in ("catalog_viewingactivity", "catalog_rating", "catalog_searchquery", "insights_impression"):
        assert not re.search(rf"\b{table}\b", sql), table


def test_csv_download_per_section(staff_client, computed):
    response = staff_client.get(reverse("insights:section-csv", kwargs={"key": "demand-genre"}))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "Genre" and "Gap (demand - supply, % points)" in rows[0]
    assert [r[0] for r in rows[1:]] == ["Drama"]
    # One CSV route: the old ?format=csv link lands on it.
    alt = staff_client.get(reverse("insights:dashboard"), {"format": "csv", "section": "demand-genre"}, follow=True)
    assert alt.redirect_chain[0][0] == reverse("insights:section-csv", kwargs={"key": "demand-genre"})
    assert alt.content == response.content


def test_csv_neutralizes_formulas_typed_by_viewers(staff_client, computed):
    response = staff_client.get(reverse("insights:section-csv", kwargs={"key": "gaps"}))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][0] == "hyperlink heist"  # normalized, and never a formula
    assert all(not cell.startswith("=") for row in rows for cell in row)


def test_csv_of_unknown_section_is_404(staff_client, computed):
    assert staff_client.get(reverse("insights:section-csv", kwargs={"key": "nope"})).status_code == 404
    bad = staff_client.get(reverse("insights:dashboard"), {"format": "csv", "section": "../etc"})
    assert bad.status_code == 404


def test_cluster_csv(staff_client, computed):
    response = staff_client.get(reverse("insights:section-csv", kwargs={"key": "clusters"}))
    assert response.status_code == 200
    assert response.content.decode().splitlines()[0].startswith("Cluster,Profiles")


def test_refresh_runs_and_shows_progress(staff_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("insights:refresh"))
    assert response.status_code == 302
    assert InsightsSnapshot.objects.get().status == SnapshotStatus.READY
    InsightsSnapshot.objects.create(status=SnapshotStatus.RUNNING, progress=40, step="Content gaps")
    status = staff_client.get(reverse("insights:status"))
    assert b'value="40"' in status.content and b"Content gaps" in status.content
    assert b'hx-trigger="every 2s"' in status.content


def test_greenlight_genre_tag_brief(staff_client, computed):
    response = staff_client.get(reverse("insights:greenlight"), {"genre": "drama", "tag": "heist"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Drama × Heist" in html and "4 profiles watched or liked" in html
    assert "hyperlink heist" in html  # what they search for and don't find
    assert 'class="button js-print"' in html


def test_brief_has_print_css():
    from django.contrib.staticfiles import finders

    with open(finders.find("insights/insights.css")) as fh:
        assert "@media print" in fh.read()


def test_greenlight_bad_input(staff_client, computed):
    assert staff_client.get(reverse("insights:greenlight"), {"cluster": "x"}).status_code == 400
    assert staff_client.get(reverse("insights:greenlight"), {"cluster": "99"}).status_code == 404
    assert staff_client.get(reverse("insights:greenlight"), {"genre": "drama", "tag": "nope"}).status_code == 400


def test_greenlight_small_audience_is_suppressed(staff_client, computed):
    computed["lonely"].title_tags.create(tag=TagFactory(name="Dust", slug="dust"))
    response = staff_client.get(reverse("insights:greenlight"), {"genre": "western", "tag": "dust"})
    assert b"brief is suppressed" in response.content


def test_preview_home_is_read_only_and_audited(staff, staff_client, computed):
    profile = computed["fans"][0]
    pick = staff_client.get(reverse("insights:preview"), {"profile": profile.account.username})
    assert f"?id={profile.pk}".encode() in pick.content
    response = staff_client.get(reverse("insights:preview"), {"id": profile.pk})
    assert response.status_code == 200
    assert b"Staff preview of the home of profile" in response.content
    assert b"data-row=" in response.content
    audit = PreviewAudit.objects.get()
    assert audit.profile == profile and audit.staff_username == staff.username
    assert staff_client.get(reverse("insights:preview"), {"id": "abc"}).status_code == 400
    assert staff_client.get(reverse("insights:preview"), {"id": 999999}).status_code == 404
    assert PreviewAudit.objects.count() == 1


def test_title_performance_page(staff_client, computed):
    response = staff_client.get(reverse("insights:title", kwargs={"pk": computed["d1"].pk}))
    html = response.content.decode()
    assert response.status_code == 200
    assert "0 not for me · 0 like · 4 love" in html and "<svg" in html
    lonely = staff_client.get(reverse("insights:title", kwargs={"pk": computed["lonely"].pk}))
    assert b"figures are suppressed" in lonely.content
    assert staff_client.get(reverse("insights:title", kwargs={"pk": 999999})).status_code == 404
    search = staff_client.get(reverse("insights:titles"), {"q": "D1"})
    assert reverse("insights:title", kwargs={"pk": computed["d1"].pk}).encode() in search.content
    csv_resp = staff_client.get(
        reverse("insights:title", kwargs={"pk": computed["d1"].pk}), {"format": "csv"}, follow=True
    )
    assert csv_resp.redirect_chain[0][0] == reverse(
        "insights:section-csv", kwargs={"key": f"title-{computed['d1'].pk}"}
    )
    assert csv_resp.content.decode().startswith("Home row,Impressions")


def test_collection_audience_defaults_to_everyone():
    assert CollectionFactory().audience == "everyone"


def test_beat_runs_the_aggregation_nightly_and_purges_impressions(settings):
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"insights.tasks.insights_compute_nightly", "insights.tasks.impressions_purge"} <= tasks_scheduled


def test_dashboard_figures_are_rendered_once_per_snapshot(staff_client, computed, django_assert_max_num_queries):
    first = staff_client.get(reverse("insights:dashboard")).content
    # Cached body: session, user, latest snapshot (without data), active run, failed run.
    with django_assert_max_num_queries(5):
        second = staff_client.get(reverse("insights:dashboard")).content
    assert b'data-section="demand-genre"' in second and first.count(b"<svg") == second.count(b"<svg")
    # A new run is a new snapshot: its figures show at once.
    snap = InsightsSnapshot.objects.create()
    ViewingFactory(profile=computed["fans"][1], title=computed["lonely"])
    ViewingFactory(profile=computed["fans"][2], title=computed["lonely"])
    assert computation.snapshot_compute(snap.pk)
    assert b"Western" in staff_client.get(reverse("insights:dashboard")).content
