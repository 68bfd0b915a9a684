"""Throttling (429 + Retry-After, the API_THROTTLE switch) and the login lockout (django-axes) on the
login form and the token endpoint, with the cool-off passed by time-machine."""

from copy import deepcopy
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from tests.support.accounts import PASSWORD
from tests.support.api import token_client

pytestmark = pytest.mark.django_db


def _rates(**rates):
    config = deepcopy(settings.REST_FRAMEWORK)
    config["DEFAULT_THROTTLE_RATES"] = {**config["DEFAULT_THROTTLE_RATES"], **rates}
    return config


@pytest.fixture
def throttled():
    """Throttling on, with tiny rates, from an empty cache."""
    cache.clear()
    with override_settings(
        API_THROTTLE=True, REST_FRAMEWORK=_rates(anon="3/min", user="4/min", signup="2/hour", token="3/min")
    ):
        yield
    cache.clear()


def test_anonymous_scope_429_with_retry_after(throttled):
    client = APIClient()
    statuses = [client.get("/api/v1/titles/").status_code for _ in range(4)]
    response = client.get("/api/v1/titles/")

    assert statuses == [200, 200, 200, 429]
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert "throttled" in response.json()["detail"].lower()


def test_user_scope_is_per_account(throttled, owner, other):
    owner_client, other_client = token_client(owner[0]), token_client(other[0])
    statuses = [owner_client.get("/api/v1/profiles/").status_code for _ in range(5)]

    assert statuses == [200, 200, 200, 200, 429]
    assert other_client.get("/api/v1/profiles/").status_code == 200


def test_throttle_window_passes(throttled):
    client = APIClient()
    for _ in range(3):
        client.get("/api/v1/titles/")
    assert client.get("/api/v1/titles/").status_code == 429
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        assert client.get("/api/v1/titles/").status_code == 200


def test_signup_has_a_stricter_scope(throttled):
    client = APIClient()
    answers = [
        client.post(
            "/api/v1/auth/signup/",
            {"username": f"u{n}", "email": f"u{n}@example.com", "password": "a-long-new-passphrase"},
            format="json",
        )
        for n in range(3)
    ]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert int(answers[2]["Retry-After"]) > 60  # an hourly budget


def test_token_has_a_stricter_scope(throttled, owner):
    client = APIClient()
    body = {"username": "owner", "password": PASSWORD}
    statuses = [client.post("/api/v1/auth/token/", body, format="json").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_api_throttle_off_switch(owner):
    cache.clear()
    with override_settings(API_THROTTLE=False, REST_FRAMEWORK=_rates(anon="1/min", user="1/min", token="1/min")):
        client = APIClient()
        assert {client.get("/api/v1/titles/").status_code for _ in range(5)} == {200}
        user_client = token_client(owner[0])
        assert {user_client.get("/api/v1/profiles/").status_code for _ in range(5)} == {200}


# --- Lockout ------------------------------------------------------------------------------------

LIMIT = settings.AXES_FAILURE_LIMIT


@pytest.fixture
def no_api_throttle():
    with override_settings(API_THROTTLE=False):
        yield


def _form_login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_axes_settings_are_what_we_rely_on():
    assert settings.AXES_ENABLED
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"], ["ip_address"]]
    assert settings.AXES_NETWORK_FAILURE_LIMIT == 50
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_login_form_locks_per_username_and_unlocks_after_cooloff(owner):
    client = Client()
    answers = [_form_login(client, "owner", "wrong") for _ in range(LIMIT)]

    assert [a.status_code for a in answers[:-1]] == [200] * (LIMIT - 1)  # the form again, with its error
    assert answers[-1].status_code == 429
    # Even the right password is refused while locked, from that network; from another it works.
    assert _form_login(Client(REMOTE_ADDR="10.9.9.9"), "owner", PASSWORD).status_code == 302
    locked = _form_login(Client(), "owner", PASSWORD)
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    assert int(locked["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session

    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(seconds=5), tick=False):
        unlocked = _form_login(Client(), "owner", PASSWORD)
    assert unlocked.status_code == 302


def test_login_form_locks_per_ip(owner, other):
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(settings.AXES_NETWORK_FAILURE_LIMIT):
        _form_login(attacker, f"guess{n}", "wrong")

    from_attacker = _form_login(attacker, "other", PASSWORD)
    from_elsewhere = _form_login(Client(REMOTE_ADDR="198.51.100.1"), "other", PASSWORD)

    assert from_attacker.status_code == 429
    assert from_elsewhere.status_code == 302


def test_token_endpoint_locks_per_username_and_unlocks(owner, no_api_throttle):
    client = APIClient()
    wrong = {"username": "owner", "password": "wrong"}
    answers = [client.post("/api/v1/auth/token/", wrong, format="json") for _ in range(LIMIT)]

    assert [a.status_code for a in answers[:-1]] == [400] * (LIMIT - 1)
    assert answers[-1].status_code == 429
    right = {"username": "owner", "password": PASSWORD}
    locked = APIClient().post("/api/v1/auth/token/", right, format="json")
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/json"
    assert "Too many failed sign-in attempts" in locked.json()["detail"]
    assert "15 minutes" in locked.json()["detail"]
    assert int(locked["Retry-After"]) == 15 * 60
    assert "token" not in locked.json()

    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(seconds=5), tick=False):
        unlocked = APIClient().post("/api/v1/auth/token/", right, format="json")
    assert unlocked.status_code == 200 and unlocked.json()["token"]


def test_token_and_form_share_the_lockout(owner, no_api_throttle):
    for _ in range(LIMIT):
        APIClient().post("/api/v1/auth/token/", {"username": "owner", "password": "wrong"}, format="json")
    assert _form_login(Client(), "owner", PASSWORD).status_code == 429


def test_token_success_resets_the_failure_count(owner, no_api_throttle):
    client = APIClient()
    for _ in range(LIMIT - 1):
        client.post("/api/v1/auth/token/", {"username": "owner", "password": "wrong"}, format="json")
    assert (
        client.post("/api/v1/auth/token/", {"username": "owner", "password": PASSWORD}, format="json").status_code
        == 200
    )
    for _ in range(LIMIT - 1):
        client.post("/api/v1/auth/token/", {"username": "owner", "password": "wrong"}, format="json")
    ok = client.post("/api/v1/auth/token/", {"username": "owner", "password": PASSWORD}, format="json")
    assert ok.status_code == 200


def test_no_access_log_of_successful_logins(owner, no_api_throttle):
    from axes.models import AccessLog

    APIClient().post("/api/v1/auth/token/", {"username": "owner", "password": PASSWORD}, format="json")
    _form_login(Client(), "owner", PASSWORD)
    assert not AccessLog.objects.exists()
