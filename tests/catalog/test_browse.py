"""Browse pages: /browse/ and /browse/<genre>/ — filters, sorting, pagination, visibility."""

import re

import pytest
from django.urls import reverse

from accounts.maturity import MaturityRating
from catalog.models import TitleKind
from tests.support.accounts import make_account, signed_in_client
from tests.support.factories import GenreFactory, ProfileFactory, RatingFactory, TitleFactory, ViewingFactory

pytestmark = pytest.mark.django_db


def title_ids(response) -> list[int]:
    """The titles a page lists, in order (the data-title-id hook of every card)."""
    return [int(i) for i in re.findall(r'data-title-id="(\d+)"', response.content.decode())]


def test_browse_needs_login_and_a_profile(client, owner):
    user, _ = owner
    response = client.get(reverse("browse"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
    no_profile = signed_in_client(user)
    response = no_profile.get(reverse("browse"))
    assert response.status_code == 302
    assert response["Location"] == reverse("profile-picker")


def test_browse_lists_visible_titles_with_genre_nav(owner_client):
    comedy = GenreFactory(name="Comedy")
    drama = GenreFactory(name="Drama")
    funny = TitleFactory(genres=[comedy])
    sad = TitleFactory(genres=[drama])
    hidden = TitleFactory(is_published=False, genres=[drama])
    response = owner_client.get(reverse("browse"))
    assert response.status_code == 200
    assert set(title_ids(response)) == {funny.pk, sad.pk}
    assert hidden.pk not in title_ids(response)
    html = response.content.decode()
    assert reverse("browse-genre", args=["comedy"]) in html
    assert reverse("browse-genre", args=["drama"]) in html


def test_browse_genre_page_and_unknown_genre(owner_client):
    comedy = GenreFactory(name="Comedy")
    funny = TitleFactory(genres=[comedy])
    TitleFactory()
    response = owner_client.get(reverse("browse-genre", args=["comedy"]))
    assert response.status_code == 200
    assert title_ids(response) == [funny.pk]
    assert owner_client.get(reverse("browse-genre", args=["no-such-genre"])).status_code == 404


def test_filters_kind_year_and_maturity(owner_client):
    film_old = TitleFactory(kind=TitleKind.FILM, year=1970, maturity_rating=MaturityRating.G)
    film_new = TitleFactory(kind=TitleKind.FILM, year=2015, maturity_rating=MaturityRating.R)
    series = TitleFactory(kind=TitleKind.SERIES, year=2010, maturity_rating=MaturityRating.TV_PG)
    url = reverse("browse")
    assert title_ids(owner_client.get(url, {"kind": "series"})) == [series.pk]
    assert set(title_ids(owner_client.get(url, {"kind": "film"}))) == {film_old.pk, film_new.pk}
    assert set(title_ids(owner_client.get(url, {"year_from": 2000}))) == {film_new.pk, series.pk}
    assert set(title_ids(owner_client.get(url, {"year_to": 2010}))) == {film_old.pk, series.pk}
    assert title_ids(owner_client.get(url, {"year_from": 2009, "year_to": 2011})) == [series.pk]
    # Level 2 = family (PG, TV-PG): G and TV-PG pass, R does not.
    assert set(title_ids(owner_client.get(url, {"maturity": 2}))) == {film_old.pk, series.pk}
    combined = owner_client.get(url, {"kind": "film", "maturity": 4, "year_from": 2000})
    assert title_ids(combined) == [film_new.pk]


def test_sorts(owner_client, owner):
    _, profile = owner
    a = TitleFactory(name="Alpha", year=2001)
    b = TitleFactory(name="Bravo", year=2020)
    c = TitleFactory(name="Charlie", year=1999)
    # date_added: newest is Alpha
    TitleFactory._meta.model.objects.filter(pk=a.pk).update(date_added="2030-01-01T00:00:00Z")
    TitleFactory._meta.model.objects.filter(pk=c.pk).update(date_added="2029-01-01T00:00:00Z")
    TitleFactory._meta.model.objects.filter(pk=b.pk).update(date_added="2028-01-01T00:00:00Z")
    # popularity = ratings + viewings: Charlie 3, Bravo 1, Alpha 0
    for _ in range(2):
        RatingFactory(title=c, profile=ProfileFactory())
    ViewingFactory(title=c, profile=profile)
    RatingFactory(title=b, profile=profile)
    url = reverse("browse")
    assert title_ids(owner_client.get(url)) == [c.pk, b.pk, a.pk]  # default: most popular
    assert title_ids(owner_client.get(url, {"sort": "popular"})) == [c.pk, b.pk, a.pk]
    assert title_ids(owner_client.get(url, {"sort": "name"})) == [a.pk, b.pk, c.pk]
    assert title_ids(owner_client.get(url, {"sort": "year"})) == [b.pk, a.pk, c.pk]
    assert title_ids(owner_client.get(url, {"sort": "newest"})) == [a.pk, c.pk, b.pk]


def test_pagination_24_per_page_keeps_filters(owner_client):
    titles = [TitleFactory(name=f"Film {i:02d}", kind=TitleKind.FILM) for i in range(30)]
    TitleFactory(kind=TitleKind.SERIES)
    url = reverse("browse")
    first = owner_client.get(url, {"kind": "film", "sort": "name"})
    assert title_ids(first) == [t.pk for t in titles[:24]]
    assert "30 titles" in first.content.decode()
    # The next link keeps the filters.
    assert "kind=film" in first.content.decode() and "page=2" in first.content.decode()
    second = owner_client.get(url, {"kind": "film", "sort": "name", "page": 2})
    assert title_ids(second) == [t.pk for t in titles[24:]]
    # Garbage and out-of-range pages fall back to a real page, never an error.
    assert title_ids(owner_client.get(url, {"kind": "film", "sort": "name", "page": "abc"})) == title_ids(first)
    assert title_ids(owner_client.get(url, {"kind": "film", "sort": "name", "page": 999})) == title_ids(second)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "documentary"}, "kind"),
        ({"year_from": "abc"}, "year_from"),
        ({"year_from": "99999999999999999999999"}, "year_from"),
        ({"year_to": "1999.5"}, "year_to"),
        ({"maturity": "9"}, "maturity"),
        ({"sort": "random"}, "sort"),
        ({"year_from": "2010", "year_to": "2000"}, "year_to"),
    ],
)
def test_invalid_filters_are_form_errors_not_500(owner_client, params, field):
    title = TitleFactory(year=2012)
    response = owner_client.get(reverse("browse"), params)
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors
    assert 'class="field-errors"' in response.content.decode()
    # The invalid filter is ignored; the page still lists titles.
    assert title.pk in title_ids(response)


def test_maturity_limit_and_kids_never_see_unrated(db):
    genre = GenreFactory(name="Family")
    horror = GenreFactory(name="Horror")
    pg = TitleFactory(maturity_rating=MaturityRating.PG, genres=[genre])
    r = TitleFactory(maturity_rating=MaturityRating.R, genres=[horror])
    unrated = TitleFactory(maturity_rating=MaturityRating.UNRATED, genres=[genre])
    teen_user, teen = make_account("teen", maturity_limit=3)
    kid_user, kid = make_account("kid", is_kids=True, maturity_limit=2)
    adult_user, adult = make_account("adult")
    assert set(title_ids(signed_in_client(adult_user, adult).get(reverse("browse")))) == {pg.pk, r.pk, unrated.pk}
    teen_client = signed_in_client(teen_user, teen)
    assert title_ids(teen_client.get(reverse("browse"))) == [pg.pk]
    # Asking for a wider maturity filter never widens the profile's limit.
    response = teen_client.get(reverse("browse"), {"maturity": 3})
    assert title_ids(response) == [pg.pk]
    # Genre pages obey the same rule; a genre with nothing visible is not in the nav.
    assert title_ids(teen_client.get(reverse("browse-genre", args=["horror"]))) == []
    assert reverse("browse-genre", args=["horror"]) not in teen_client.get(reverse("browse")).content.decode()
    kid_client = signed_in_client(kid_user, kid)
    assert title_ids(kid_client.get(reverse("browse"))) == [pg.pk]
    # Even a kids profile whose limit was (wrongly) raised to "all" never sees unrated titles.
    kid.maturity_limit = 5
    kid.save()
    listed = title_ids(kid_client.get(reverse("browse")))
    assert unrated.pk not in listed
    assert r.pk in listed


def test_maturity_choices_are_capped_by_the_profile(db):
    user, profile = make_account("teen", maturity_limit=3)
    response = signed_in_client(user, profile).get(reverse("browse"))
    choices = [value for value, _ in response.context["form"].fields["maturity"].choices]
    assert 3 in choices
    assert 4 not in choices and 5 not in choices


@pytest.mark.parametrize("count", [5, 50])
def test_browse_query_count_is_flat(owner_client, owner, django_assert_max_num_queries, count):
    genre = GenreFactory(name="Drama")
    for _ in range(count):
        t = TitleFactory(genres=[genre])
        RatingFactory(title=t, profile=owner[1])
    # session, user, profile (middleware); genre nav; count; the page of titles (popularity in it);
    # the layout's policy banner (review + consent, 2).
    with django_assert_max_num_queries(8):
        response = owner_client.get(reverse("browse"))
    assert len(title_ids(response)) == min(count, 24)
    with django_assert_max_num_queries(9):  # + the genre lookup
        response = owner_client.get(reverse("browse-genre", args=["drama"]), {"sort": "newest"})
    assert len(title_ids(response)) == min(count, 24)


def test_browse_rejects_post(owner_client):
    assert owner_client.post(reverse("browse")).status_code == 405


@pytest.mark.parametrize("name", ["browse", "search", "search-suggest", "my-list", "history", "my-ratings"])
def test_garbage_parameters_never_500(owner_client, name):
    TitleFactory()
    for key in ["page", "q", "kind", "year_from", "year_to", "maturity", "sort", "value"]:
        for value in ["\x00", "-1", "1e10", "99999999999999999999999999", "NaN", "'", "%", "😀" * 50]:
            response = owner_client.get(reverse(name), {key: value})
            assert response.status_code == 200, (key, value)
