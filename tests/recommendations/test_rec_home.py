"""The home page and API with a serving model: rows on the page, "why" pages, permissions, queries."""

import pytest
from django.urls import reverse

from catalog import services as catalog_services
from tests.support.accounts import PASSWORD, make_account, signed_in_client
from tests.support.factories import TitleFactory
from tests.support.recommender import install_model, rate

pytestmark = pytest.mark.usefixtures("rec_env")


def test_home_page_shows_personal_rows_with_reasons_and_why_links(owner, owner_client, cat):
    _, profile = owner
    install_model(cat)
    rate(profile, cat.by_genre["drama"][2:4])
    response = owner_client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-row="top-picks"' in html
    assert 'data-row="genre-for-you-drama"' in html
    assert "Because you loved drama" in html
    assert reverse("recommendation-why", args=["top-picks"]) in html
    assert response.context["home"].personalized


def test_why_page_explains_a_row(owner, owner_client, cat):
    _, profile = owner
    install_model(cat)
    rate(profile, cat.by_genre["drama"][2:4])
    response = owner_client.get(reverse("recommendation-why", args=["top-picks"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "drama 2" in html and "You loved" in html
    assert "data-title-id=" in html
    # A row that is not on this profile's home (or not a recommendation) is a 404.
    assert owner_client.get(reverse("recommendation-why", args=["because-999999"])).status_code == 404


def test_why_page_needs_a_signed_in_profile(client, cat):
    install_model(cat)
    response = client.get(reverse("recommendation-why", args=["top-picks"]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_personalized_home_query_count_is_small_and_flat(owner, owner_client, cat, django_assert_max_num_queries):
    _, profile = owner
    install_model(cat)
    rate(profile, cat.by_genre["drama"][2:4])
    owner_client.get(reverse("home"))  # warm the per-process caches (genre index, visibility mask)

    def measure():
        # session, user, profile (middleware), consent; the taste when the engagement stamp
        # moved: ratings, viewing, list, onboarding genres; the catalog's personal shelves
        # (continue watching, my list) and collections (trending, new and genre shelves are
        # cached); ONE title fetch for every row; the privacy banner's two reads; the artwork
        # bandit's taste context when the engagement stamp moved (recommendations.artwork).
        with django_assert_max_num_queries(17) as ctx:
            response = owner_client.get(reverse("home"))
        assert response.context["home"].personalized
        return len(ctx.captured_queries)

    rate(profile, cat.by_genre["drama"][4:5])
    small = measure()
    # More history and more titles must not cost more queries.
    rate(profile, cat.by_genre["comedy"][2:10], value="up")
    for t in cat.by_genre["sci-fi"][2:8]:
        catalog_services.list_add(profile=profile, title=t)
    for i in range(20):
        TitleFactory(name=f"extra {i}")
    assert measure() <= small
    # Nothing changed since: the profile's taste and vector come from the cache.
    assert measure() <= small - 4


def test_api_home_owner_gets_rows(owner, cat):
    user, profile = owner
    install_model(cat)
    rate(profile, cat.by_genre["drama"][2:4])
    client = signed_in_client(user)
    response = client.get(f"/api/v1/profiles/{profile.pk}/home/")
    assert response.status_code == 200
    data = response.json()
    assert data["personalized"] is True
    assert data["model_version"] == "v1"
    assert data["rows"][0]["key"] == "top-picks"
    item = data["rows"][0]["items"][0]
    assert set(item) == {"id", "external_id", "name", "reason"} and item["reason"]
    assert all(row["reason"] for row in data["rows"])


def test_api_home_with_token_and_fallback(cat):
    from rest_framework.authtoken.models import Token

    user, profile = make_account("tokenuser", consents=False)
    token = Token.objects.create(user=user)
    from django.test import Client

    url = f"/api/v1/profiles/{profile.pk}/home/"
    # A profile's home shows its Continue watching: an account token needs the password for it.
    refused = Client().get(url, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert refused.status_code == 403
    response = Client().get(url, HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_X_MARQUEE_PASSWORD=PASSWORD)
    assert response.status_code == 200
    data = response.json()
    assert data["personalized"] is False and data["model_version"] is None
    assert data["rows"], "the non-personalized rows"
    assert "switched off" in data["notice"]


def test_api_home_of_another_account_is_404(other, owner_client):
    _, other_profile = other
    response = owner_client.get(f"/api/v1/profiles/{other_profile.pk}/home/")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_api_home_anonymous_is_401(client, owner):
    _, profile = owner
    response = client.get(f"/api/v1/profiles/{profile.pk}/home/")
    assert response.status_code == 401


def test_api_home_is_in_the_schema(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert "/api/v1/profiles/{pid}/home/" in response.json()["paths"]
