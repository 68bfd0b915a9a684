"""The home that invites (issue 14, requirement 1): a hero chosen for the profile (from Top
picks, with its reason) and a "Top 10 today" row (key `top-10`) from the trending data."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from catalog import services as catalog_services
from catalog import shelves
from catalog.models import ViewingActivity
from tests.support.accounts import make_account, signed_in_client
from tests.support.factories import ProfileFactory, RatingFactory, TitleFactory
from tests.support.recommender import install_model, rate

pytestmark = pytest.mark.usefixtures("rec_env")


def _activity(title, n: int, *, days_ago: float = 0):
    when = timezone.now() - timedelta(days=days_ago)
    for _ in range(n):
        other = ProfileFactory()
        ViewingActivity.objects.create(profile=other, title=title, last_watched_at=when, started_at=when)


def test_top_ten_ranks_today_first_then_fills_from_the_week(owner):
    _, profile = owner
    cache.clear()
    week_big, week_small, today_a, today_b = (
        TitleFactory(name=n) for n in ("Week Big", "Week Small", "Today A", "Today B")
    )
    _activity(week_big, 9, days_ago=4)
    _activity(week_small, 3, days_ago=5)
    _activity(today_a, 2)
    _activity(today_b, 1)
    spec = shelves.top_ten_spec(profile)
    assert spec.key == "top-10"
    assert [tid for tid, _, _ in spec.items] == [today_a.pk, today_b.pk, week_big.pk, week_small.pk]
    assert spec.items[0][1] == "No. 1 on Marquee today"


def test_no_top_ten_row_with_fewer_than_three_titles(owner):
    _, profile = owner
    cache.clear()
    _activity(TitleFactory(name="Lonely"), 2)
    assert shelves.top_ten_spec(profile).items == []
    rows = shelves.non_personalized_rows(profile=profile)
    assert "top-10" not in [r.key for r in rows]


def test_the_top_ten_row_keeps_its_order_on_a_personalized_home(owner, owner_client, cat):
    _, profile = owner
    install_model(cat)
    rate(profile, cat.by_genre["drama"][2:4])
    cache.clear()
    ranked = cat.by_genre["comedy"][:5]
    for n, title in enumerate(ranked):
        _activity(title, 6 - n)
    response = owner_client.get(reverse("home"))
    home = response.context["home"]
    assert home.personalized
    row = next(r for r in home.rows if r.key == "top-10")
    assert [i.title.pk for i in row.items][:5] == [t.pk for t in ranked]
    html = response.content.decode()
    assert 'data-row="top-10"' in html
    # Large rank numerals, read out as "No. 1" and not as a stray digit.
    assert 'class="rank-numeral" aria-hidden="true">1<' in html
    assert "No. 1 on Marquee today" in html


def test_the_hero_is_the_first_top_pick_with_its_reason_play_and_my_list(owner, owner_client, cat):
    _, profile = owner
    install_model(cat)
    rate(profile, cat.by_genre["drama"][2:4])
    response = owner_client.get(reverse("home"))
    home, hero = response.context["home"], response.context["hero"]
    top = next(r for r in home.rows if r.key == "top-picks")
    assert hero.title.pk == top.items[0].title.pk and hero.row_key == "top-picks"
    assert hero.reason and hero.reason == (top.items[0].reason or top.reason)
    html = response.content.decode()
    assert "data-hero" in html and f'data-hero-title-id="{hero.title.pk}"' in html
    assert hero.title.synopsis in html
    assert f'href="{reverse("watch", args=[hero.title.slug])}"' in html
    assert ">Play<" in html.replace("\n", "").replace("  ", "") or "Play<span" in html
    assert not hero.in_list

    # On My List and half watched: the hero says so (Resume, the list button pressed).
    catalog_services.list_add(profile=profile, title=hero.title)
    ViewingActivity.objects.create(profile=profile, title=hero.title, position_seconds=1800, duration_seconds=6000)
    again = owner_client.get(reverse("home")).context["hero"]
    if again.title.pk == hero.title.pk:  # the watched title may leave Top picks
        assert again.in_list and again.resume_seconds == 1800


def test_without_a_model_the_hero_comes_from_what_is_popular(owner, owner_client):
    _, _profile = owner
    cache.clear()
    titles = [TitleFactory(name=f"Popular {i}") for i in range(4)]
    for n, title in enumerate(titles):
        RatingFactory(profile=ProfileFactory(), title=title)
        _activity(title, 5 - n)
    hero = owner_client.get(reverse("home")).context["hero"]
    assert hero is not None and hero.row_key == "top-10" and hero.title.pk == titles[0].pk


def test_the_hero_never_shows_a_title_the_profile_may_not_see(db):
    cache.clear()
    user, kid = make_account("kidhome", is_kids=True, maturity_limit=2)
    from accounts.maturity import MaturityRating

    adult = TitleFactory(name="Grown-up", maturity_rating=MaturityRating.R)
    family = [TitleFactory(name=f"Family {i}", maturity_rating=MaturityRating.G) for i in range(3)]
    _activity(adult, 10)
    for title in family:
        _activity(title, 2)
    response = signed_in_client(user, kid).get(reverse("home"))
    hero = response.context["hero"]
    assert hero is None or hero.title.pk != adult.pk
    assert "Grown-up" not in response.content.decode()
