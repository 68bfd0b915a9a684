"""Errors under /api/ are JSON with `detail` (never HTML, never a stack trace); the site's own pages
get the plain 404/500 templates."""

import pytest
from django.test import Client, RequestFactory, override_settings
from rest_framework.test import APIClient

from accounts import apis as account_apis
from api.errors import handler404, handler500
from tests.support.accounts import PASSWORD
from tests.support.api import token_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    ["/api/v1/nope/", "/api/v1/profiles/abc/", "/api/nothing", "/api/v2/titles/", "/api/v1/titles/1/extra/"],
)
def test_unknown_api_paths_are_json_404(path):
    response = Client().get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_site_404_is_the_html_page():
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "Page not found" in response.content.decode()


def test_method_not_allowed_and_unsupported_media_are_json(owner):
    client = token_client(owner[0])
    put = client.put("/api/v1/profiles/", {}, format="json")
    assert put.status_code == 405 and "detail" in put.json()


@pytest.mark.parametrize("debug", [False, True])
def test_unhandled_exception_in_an_endpoint_is_json_500(owner, monkeypatch, caplog, debug):
    def explode(self, request):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(account_apis.ProfileListApi, "get", explode)
    with override_settings(DEBUG=debug):
        response = token_client(owner[0]).get("/api/v1/profiles/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Server error."}
    assert "secret internals" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    # Still reported for the people who run the site.
    assert any("secret internals" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_handler500_json_for_api_and_template_without_request_context():
    factory = RequestFactory()
    api = handler500(factory.get("/api/v1/titles/"))
    site = handler500(factory.get("/browse/"))

    assert api.status_code == 500 and api["Content-Type"] == "application/json"
    assert site.status_code == 500 and "Something went wrong" in site.content.decode()


def test_handler404_for_api_and_site():
    factory = RequestFactory()
    assert handler404(factory.get("/api/v1/x/")).status_code == 404
    site = handler404(factory.get("/x/"))
    assert site.status_code == 404 and b"Page not found" in site.content


def test_non_drf_failure_under_api_is_json_500(monkeypatch):
    """A crash outside DRF (e.g. a middleware) under /api/ still answers JSON via handler500."""
    import accounts.middleware

    def broken(request):
        raise RuntimeError("middleware exploded")

    monkeypatch.setattr(accounts.middleware, "resolve_profile", broken)
    client = Client(raise_request_exception=False)
    api = client.get("/api/v1/titles/")
    site = client.get("/accounts/login/")

    assert api.status_code == 500 and api.json() == {"detail": "Server error."}
    assert site.status_code == 500 and "Something went wrong" in site.content.decode()


def test_validation_errors_have_detail_and_field_errors(owner):
    client = token_client(owner[0], password=PASSWORD)
    response = client.post("/api/v1/profiles/", {"name": "", "is_kids": "perhaps"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Invalid input."
    assert set(body["errors"]) == {"name", "is_kids"}


def test_401_and_403_shapes(owner):
    anonymous = APIClient().get("/api/v1/profiles/")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"].startswith("Token")
    assert anonymous.json() == {"detail": "Authentication credentials were not provided."}
