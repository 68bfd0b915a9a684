"""Home shelves (catalog.shelves) and the home page that renders them."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.maturity import MaturityRating
from catalog import services, shelves
from catalog.models import CollectionItem, TitleKind
from tests.support.accounts import make_account, signed_in_client
from tests.support.factories import (
    CollectionFactory,
    EpisodeFactory,
    GenreFactory,
    ListEntryFactory,
    RatingFactory,
    SeasonFactory,
    TitleFactory,
    ViewingFactory,
)

pytestmark = pytest.mark.django_db


def keys(rows):
    return [r.key for r in rows]


def ids(row):
    return [i.title.pk for i in row.items]


def row_by_key(rows, key):
    return next(r for r in rows if r.key == key)


def test_rows_keys_order_and_reasons(owner):
    _, profile = owner
    drama = GenreFactory(name="Drama")
    old, new = TitleFactory(genres=[drama]), TitleFactory(genres=[drama])
    old.date_added = timezone.now() - timedelta(days=30)
    old.save()
    services.viewing_record(profile=profile, title=old, episode=None, position_seconds=600, duration_seconds=6000)
    services.list_add(profile=profile, title=new)
    services.rating_set(profile=profile, title=new, value="love")
    collection = CollectionFactory(name="Staff picks", position=1)
    CollectionItem.objects.create(collection=collection, title=old, position=0)

    rows = shelves.non_personalized_rows(profile=profile)

    assert keys(rows) == [
        "continue-watching",
        "my-list",
        "trending",
        "new-arrivals",
        "collection-staff-picks",
        "genre-drama",
    ]
    for row in rows:
        assert row.title and row.reason, row.key
        assert all(item.reason for item in row.items), row.key
    assert ids(row_by_key(rows, "new-arrivals")) == [new.pk, old.pk]
    cw = row_by_key(rows, "continue-watching").items[0]
    assert cw.progress == pytest.approx(0.1)
    assert cw.reason == "90 min left"
    # Non-continue rows carry no progress.
    assert row_by_key(rows, "my-list").items[0].progress is None


def test_continue_watching_most_recent_first_unfinished_only_one_per_series(owner):
    _, profile = owner
    now = timezone.now()
    film_a, film_b, finished = TitleFactory(), TitleFactory(), TitleFactory()
    ViewingFactory(profile=profile, title=film_a, last_watched_at=now - timedelta(hours=3))
    ViewingFactory(profile=profile, title=film_b, last_watched_at=now - timedelta(hours=1))
    ViewingFactory(profile=profile, title=finished, completed=True, position_seconds=6000)
    season = SeasonFactory(number=1)
    e1 = EpisodeFactory(season=season, number=1)
    e2 = EpisodeFactory(season=season, number=2)
    series = season.title
    ViewingFactory(profile=profile, title=series, episode=e1, last_watched_at=now - timedelta(hours=5))
    ViewingFactory(
        profile=profile, title=series, episode=e2, last_watched_at=now - timedelta(hours=2), duration_seconds=1800
    )

    row = shelves.continue_watching_spec(profile)

    assert [tid for tid, _, _ in row.items] == [film_b.pk, series.pk, film_a.pk]
    series_item = row.items[1]
    assert series_item[1].startswith("S1:E2")
    assert series_item[2] == pytest.approx(600 / 1800)


def test_personal_rows_are_per_profile(owner, other):
    _, mine = owner
    _, theirs = other
    title = TitleFactory()
    services.list_add(profile=mine, title=title)
    # Warm every cache with the owner's rows first.
    shelves.non_personalized_rows(profile=mine)
    rows = shelves.non_personalized_rows(profile=theirs)
    assert "my-list" not in keys(rows)
    assert "continue-watching" not in keys(rows)


def test_empty_rows_are_skipped(owner):
    _, profile = owner
    assert shelves.non_personalized_rows(profile=profile) == []
    TitleFactory()
    cache.clear()  # shared rows are cached for a minute
    assert keys(shelves.non_personalized_rows(profile=profile)) == ["new-arrivals"]


@pytest.mark.parametrize("kids", [True, False])
def test_every_row_respects_maturity_and_kids_never_see_unrated(kids):
    _, viewer = make_account("viewer", is_kids=kids, maturity_limit=2)
    family = GenreFactory(name="Family")
    ok = TitleFactory(maturity_rating=MaturityRating.PG, genres=[family])
    mature = TitleFactory(maturity_rating=MaturityRating.R, genres=[family])
    unrated = TitleFactory(maturity_rating=MaturityRating.UNRATED, genres=[family])
    hidden = TitleFactory(maturity_rating=MaturityRating.PG, genres=[family], is_published=False)
    collection = CollectionFactory(name="Everything")
    for position, title in enumerate([ok, mature, unrated, hidden]):
        # Written directly (not through services): rows must filter whatever is in the tables.
        ViewingFactory(profile=viewer, title=title)
        ListEntryFactory(profile=viewer, title=title)
        RatingFactory(profile=viewer, title=title)
        CollectionItem.objects.create(collection=collection, title=title, position=position)

    rows = shelves.non_personalized_rows(profile=viewer)

    expected_keys = ["continue-watching", "my-list", "trending", "new-arrivals", "collection-everything"]
    assert keys(rows) == [*expected_keys, "genre-family"]
    for row in rows:
        assert ids(row) == [ok.pk], row.key

    _, adult = make_account("adult")
    adult_rows = shelves.non_personalized_rows(profile=adult)
    assert set(ids(row_by_key(adult_rows, "new-arrivals"))) == {ok.pk, mature.pk, unrated.pk}


def test_shared_rows_are_cached_per_maturity_setting(owner, django_assert_num_queries):
    _, adult = owner
    _, kid = make_account("kid", is_kids=True, maturity_limit=2)
    TitleFactory(maturity_rating=MaturityRating.PG)
    mature = TitleFactory(maturity_rating=MaturityRating.R)
    shelves.new_arrivals_spec(adult)
    with django_assert_num_queries(0):
        adult_again = shelves.new_arrivals_spec(adult)
    kid_spec = shelves.new_arrivals_spec(kid)
    assert mature.pk in [tid for tid, _, _ in adult_again.items]
    assert mature.pk not in [tid for tid, _, _ in kid_spec.items]


def test_collections_live_window_on_off_and_order(owner):
    _, profile = owner
    now = timezone.now()
    a, b, c = TitleFactory(), TitleFactory(), TitleFactory()
    second = CollectionFactory(name="Second", position=2)
    first = CollectionFactory(
        name="First", position=1, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1)
    )
    CollectionFactory(name="Switched off", is_active=False)
    CollectionFactory(name="Not yet", starts_at=now + timedelta(days=1))
    CollectionFactory(name="Over", ends_at=now - timedelta(minutes=1))
    for collection in type(second).objects.all():
        for position, title in enumerate([c, a, b]):
            CollectionItem.objects.create(collection=collection, title=title, position=position)

    specs = shelves.collection_specs(profile)

    assert [s.key for s in specs] == ["collection-first", "collection-second"]
    assert [tid for tid, _, _ in specs[0].items] == [c.pk, a.pk, b.pk]
    assert "First" in specs[0].items[0][1]
    first.is_active = False
    first.save()
    assert [s.key for s in shelves.collection_specs(profile)] == ["collection-second"]


def test_trending_decays_with_age_and_ignores_older_than_a_week(owner):
    _, profile = owner
    now = timezone.now()
    stale, fresh, ancient = TitleFactory(name="Stale"), TitleFactory(name="Fresh"), TitleFactory(name="Ancient")
    for i in range(3):  # three events six days ago...
        _, p = make_account(f"s{i}")
        RatingFactory(profile=p, title=stale, updated_at=now - timedelta(days=6))
    for i in range(2):  # ...lose to two events today
        _, p = make_account(f"f{i}")
        ViewingFactory(profile=p, title=fresh, last_watched_at=now)
    for i in range(5):
        _, p = make_account(f"a{i}")
        RatingFactory(profile=p, title=ancient, updated_at=now - timedelta(days=8))

    scores = shelves.trending_scores(profile, now=now)
    spec = shelves.trending_spec(profile)

    assert ancient.pk not in scores
    assert scores[fresh.pk] > scores[stale.pk] > 0
    assert [tid for tid, _, _ in spec.items] == [fresh.pk, stale.pk]
    assert spec.items[0][1] == "#1 trending this week"


def test_genre_rows_pick_the_most_popular_genres(owner, settings):
    _, profile = owner
    settings.DEBUG = False
    genres = [GenreFactory(name=f"G{i}") for i in range(shelves.GENRE_SHELVES + 2)]
    popular = genres[-1]
    hit = TitleFactory(genres=[popular])
    other_title = TitleFactory(genres=[popular])
    for g in genres[:-1]:
        TitleFactory(genres=[g])
    for i in range(3):
        _, p = make_account(f"r{i}")
        RatingFactory(profile=p, title=hit)

    specs = shelves.genre_specs(profile)

    assert len(specs) == shelves.GENRE_SHELVES
    assert specs[0].key == f"genre-{popular.slug}"
    assert [tid for tid, _, _ in specs[0].items] == [hit.pk, other_title.pk]
    assert specs[0].reason


def _catalog_with_rows(profile, per_row: int):
    """`per_row` titles in every row: continue watching, my list, trending, new, 2 collections, 4 genres."""
    genres = [GenreFactory(name=f"Genre {i}") for i in range(4)]
    collections = [CollectionFactory(name=f"Coll {i}", position=i) for i in range(2)]
    now = timezone.now()
    for n in range(per_row):
        title = TitleFactory(genres=genres, kind=TitleKind.FILM)
        ViewingFactory(profile=profile, title=title, last_watched_at=now - timedelta(minutes=n))
        ListEntryFactory(profile=profile, title=title)
        RatingFactory(profile=profile, title=title)
        for collection in collections:
            CollectionItem.objects.create(collection=collection, title=title, position=n)
    # A series whose first episode was finished: Continue watching looks up the next one.
    season = SeasonFactory(number=1)
    done = EpisodeFactory(season=season, number=1)
    EpisodeFactory(season=season, number=2)
    ViewingFactory(profile=profile, title=season.title, episode=done, completed=True, last_watched_at=now)


@pytest.mark.parametrize("per_row", [5, 50])
def test_home_page_query_count_is_flat(owner, per_row, django_assert_max_num_queries):
    user, profile = owner
    _catalog_with_rows(profile, per_row)
    client = signed_in_client(user, profile)
    # Queries: session, user, profile (middleware); consent check and model lookup
    # (recommendations.home); rows: continue watching 1 (next episodes by subquery), my list 1,
    # trending 1, new arrivals 1, collections 1, top genres 1, genre titles 1; all row titles 1;
    # the privacy banner's policy review and consent event (base.html); the hero 1 (its synopsis,
    # My List and resume state; Top 10 today comes with trending's query). Personalized artwork
    # (recommendations.artwork): the taste context 1, the context's counters 1 (cached 30 s), its
    # impressions upsert 1 (+ a savepoint and its release inside the test's transaction). Cards add none.
    with django_assert_max_num_queries(21):
        response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    for key in ["continue-watching", "my-list", "trending", "new-arrivals", "collection-coll-0", "genre-genre-0"]:
        assert f'data-row="{key}"' in html
    assert "data-hero" in html
    assert html.count("data-title-id=") >= min(per_row, shelves.ROW_LENGTH) * 10


@pytest.mark.parametrize("per_row", [5, 50])
def test_row_builder_query_count_is_constant(owner, per_row, django_assert_num_queries):
    _, profile = owner
    _catalog_with_rows(profile, per_row)
    # continue watching, my list, trending and Top 10 today (views + ratings in one union),
    # new arrivals, collections, top genres, genre titles, then every title in one query.
    with django_assert_num_queries(8):
        rows = shelves.non_personalized_rows(profile=profile)
    assert len(rows) == 11
    assert [r.key for r in rows][2:4] == ["top-10", "trending"]
    # Shared rows come from the cache the second time: only the personal ones, collections and titles.
    with django_assert_num_queries(4):
        shelves.non_personalized_rows(profile=profile)


def test_home_renders_rows_reasons_cards_and_notice(owner_client, owner):
    _, profile = owner
    title = TitleFactory(name="Heat")
    services.list_add(profile=profile, title=title)

    response = owner_client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<section class="row" data-row="my-list"' in html
    assert f'data-title-id="{title.pk}"' in html
    assert "Titles you saved to watch later" in html  # the row's reason
    assert "On your list since" in html  # the item's reason
    # The artwork variant the bandit picked for this viewer (the default is the bare poster.svg).
    assert re.search(
        rf'src="/title/{title.slug}/poster(\.svg|/(setting|cast)\.svg)" loading="lazy" alt="Heat poster"', html
    )
    assert 'class="notice"' in html  # no model yet: the home says why it is not personal
    assert "style=" not in html  # CSP: no inline styles


def test_home_needs_login_and_profile(client, owner):
    response = client.get("/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    user, _ = owner
    response = signed_in_client(user).get("/")
    assert response.status_code == 302
    assert response["Location"].endswith("/profiles/")


def test_continue_watching_offers_the_next_episode_of_a_finished_one(owner):
    _, profile = owner
    now = timezone.now()
    s1 = SeasonFactory(number=1)
    series = s1.title
    e1 = EpisodeFactory(season=s1, number=1)
    EpisodeFactory(season=s1, number=2)
    s2 = SeasonFactory(title=series, number=2)
    EpisodeFactory(season=s2, number=1)
    ViewingFactory(profile=profile, title=series, episode=e1, completed=True, last_watched_at=now)
    ended_season = SeasonFactory(number=1)
    last = EpisodeFactory(season=ended_season, number=1)
    ViewingFactory(profile=profile, title=ended_season.title, episode=last, completed=True)
    film = TitleFactory()
    ViewingFactory(profile=profile, title=film, completed=True, position_seconds=6000)

    spec = shelves.continue_watching_spec(profile)

    # The finished series (no episode after) and the finished film are gone.
    assert spec.items == [(series.pk, "Next: S1:E2", None)]
    s1_e2_viewing = ViewingFactory(profile=profile, title=series, episode=e1.season.episodes.get(number=2))
    s1_e2_viewing.completed = True
    s1_e2_viewing.last_watched_at = now + timedelta(minutes=1)
    s1_e2_viewing.save()
    assert shelves.continue_watching_spec(profile).items == [(series.pk, "Next: S2:E1", None)]


def test_collections_follow_their_audience(owner):
    _, adult = owner
    _, kid = make_account("kid", is_kids=True, maturity_limit=2)
    title = TitleFactory(maturity_rating=MaturityRating.PG)
    for name, audience in (("For all", "everyone"), ("For kids", "kids"), ("For grown-ups", "adults")):
        collection = CollectionFactory(name=name, audience=audience)
        CollectionItem.objects.create(collection=collection, title=title)

    assert {s.key for s in shelves.collection_specs(adult)} == {"collection-for-all", "collection-for-grown-ups"}
    assert {s.key for s in shelves.collection_specs(kid)} == {"collection-for-all", "collection-for-kids"}
