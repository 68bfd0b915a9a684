"""Insights aggregates on small datasets whose answers are known; consent exclusion; k-anonymity."""

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from catalog.models import Rating, RatingValue, TitleKind
from catalog.shelves import Row, RowItem
from insights import aggregates, clusters, computation, personal_data, services
from insights.models import Click, Impression, ImpressionDaily, InsightsSnapshot, SnapshotStatus, TitleStats
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

pytestmark = pytest.mark.django_db


def _people(prefix, n, consents=True):
    return [make_account(f"{prefix}{i}", consents=consents)[1] for i in range(n)]


@pytest.fixture
def world():
    drama, comedy = GenreFactory(name="Drama", slug="drama"), GenreFactory(name="Comedy", slug="comedy")
    d1 = TitleFactory(name="D1", genres=[drama])
    c1, c2, c3 = (TitleFactory(name=f"C{i}", genres=[comedy]) for i in (1, 2, 3))
    fans = _people("fan", 4)
    refusers = _people("refuser", 2, consents=False)
    for i, p in enumerate(fans):
        ViewingFactory(profile=p, title=d1, position_seconds=1000, duration_seconds=1000, completed=i < 2)
        RatingFactory(profile=p, title=d1, value=RatingValue.LOVE)
    for p in fans[:3]:
        ViewingFactory(profile=p, title=c1, position_seconds=500, duration_seconds=6000)
    RatingFactory(profile=fans[0], title=c2, value=RatingValue.UP)
    # Without analytics consent: must count nowhere, however loud.
    for p in refusers:
        ViewingFactory(profile=p, title=c2, position_seconds=100000, duration_seconds=100000, completed=True)
        RatingFactory(profile=p, title=c3, value=RatingValue.LOVE)
    return {"d1": d1, "c1": c1, "c2": c2, "fans": fans, "refusers": refusers}


def _row(sec, name, key="name"):
    return next(r for r in sec["rows"] if r[key] == name)


def test_demand_vs_supply_by_genre_known_answer(world):
    sec = aggregates.demand_supply("genre")
    drama, comedy = _row(sec, "Drama"), _row(sec, "Comedy")
    # Viewing: drama 4000 s, comedy 1500 s (the refusers' 200000 s excluded); positive: 4 vs 1.
    assert drama["viewing_share"] == pytest.approx(4000 / 5500, abs=1e-4)
    assert drama["positive_share"] == pytest.approx(0.8)
    assert drama["catalog_share"] == 0.25 and comedy["catalog_share"] == 0.75
    assert drama["gap"] == pytest.approx((4000 / 5500 + 0.8) / 2 - 0.25, abs=1e-3)
    assert comedy["gap"] == pytest.approx((1500 / 5500 + 0.2) / 2 - 0.75, abs=1e-3)
    assert [r["name"] for r in sec["rows"]] == ["Drama", "Comedy"]  # sorted by gap
    assert comedy["profiles"] == 3 and drama["profiles"] == 4


def test_withdrawn_analytics_consent_excludes_at_once(world):
    from privacy import consent

    fan = world["fans"][3]
    consent.consents_set(account_id=fan.account_id, choices={"analytics": False}, method="settings")
    drama = _row(aggregates.demand_supply("genre"), "Drama")
    assert drama["viewing_share"] == pytest.approx(3000 / 4500, abs=1e-4)
    assert drama["profiles"] == 3


def test_small_groups_are_suppressed_and_counted(world, settings):
    settings.INSIGHTS_MIN_GROUP_SIZE = 4
    sec = aggregates.demand_supply("genre")
    assert [r["name"] for r in sec["rows"]] == ["Drama"]
    assert sec["suppressed"] == 1  # comedy: 3 profiles < 4


def test_groups_of_refusers_only_never_appear(world):
    # Comedy's C2/C3 engagement comes only from refusers: their titles get no stats at all.
    aggregates.title_stats_rebuild(timezone.now())
    stats = {s.title_id: s for s in TitleStats.objects.all()}
    assert world["c2"].pk in stats and stats[world["c2"].pk].viewers == 0 and stats[world["c2"].pk].up == 1
    assert stats[world["d1"].pk].viewers == 4 and stats[world["d1"].pk].love == 4
    assert stats[world["d1"].pk].completions == 2


def test_completion_by_kind_and_genre(world):
    kind = aggregates.completion("kind")
    film = _row(kind, "Film")
    assert (film["views"], film["completed"]) == (7, 2)
    assert film["completion_rate"] == pytest.approx(2 / 7, abs=1e-4)
    genre = aggregates.completion("genre")
    assert _row(genre, "Drama")["completion_rate"] == 0.5
    assert _row(genre, "Comedy")["completion_rate"] == 0.0


def test_content_gaps_are_normalized_grouped_and_k_anonymous():
    from catalog.models import SearchQuery

    fans = _people("s", 4)
    refuser = _people("r", 1, consents=False)[0]
    for p, q in zip(fans[:3], ["Amélie!", "amelie", "  AMELIE  "], strict=True):
        SearchQuery.objects.create(profile=p, query=q, result_count=0)
    SearchQuery.objects.create(profile=fans[3], query="zzz private thing", result_count=0)
    SearchQuery.objects.create(profile=refuser, query="amelie", result_count=0)
    for p in fans:
        SearchQuery.objects.create(profile=p, query="found it", result_count=12)
    sec = aggregates.content_gaps()
    assert sec["rows"] == [{"term": "amelie", "searches": 3, "profiles": 3, "avg_results": 0.0}]
    assert sec["suppressed"] == 1


def test_rising_titles_week_over_week():
    now = timezone.now()
    t = TitleFactory(name="Riser")
    people = _people("w", 5)
    for p in people[:4]:
        ViewingFactory(profile=p, title=t, started_at=now - timedelta(days=1))
        Rating.objects.create(profile=p, title=t, value="love", created_at=now - timedelta(days=2))
    ViewingFactory(profile=people[4], title=t, started_at=now - timedelta(days=10))
    sec = aggregates.rising_titles(now)
    row = _row(sec, "Riser")
    assert (row["plays_this_week"], row["plays_last_week"], row["plays_growth"]) == (4, 1, 3.0)
    assert (row["positive_this_week"], row["positive_growth"]) == (4, 4.0)


def test_series_drop_off_point():
    series = TitleFactory(name="Show", kind=TitleKind.SERIES)
    season = SeasonFactory(title=series, number=1)
    e1, e2, e3 = (EpisodeFactory(title=series, season=season, number=n) for n in (1, 2, 3))
    people = _people("v", 4)
    for p in people[:3]:
        ViewingFactory(profile=p, title=series, episode=e1, completed=True)
        ViewingFactory(profile=p, title=series, episode=e2, completed=False)
    ViewingFactory(profile=people[2], title=series, episode=e3, completed=True)
    ViewingFactory(profile=people[3], title=series, episode=e1, completed=False)
    row = _row(aggregates.drop_off(), "Show")
    assert row["viewers"] == 4 and row["episodes"] == 3
    assert row["finished_share"] == 0.25  # people[2] finished the finale
    assert (row["top_stop"], row["top_stop_share"]) == ("S1E2", 0.5)


def _rows(*titles, key="trending"):
    return [Row(key=key, title="Trending", reason="", items=[RowItem(title=t) for t in titles])]


def test_impressions_need_analytics_consent():
    t = TitleFactory()
    yes = _people("imp", 1)[0]
    no = _people("noimp", 1, consents=False)[0]
    assert services.impressions_record(profile=yes, rows=_rows(t, TitleFactory())) == 2
    assert services.impressions_record(profile=no, rows=_rows(t)) == 0
    assert services.click_record(profile=no, title=t, row_key="trending") is False
    assert Impression.objects.filter(profile=no).count() == 0 and Click.objects.count() == 0


def test_impressions_cost_two_queries(django_assert_num_queries):
    p = _people("q", 1)[0]
    titles = [TitleFactory() for _ in range(5)]
    # 1 consent check + 1 bulk INSERT, however many rows and titles.
    with django_assert_num_queries(2):
        services.impressions_record(profile=p, rows=_rows(*titles) + _rows(*titles, key="new-arrivals"))
    assert Impression.objects.count() == 10


def test_daily_aggregate_ctr_and_play_through():
    # Noon, so that every event of the test falls on the same day.
    now = timezone.now().replace(hour=12, minute=0)
    t = TitleFactory()
    people = _people("ct", 3)
    for p in people:
        services.impressions_record(profile=p, rows=_rows(t), now=now - timedelta(hours=5))
    # Two start the title within the window, one of them after opening it from the row.
    ViewingFactory(profile=people[0], title=t, started_at=now - timedelta(hours=4))
    ViewingFactory(profile=people[1], title=t, started_at=now - timedelta(hours=1))
    services.click_record(profile=people[0], title=t, row_key="trending", now=now - timedelta(hours=4))
    assert aggregates.impressions_daily_rebuild(now) == 1
    daily = ImpressionDaily.objects.get()
    assert (daily.impressions, daily.clicks, daily.plays, daily.profiles) == (3, 1, 2, 3)
    aggregates.impressions_daily_rebuild(now)  # idempotent
    assert ImpressionDaily.objects.count() == 1
    row = aggregates.row_performance(now)["rows"][0]
    assert row["row"] == "trending"
    assert row["ctr"] == pytest.approx(1 / 3, abs=1e-4) and row["play_through"] == pytest.approx(2 / 3, abs=1e-4)


def test_raw_impressions_are_purged_after_retention_but_aggregates_stay(settings):
    settings.IMPRESSION_RETENTION_DAYS = 30
    now = timezone.now()
    p = _people("old", 1)[0]
    t = TitleFactory()
    services.impressions_record(profile=p, rows=_rows(t), now=now - timedelta(days=31))
    services.impressions_record(profile=p, rows=_rows(t), now=now - timedelta(days=1))
    aggregates.impressions_daily_rebuild(now)
    assert personal_data.purge(now) == 1
    assert Impression.objects.count() == 1
    assert ImpressionDaily.objects.count() == 2


def test_impressions_are_in_the_personal_data_registry():
    from privacy import registry

    p = _people("reg", 1)[0]
    services.impressions_record(profile=p, rows=_rows(TitleFactory()))
    section = registry.section("impressions")
    assert section.count(p.account) == 1
    assert section.export(p.account)[0]["kind"] == "shown"
    assert registry.collected_delete(p.account, "analytics")["impressions"] == 1
    assert Impression.objects.count() == 0


def _install_model(tmp_path, settings, profiles, titles):
    # Half the profiles point along axis 0, half along axis 1: two obvious clusters.
    settings.MODEL_ROOT = tmp_path / "models"
    install_axis_model(profiles, titles)


def test_kmeans_separates_obvious_groups():
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(0, 0.1, (20, 2)), rng.normal(5, 0.1, (20, 2))])
    labels, _ = clusters.kmeans(X, 2)
    assert len(set(labels[:20])) == 1 and len(set(labels[20:])) == 1 and labels[0] != labels[20]


def test_clusters_from_the_serving_model(tmp_path, settings, monkeypatch):
    monkeypatch.setattr(clusters, "TOP_SCORED", 3)
    action, romance = GenreFactory(name="Action", slug="action"), GenreFactory(name="Romance", slug="romance")
    titles = [TitleFactory(name=f"T{i}", genres=[action if i % 2 == 0 else romance]) for i in range(6)]
    profiles = _people("cl", 12)  # 12 consenting: 12 // (2*3) = 2 clusters
    refusers = _people("clr", 4, consents=False)
    for i, p in enumerate(profiles):
        RatingFactory(profile=p, title=titles[i % 2], value=RatingValue.LOVE)
    _install_model(tmp_path, settings, profiles + refusers, titles)
    result = clusters.compute()
    assert result["available"] and result["profiles"] == 12  # refusers are not clustered
    assert sorted(c["size"] for c in result["clusters"]) == [6, 6]
    tops = {c["top_genres"][0]["name"] for c in result["clusters"]}
    assert tops == {"Action", "Romance"}
    for c in result["clusters"]:
        assert c["favourites"][0]["members"] == 6
        # Each cluster loved 1 of its 3 top-scored titles: 1/3 watched, 2 candidates left.
        assert c["top_scored_watched_share"] == pytest.approx(1 / 3, abs=1e-3)
        assert c["strong_candidates_left"] == 2


def test_small_clusters_are_suppressed(tmp_path, settings):
    settings.INSIGHTS_MIN_GROUP_SIZE = 7
    titles = [TitleFactory() for _ in range(4)]
    profiles = _people("sm", 14)  # k=7: 14 // 14 = 1 cluster of 14, shown; k=15: too few profiles
    _install_model(tmp_path, settings, profiles, titles)
    assert len(clusters.compute()["clusters"]) == 1
    settings.INSIGHTS_MIN_GROUP_SIZE = 15
    result = clusters.compute()
    assert result["available"] is False and result["clusters"] == []


def test_task_runs_once_and_fills_the_snapshot(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        snap, created = services.snapshot_request(trigger="manual")
    assert created
    snap.refresh_from_db()
    assert snap.status == SnapshotStatus.READY and snap.progress == 100
    assert "demand-genre" in snap.data["sections"] and snap.data["consenting_profiles"] == 4
    assert snap.data["clusters"]["available"] is False  # no model serves in this world
    assert computation.snapshot_compute(snap.pk) is False  # a second delivery does nothing
    # While one is queued, another request joins it instead of starting a second run.
    pending = InsightsSnapshot.objects.create()
    again, created = services.snapshot_request(trigger="manual")
    assert (again.pk, created) == (pending.pk, False)


def test_failed_run_is_recorded(monkeypatch):
    snap = InsightsSnapshot.objects.create()
    monkeypatch.setattr(aggregates, "content_gaps", lambda: 1 / 0)
    assert computation.snapshot_compute(snap.pk) is False
    snap.refresh_from_db()
    assert snap.status == SnapshotStatus.FAILED and "ZeroDivisionError" in snap.error


def test_genre_tag_audiences_count_distinct_profiles():
    drama = GenreFactory(name="Drama", slug="drama")
    heist, space = TagFactory(name="Heist", slug="heist"), TagFactory(name="Space", slug="space")
    a, b = TitleFactory(genres=[drama]), TitleFactory(genres=[drama])
    a.title_tags.create(tag=heist)
    b.title_tags.create(tag=heist)
    b.title_tags.create(tag=space)
    people = _people("au", 4)
    refusers = _people("aur", 3, consents=False)
    for p in people[:3]:
        ViewingFactory(profile=p, title=a)
        RatingFactory(profile=p, title=b, value=RatingValue.LOVE)  # same people twice: still 3
    RatingFactory(profile=people[3], title=b, value=RatingValue.DOWN)  # a thumbs down is not engagement
    for p in refusers:
        ViewingFactory(profile=p, title=a)
    audiences = aggregates.combo_audiences(aggregates.engagement_sets())
    assert audiences == {"drama|heist": 3, "drama|space": 3}
