"""Schema and behaviour agree: each disagreement schemathesis `--checks all` found (issue 13),
pinned from both sides: what /api/schema/ says, and what the server does with the same input."""

import pytest
from rest_framework.test import APIClient

from catalog.models import ViewingActivity
from privacy import consent
from tests.support.accounts import PASSWORD
from tests.support.api import token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def openapi(client):
    return client.get("/api/schema/", headers={"accept": "application/json"}).json()


def _request_body(openapi, path: str, method: str) -> dict:
    ref = openapi["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return openapi["components"]["schemas"][ref.rsplit("/", 1)[1]]


def _parameter(openapi, path: str, name: str, method: str = "get") -> dict:
    [parameter] = [p for p in openapi["paths"][path][method]["parameters"] if p["name"] == name]
    return parameter["schema"]


# --- Query parameters ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["null", "abc", "0", "-1", "2.5", ""])
def test_page_size_that_is_not_a_whole_number_from_1_is_refused(world, openapi, value):
    assert _parameter(openapi, "/api/v1/titles/", "page_size") == {"type": "integer", "minimum": 1}
    response = APIClient().get("/api/v1/titles/", {"page_size": value})
    # Was a 200 with the default page: the client's bug went unnoticed.
    assert response.status_code == 404
    assert "page_size" in response.json()["detail"]


def test_page_size_above_the_maximum_gets_the_maximum(world):
    response = APIClient().get("/api/v1/titles/", {"page_size": "5000"})
    assert response.status_code == 200 and response.json()["count"] >= 1


def test_an_empty_kind_is_refused(world, openapi):
    assert _parameter(openapi, "/api/v1/titles/", "kind")["enum"] == ["film", "series"]
    response = APIClient().get("/api/v1/titles/?kind=")
    assert response.status_code == 400  # was 200 with every title
    assert "kind" in response.json()["errors"]


def test_an_empty_year_is_refused(world):
    response = APIClient().get("/api/v1/titles/?year=")
    assert response.status_code == 400 and "year" in response.json()["errors"]


def test_year_bounds_are_in_the_schema(world, openapi):
    assert _parameter(openapi, "/api/v1/titles/", "year") == {"type": "integer", "minimum": 1800, "maximum": 3000}
    assert APIClient().get("/api/v1/titles/", {"year": 0}).status_code == 400
    assert APIClient().get("/api/v1/titles/", {"year": 1800}).status_code == 200
    assert APIClient().get("/api/v1/titles/", {"year": "1999.5"}).status_code == 400  # a year is whole


def test_text_filter_lengths_are_in_the_schema(openapi):
    assert _parameter(openapi, "/api/v1/titles/", "search")["maxLength"] == 1000
    assert _parameter(openapi, "/api/v1/titles/", "external_id")["maxLength"] == 64


@pytest.mark.parametrize("path", ["/api/v1/titles/", "/api/v1/titles/{id}/"])
def test_profile_parameter_is_a_positive_id_in_the_schema(world, openapi, path):
    assert _parameter(openapi, path, "profile")["minimum"] == 1
    concrete = path.replace("{id}", str(world.family_title.pk))
    response = token_client(world.owner).get(concrete, {"profile": -1})
    assert response.status_code == 400 and "profile" in response.json()["errors"]


def test_an_unknown_genre_is_a_404_not_a_400(world, openapi):
    # The schema types genre as a string (slugs are data); a well-formed unknown one is "not found".
    assert _parameter(openapi, "/api/v1/titles/", "genre")["type"] == "string"
    assert APIClient().get("/api/v1/titles/", {"genre": "no-such-genre"}).status_code == 404
    assert APIClient().get("/api/v1/titles/", {"genre": "drama"}).status_code == 200


# --- Booleans are JSON booleans --------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 1, "true", "yes"])
def test_is_kids_takes_only_a_json_boolean(world, value):
    client = token_client(world.owner, password=PASSWORD)
    response = client.post("/api/v1/profiles/", {"name": "Kid", "is_kids": value}, format="json")
    assert response.status_code == 400  # 0/1/"true" were read as booleans
    assert "is_kids" in response.json()["errors"]
    assert client.post("/api/v1/profiles/", {"name": "Kid", "is_kids": True}, format="json").status_code == 201


def test_consents_take_only_json_booleans(world):
    client = token_client(world.owner)
    response = client.put("/api/v1/privacy/consents/", {"analytics": 0}, format="json")
    assert response.status_code == 400 and "analytics" in response.json()["errors"]
    assert consent.allows(world.owner.pk, "analytics")  # the 0 did not withdraw it


def test_signup_consents_take_only_json_booleans():
    body = {"username": "newbie", "email": "n@example.com", "password": "a-long-new-passphrase"}
    response = APIClient().post("/api/v1/auth/signup/", {**body, "consents": {"analytics": 1}}, format="json")
    assert response.status_code == 400 and "consents.analytics" in response.json()["errors"]


def test_rating_exclude_flag_takes_only_a_json_boolean(world):
    url = f"/api/v1/profiles/{world.owner_profile.pk}/ratings/{world.teen_title.pk}/"
    response = token_client(world.owner).put(url, {"value": "up", "exclude_from_recommendations": 1}, format="json")
    assert response.status_code == 400 and "exclude_from_recommendations" in response.json()["errors"]


def test_the_viewing_exclude_patch_needs_its_flag_and_the_schema_says_so(world, openapi):
    body = _request_body(openapi, "/api/v1/profiles/{pid}/viewing/{title_id}/", "patch")
    assert body["required"] == ["exclude_from_recommendations"]  # was documented as optional
    url = f"/api/v1/profiles/{world.owner_profile.pk}/viewing/{world.family_title.pk}/"
    response = token_client(world.owner).patch(url, {}, format="json")
    assert response.status_code == 400 and "exclude_from_recommendations" in response.json()["errors"]


def test_unknown_consent_keys_are_refused_and_the_schema_says_so(world, openapi):
    assert _request_body(openapi, "/api/v1/privacy/consents/", "put")["additionalProperties"] is False
    response = token_client(world.owner).put("/api/v1/privacy/consents/", {"analytic": False}, format="json")
    assert response.status_code == 400 and "analytic" in response.json()["errors"]
    assert consent.allows(world.owner.pk, "analytics")


# --- Viewing: the API's rule is the player page's ----------------------------------------------


def _heartbeat(world, **body):
    url = f"/api/v1/profiles/{world.owner_profile.pk}/viewing/"
    return token_client(world.owner).post(url, {"position_seconds": 1, "duration_seconds": 9, **body}, format="json")


def test_a_series_heartbeat_needs_an_episode(world):
    before = ViewingActivity.objects.count()
    response = _heartbeat(world, title=world.series.pk)
    assert response.status_code == 400  # was 202, keeping an episode-less row for a series
    assert response.json()["errors"] == {"episode": ["episode is required for a series"]}
    assert ViewingActivity.objects.count() == before


def test_a_film_heartbeat_has_no_episode(world):
    response = _heartbeat(world, title=world.family_title.pk, episode=world.series.episodes.first().pk)
    assert response.status_code == 400
    assert response.json()["errors"] == {"episode": ["a film has no episodes"]}


def test_series_and_film_heartbeats_as_the_page_sends_them_are_recorded(world):
    assert _heartbeat(world, title=world.series.pk, episode=world.series.episodes.first().pk).status_code == 202
    assert _heartbeat(world, title=world.family_title.pk).status_code == 202
    assert _heartbeat(world, title=world.family_title.pk, episode=None).status_code == 202
