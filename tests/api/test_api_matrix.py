"""Every endpoint x owner / other account / anonymous (with the account password at hand).

The owner acts on its own objects; "other" is a second account sending the SAME request (the
owner's ids) with its own valid token; "anonymous" sends no credentials. Profile-scoped objects
of another account are a 404 (never a 403), anonymous is a 401, and neither changes anything of
the owner. Account-level endpoints (profiles list, privacy consents, exports) act on the caller's
own account, so "other" succeeds there but sees none of the owner's data.
"""

import pytest
from django.urls import Resolver404, resolve

from tests.support.accounts import PASSWORD
from tests.support.api import token_client

OWNER, OTHER, ANON = "owner", "other", "anonymous"

# (id, method, path template, body, {persona: expected status})
ENDPOINTS = [
    ("signup", "post", "/api/v1/auth/signup/", "signup", {OWNER: 201, OTHER: 201, ANON: 201}),
    (
        "token",
        "post",
        "/api/v1/auth/token/",
        {"username": "owner", "password": PASSWORD},
        {OWNER: 200, OTHER: 200, ANON: 200},
    ),
    ("profiles-list", "get", "/api/v1/profiles/", None, {OWNER: 200, OTHER: 200, ANON: 401}),
    ("profiles-create", "post", "/api/v1/profiles/", {"name": "Third"}, {OWNER: 201, OTHER: 201, ANON: 401}),
    ("profile-get", "get", "/api/v1/profiles/{pid}/", None, {OWNER: 200, OTHER: 404, ANON: 401}),
    ("profile-patch", "patch", "/api/v1/profiles/{pid}/", {"name": "Renamed"}, {OWNER: 200, OTHER: 404, ANON: 401}),
    ("profile-delete", "delete", "/api/v1/profiles/{pid2}/", None, {OWNER: 204, OTHER: 404, ANON: 401}),
    ("titles-list", "get", "/api/v1/titles/", None, {OWNER: 200, OTHER: 200, ANON: 200}),
    ("titles-as-profile", "get", "/api/v1/titles/?profile={pid}", None, {OWNER: 200, OTHER: 404, ANON: 404}),
    ("title-get", "get", "/api/v1/titles/{tid}/", None, {OWNER: 200, OTHER: 200, ANON: 200}),
    ("title-as-profile", "get", "/api/v1/titles/{tid}/?profile={pid}", None, {OWNER: 200, OTHER: 404, ANON: 404}),
    ("ratings-list", "get", "/api/v1/profiles/{pid}/ratings/", None, {OWNER: 200, OTHER: 404, ANON: 401}),
    (
        "rating-put",
        "put",
        "/api/v1/profiles/{pid}/ratings/{tid}/",
        {"value": "love"},
        {OWNER: 200, OTHER: 404, ANON: 401},
    ),
    ("rating-delete", "delete", "/api/v1/profiles/{pid}/ratings/{tid}/", None, {OWNER: 204, OTHER: 404, ANON: 401}),
    ("my-list", "get", "/api/v1/profiles/{pid}/my-list/", None, {OWNER: 200, OTHER: 404, ANON: 401}),
    ("my-list-put", "put", "/api/v1/profiles/{pid}/my-list/{tid}/", None, {OWNER: 200, OTHER: 404, ANON: 401}),
    ("my-list-delete", "delete", "/api/v1/profiles/{pid}/my-list/{tid}/", None, {OWNER: 204, OTHER: 404, ANON: 401}),
    ("viewing-list", "get", "/api/v1/profiles/{pid}/viewing/", None, {OWNER: 200, OTHER: 404, ANON: 401}),
    (
        "viewing-post",
        "post",
        "/api/v1/profiles/{pid}/viewing/",
        {"title": "{tid}", "episode": None, "position_seconds": 120, "duration_seconds": 6000},
        {OWNER: 202, OTHER: 404, ANON: 401},
    ),
    (
        "viewing-exclude",
        "patch",
        "/api/v1/profiles/{pid}/viewing/{tid}/",
        {"exclude_from_recommendations": True},
        {OWNER: 200, OTHER: 404, ANON: 401},
    ),
    ("hidden-list", "get", "/api/v1/profiles/{pid}/hidden/", None, {OWNER: 200, OTHER: 404, ANON: 401}),
    ("hidden-put", "put", "/api/v1/profiles/{pid}/hidden/{tid}/", None, {OWNER: 201, OTHER: 404, ANON: 401}),
    ("hidden-delete", "delete", "/api/v1/profiles/{pid}/hidden/{tid}/", None, {OWNER: 204, OTHER: 404, ANON: 401}),
    ("home", "get", "/api/v1/profiles/{pid}/home/", None, {OWNER: 200, OTHER: 404, ANON: 401}),
    ("consents-get", "get", "/api/v1/privacy/consents/", None, {OWNER: 200, OTHER: 200, ANON: 401}),
    (
        "consents-put",
        "put",
        "/api/v1/privacy/consents/",
        {"personalization": True, "viewing_history": True, "search_history": True, "analytics": False},
        {OWNER: 200, OTHER: 200, ANON: 401},
    ),
    ("exports-create", "post", "/api/v1/privacy/exports/", None, {OWNER: 202, OTHER: 202, ANON: 401}),
    ("export-get", "get", "/api/v1/privacy/exports/{export_id}/", None, {OWNER: 200, OTHER: 404, ANON: 401}),
    (
        "export-download",
        "get",
        "/api/v1/privacy/exports/{export_id}/download/",
        None,
        {OWNER: 200, OTHER: 404, ANON: 401},
    ),
    (
        "account-delete",
        "post",
        "/api/v1/account/delete/",
        {"password": PASSWORD},
        {OWNER: (202, 204), OTHER: (202, 204), ANON: 401},
    ),
]


def _routed(path: str) -> bool:
    try:
        resolve(path.split("?")[0])
    except Resolver404:
        return False
    return True


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: (int(_fill(v, ids)) if v == "{tid}" else _fill(v, ids)) for k, v in value.items()}
    return value


def _export_id(world, capture_on_commit):
    """An export of the owner's, made through the owner's own API call (privacy's endpoint)."""
    with capture_on_commit(execute=True):  # the export job is queued on commit; run it now
        response = token_client(world.owner).post("/api/v1/privacy/exports/", format="json")
    assert response.status_code == 202, response.content
    return response.json()["id"]


@pytest.mark.parametrize("persona", [OWNER, OTHER, ANON])
@pytest.mark.parametrize(("name", "method", "path", "body", "expected"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_endpoint_persona_matrix(
    world,
    django_capture_on_commit_callbacks,
    persona,
    name,
    method,
    path,
    body,
    expected,
):
    probe = path.format(pid=1, pid2=1, tid=1, export_id="00000000-0000-0000-0000-000000000000")
    assert _routed(probe), f"{probe} is not routed"
    ids = {
        "pid": world.owner_profile.pk,
        "pid2": world.owner_second.pk,
        "tid": world.family_title.pk,
        "export_id": _export_id(world, django_capture_on_commit_callbacks) if "{export_id}" in path else 0,
    }
    if body == "signup":
        body = {"username": f"new-{persona}", "email": f"{persona}@example.com", "password": "a-long-new-passphrase"}
    before = world.owner_rows()
    # Each account's client knows its own password, as an account-level call needs (the refusals
    # without it, from a kids session and from a profile-bound token are in test_households.py).
    client = token_client({OWNER: world.owner, OTHER: world.other, ANON: None}[persona], password=PASSWORD)

    response = getattr(client, method)(_fill(path, ids), _fill(body, ids), format="json")

    allowed = expected[persona] if isinstance(expected[persona], tuple) else (expected[persona],)
    assert response.status_code in allowed, (response.status_code, response.content[:300])
    if not (response.status_code == 204 or (name == "export-download" and response.status_code == 200)):
        assert response["Content-Type"].startswith("application/json")
    if response.status_code >= 400:
        assert isinstance(response.json().get("detail"), str)
    if persona != OWNER and name not in {"token", "signup"}:
        # Nothing of the owner changed, and nothing of the owner leaked into the answer.
        assert world.owner_rows() == before
        if name == "profiles-list" and response.status_code == 200:
            listed = {p["id"] for p in response.json()["results"]}
            assert listed == {world.other_profile.pk}
