"""Privacy API per CONTRACTS.md: consents GET/PUT; schema annotations."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from privacy import consent
from privacy.models import ConsentEvent
from tests.support.accounts import make_account


def api(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.mark.django_db
def test_consents_get_and_put_logged_with_method_api(django_assert_max_num_queries):
    user, _ = make_account("apiuser", consents=False)
    client = api(user)
    # token + user lookup, consent state
    with django_assert_max_num_queries(3):
        resp = client.get("/api/v1/privacy/consents/")
    assert resp.json() == dict.fromkeys(consent.PURPOSES, False)
    resp = client.put("/api/v1/privacy/consents/", {"personalization": True, "analytics": True}, format="json")
    assert resp.status_code == 200
    assert resp.json() == {
        "personalization": True,
        "viewing_history": False,
        "search_history": False,
        "analytics": True,
    }
    assert set(ConsentEvent.objects.filter(account=user).values_list("method", flat=True)) == {"api"}
    resp = client.put("/api/v1/privacy/consents/", {"personalization": False}, format="json")
    assert resp.json()["personalization"] is False and resp.json()["analytics"] is True


@pytest.mark.django_db
def test_consents_put_rejects_garbage(owner):
    client = api(owner[0])
    before = ConsentEvent.objects.count()
    assert client.put("/api/v1/privacy/consents/", {"marketing": True}, format="json").status_code == 400
    assert client.put("/api/v1/privacy/consents/", {"analytics": "maybe"}, format="json").status_code == 400
    assert client.put("/api/v1/privacy/consents/", ["x"], format="json").status_code == 400
    assert ConsentEvent.objects.count() == before


@pytest.mark.django_db
def test_consents_are_per_account(owner, other):
    api(owner[0]).put("/api/v1/privacy/consents/", {"analytics": False}, format="json")
    assert api(other[0]).get("/api/v1/privacy/consents/").json()["analytics"] is True
    assert APIClient().get("/api/v1/privacy/consents/").status_code == 401
    assert APIClient().put("/api/v1/privacy/consents/", {"analytics": True}, format="json").status_code == 401


@pytest.mark.django_db
def test_privacy_endpoints_are_in_the_openapi_schema(owner):
    resp = api(owner[0]).get("/api/schema/", HTTP_ACCEPT="application/json")
    paths = resp.json()["paths"] if resp["Content-Type"].startswith("application/json") else None
    if paths is None:
        import yaml

        paths = yaml.safe_load(resp.content)["paths"]
    for p in (
        "/api/v1/privacy/consents/",
        "/api/v1/privacy/exports/",
        "/api/v1/privacy/exports/{id}/",
        "/api/v1/account/delete/",
    ):
        assert p in paths, p
    assert "202" in paths["/api/v1/privacy/exports/"]["post"]["responses"]
