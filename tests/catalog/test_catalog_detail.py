"""Title detail, generated posters, and the rating / My List actions (plain POST and htmx)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.maturity import MaturityRating
from catalog import selectors, services
from catalog.models import CreditRole, ListEntry, Rating, TitleTag
from catalog.posters import poster_svg
from tests.support.accounts import make_account, signed_in_client
from tests.support.factories import (
    CreditFactory,
    EpisodeFactory,
    GenreFactory,
    PersonFactory,
    ProfileFactory,
    SeasonFactory,
    TagFactory,
    TitleFactory,
)

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


# --- Detail ------------------------------------------------------------------------------------


def test_detail_shows_metadata_cast_in_billing_order_and_director(owner_client):
    drama = GenreFactory(name="Drama")
    title = TitleFactory(name="Heat", year=1995, runtime_minutes=170, maturity_rating=MaturityRating.R, genres=[drama])
    TitleTag.objects.create(title=title, tag=TagFactory(name="heist"), weight=0.9)
    CreditFactory(title=title, person=PersonFactory(name="Val Kilmer"), order=2)
    CreditFactory(title=title, person=PersonFactory(name="Al Pacino"), order=0)
    CreditFactory(title=title, person=PersonFactory(name="Robert De Niro"), order=1)
    CreditFactory(title=title, person=PersonFactory(name="Michael Mann"), role=CreditRole.DIRECTOR)

    response = owner_client.get(f"/title/{title.slug}/")

    html = response.content.decode()
    assert response.status_code == 200
    for text in ("Heat", "1995", "170 min", "R", "Drama", "heist", "Michael Mann", 'href="/watch/heat/"'):
        assert text in html
    assert html.index("Al Pacino") < html.index("Robert De Niro") < html.index("Val Kilmer")
    assert "style=" not in html


def test_detail_series_lists_seasons_episodes_and_plays_next_unfinished(owner_client, owner):
    _, profile = owner
    s1 = SeasonFactory(number=1)
    series = s1.title
    s2 = SeasonFactory(title=series, number=2)
    e1 = EpisodeFactory(season=s1, number=1, name="Pilot", runtime_minutes=44)
    e2 = EpisodeFactory(season=s1, number=2, name="Second")
    e3 = EpisodeFactory(season=s2, number=1, name="Return")
    services.viewing_record(profile=profile, title=series, episode=e1, position_seconds=2640, duration_seconds=2640)

    html = owner_client.get(f"/title/{series.slug}/").content.decode()

    assert "2 seasons" in html
    assert html.index("Pilot") < html.index("Second") < html.index("Return")
    assert "44 min" in html
    assert f'href="/watch/{series.slug}/?episode={e2.pk}"' in html
    assert "Play S1:E2" in html
    assert f"?episode={e3.pk}" in html


def test_detail_resume_for_an_unfinished_film(owner_client, owner):
    _, profile = owner
    title = TitleFactory()
    services.viewing_record(profile=profile, title=title, episode=None, position_seconds=600, duration_seconds=6000)
    html = owner_client.get(f"/title/{title.slug}/").content.decode()
    assert "Resume" in html
    assert "(10 min in)" in html


def test_detail_shows_current_rating_and_list_state(owner_client, owner):
    _, profile = owner
    title = TitleFactory()
    services.rating_set(profile=profile, title=title, value="love")
    services.list_add(profile=profile, title=title)

    html = owner_client.get(f"/title/{title.slug}/").content.decode()

    assert 'data-rating="love"' in html
    assert 'name="value" value="clear" class="rate-button rate-love"' in html
    assert 'name="action" value="remove"' in html


def test_detail_permissions_other_account_sees_own_state_anonymous_redirected(client, other_client, owner):
    _, profile = owner
    title = TitleFactory()
    services.rating_set(profile=profile, title=title, value="love")
    html = other_client.get(f"/title/{title.slug}/").content.decode()
    assert 'data-rating=""' in html  # the owner's rating is not the other account's
    response = client.get(f"/title/{title.slug}/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    "kwargs",
    [{"is_published": False}, {"maturity_rating": MaturityRating.R}, {"maturity_rating": MaturityRating.UNRATED}],
)
def test_detail_404_for_hidden_and_too_mature(kwargs):
    user, kid = make_account("kid", is_kids=True, maturity_limit=2)
    client = signed_in_client(user, kid)
    title = TitleFactory(**kwargs)
    assert client.get(f"/title/{title.slug}/").status_code == 404
    assert client.get(f"/title/{title.slug}/poster.svg").status_code == 404
    assert client.get(f"/watch/{title.slug}/").status_code == 404
    assert client.post(f"/title/{title.slug}/rate/", {"value": "up"}).status_code == 404
    assert client.post(f"/title/{title.slug}/list/", {"action": "add"}).status_code == 404
    assert not Rating.objects.exists() and not ListEntry.objects.exists()


def test_detail_unknown_slug_404(owner_client):
    assert owner_client.get("/title/no-such-title/").status_code == 404


def test_detail_query_count_is_fixed(owner_client, owner, django_assert_max_num_queries):
    genre = GenreFactory()
    title = TitleFactory(genres=[genre])
    for i in range(8):
        CreditFactory(title=title, order=i)
        TitleTag.objects.create(title=title, tag=TagFactory(), weight=1.0)
        TitleFactory(genres=[genre])
    # session, user, profile; title; genres; tags; credits; seasons (+ episodes prefetch);
    # rating; list; viewing; more like this (genre ids, tag weights, candidates);
    # privacy banner (2 queries in base.html).
    with django_assert_max_num_queries(17):
        response = owner_client.get(f"/title/{title.slug}/")
    assert response.status_code == 200


# --- More like this --------------------------------------------------------------------------


def test_more_like_this_ranks_by_shared_genres_and_weighted_tags_visible_only(owner):
    _, profile = owner
    crime, drama, comedy = GenreFactory(name="Crime"), GenreFactory(name="Drama"), GenreFactory(name="Comedy")
    heist, city = TagFactory(name="heist"), TagFactory(name="city")
    base = TitleFactory(genres=[crime, drama])
    TitleTag.objects.create(title=base, tag=heist, weight=1.0)
    TitleTag.objects.create(title=base, tag=city, weight=0.2)
    both_genres = TitleFactory(genres=[crime, drama])
    one_genre_strong_tag = TitleFactory(genres=[crime])
    TitleTag.objects.create(title=one_genre_strong_tag, tag=heist, weight=1.5)  # 1 + 1.5
    one_genre_weak_tag = TitleFactory(genres=[drama])
    TitleTag.objects.create(title=one_genre_weak_tag, tag=city, weight=1.0)  # 1 + 0.2
    TitleFactory(genres=[comedy])  # unrelated
    hidden = TitleFactory(genres=[crime, drama], is_published=False)

    similar = selectors.more_like_this(profile=profile, title=base)

    assert [t.pk for t in similar] == [one_genre_strong_tag.pk, both_genres.pk, one_genre_weak_tag.pk]
    assert hidden not in similar and base not in similar


def test_more_like_this_respects_maturity_and_limit():
    _, kid = make_account("kid", is_kids=True, maturity_limit=2)
    genre = GenreFactory()
    base = TitleFactory(genres=[genre], maturity_rating=MaturityRating.PG)
    for _ in range(15):
        TitleFactory(genres=[genre], maturity_rating=MaturityRating.PG)
    mature = TitleFactory(genres=[genre], maturity_rating=MaturityRating.R)
    similar = selectors.more_like_this(profile=kid, title=base)
    assert len(similar) == 12
    assert mature not in similar


def test_more_like_this_rendered_on_detail(owner_client):
    genre = GenreFactory()
    base, twin = TitleFactory(genres=[genre]), TitleFactory(genres=[genre])
    html = owner_client.get(f"/title/{base.slug}/").content.decode()
    assert 'data-row="more-like-this"' in html
    assert f'data-title-id="{twin.pk}"' in html


# --- Rating ------------------------------------------------------------------------------------


def test_rate_plain_post_redirects_back_with_message(owner_client, owner):
    _, profile = owner
    title = TitleFactory(name="Heat")
    response = owner_client.post(f"/title/{title.slug}/rate/", {"value": "up", "next": "/browse/?page=2"}, follow=False)
    assert response.status_code == 302
    assert response["Location"] == "/browse/?page=2"
    assert Rating.objects.get(profile=profile, title=title).value == "up"
    page = owner_client.get(f"/title/{title.slug}/").content.decode()
    assert "Rated Heat: I like this" in page


def test_rate_unsafe_next_falls_back_to_detail(owner_client):
    title = TitleFactory()
    response = owner_client.post(f"/title/{title.slug}/rate/", {"value": "down", "next": "https://evil.example/"})
    assert response["Location"] == f"/title/{title.slug}/"


def test_rate_htmx_returns_partial_and_clear_removes(owner_client, owner):
    _, profile = owner
    title = TitleFactory()
    response = owner_client.post(f"/title/{title.slug}/rate/", {"value": "love"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<form class="rate-buttons"') or 'class="rate-buttons"' in html
    assert "<html" not in html
    assert 'data-rating="love"' in html
    assert Rating.objects.get(profile=profile, title=title).value == "love"

    response = owner_client.post(f"/title/{title.slug}/rate/", {"value": "clear"}, **HTMX)
    assert 'data-rating=""' in response.content.decode()
    assert not Rating.objects.filter(profile=profile).exists()


@pytest.mark.parametrize("value", ["", "meh", "LOVE", "x" * 500])
def test_rate_bad_value_htmx_400_plain_message_nothing_written(owner_client, value):
    title = TitleFactory()
    response = owner_client.post(f"/title/{title.slug}/rate/", {"value": value}, **HTMX)
    assert response.status_code == 400
    response = owner_client.post(f"/title/{title.slug}/rate/", {"value": value}, follow=True)
    assert response.status_code == 200
    assert "not a rating we know" in response.content.decode()
    assert not Rating.objects.exists()


def test_rate_needs_post_login_and_profile(client, owner_client, owner):
    title = TitleFactory()
    assert owner_client.get(f"/title/{title.slug}/rate/").status_code == 405
    response = client.post(f"/title/{title.slug}/rate/", {"value": "up"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    user, _ = owner
    response = signed_in_client(user).post(f"/title/{title.slug}/rate/", {"value": "up"})
    assert response.status_code == 302 and response["Location"].endswith("/profiles/")
    assert not Rating.objects.exists()


def test_rating_moves_engagement_stamp(owner_client, owner):
    _, profile = owner
    title = TitleFactory()
    owner_client.post(f"/title/{title.slug}/rate/", {"value": "up"})
    profile.refresh_from_db()
    assert profile.engagement_stamp == 1


# --- My List -----------------------------------------------------------------------------------


def test_list_add_remove_plain_and_htmx(owner_client, owner):
    _, profile = owner
    title = TitleFactory(name="Ronin")
    response = owner_client.post(f"/title/{title.slug}/list/", {"action": "add"}, HTTP_REFERER="http://testserver/")
    assert response.status_code == 302 and response["Location"] == "http://testserver/"
    assert ListEntry.objects.filter(profile=profile, title=title).exists()

    response = owner_client.post(f"/title/{title.slug}/list/", {"action": "remove"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'value="add"' in html
    assert not ListEntry.objects.filter(profile=profile).exists()

    response = owner_client.post(f"/title/{title.slug}/list/", {"action": "add"}, **HTMX)
    assert 'value="remove"' in response.content.decode()
    assert ListEntry.objects.filter(profile=profile).count() == 1


def test_list_bad_action_and_foreign_referer(owner_client):
    title = TitleFactory()
    assert owner_client.post(f"/title/{title.slug}/list/", {"action": "steal"}, **HTMX).status_code == 400
    response = owner_client.post(
        f"/title/{title.slug}/list/", {"action": "toggle"}, HTTP_REFERER="https://evil.example/x"
    )
    assert response.status_code == 302 and response["Location"] == f"/title/{title.slug}/"
    assert not ListEntry.objects.exists()


def test_list_is_per_profile(other_client, owner):
    _, profile = owner
    title = TitleFactory()
    services.list_add(profile=profile, title=title)
    html = other_client.get(f"/title/{title.slug}/").content.decode()
    assert 'name="action" value="add"' in html


# --- Posters -----------------------------------------------------------------------------------


def test_poster_svg_is_deterministic_escaped_and_cached(owner_client):
    title = TitleFactory(name="Fish & <Chips>", year=1999)
    response = owner_client.get(f"/title/{title.slug}/poster.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "max-age=604800" in response["Cache-Control"]
    body = response.content.decode()
    assert body.startswith("<svg") and "Fish &amp; &lt;Chips&gt;" in body and "1999" in body
    assert "<script" not in body
    assert body == poster_svg(title_id=title.pk, name=title.name, year=title.year)
    again = owner_client.get(f"/title/{title.slug}/poster.svg", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_poster_differs_between_titles():
    a = poster_svg(title_id=1, name="Alpha", year=2000)
    b = poster_svg(title_id=2, name="Alpha", year=2000)
    assert a != b
    assert poster_svg(title_id=1, name="Alpha", year=2000) == a


def test_poster_uses_uploaded_artwork(owner_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    title = TitleFactory()
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 20
    title.artwork = SimpleUploadedFile("art.png", png, content_type="image/png")
    title.save()
    response = owner_client.get(f"/title/{title.slug}/poster.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == png


def test_poster_anonymous_sees_family_titles_only(client):
    family = TitleFactory(maturity_rating=MaturityRating.PG)
    mature = TitleFactory(maturity_rating=MaturityRating.R)
    assert client.get(f"/title/{family.slug}/poster.svg").status_code == 200
    assert client.get(f"/title/{mature.slug}/poster.svg").status_code == 404


def test_staff_see_posters_beyond_their_own_profile_limit(staff):
    kid_profile = ProfileFactory(account=staff, is_kids=True, maturity_limit=2)
    mature = TitleFactory(maturity_rating=MaturityRating.R)
    assert signed_in_client(staff, kid_profile).get(f"/title/{mature.slug}/poster.svg").status_code == 200
    # A non-staff account with the same kind of profile still gets a 404.
    viewer, viewer_kid = make_account("viewer-kid", is_kids=True, maturity_limit=2)
    assert signed_in_client(viewer, viewer_kid).get(f"/title/{mature.slug}/poster.svg").status_code == 404
