"""Issue 13 (3-6): every password check behind the lockout, a lockout that cannot lock out
someone else, throttles on password reset and sign-up, shared counts and mail in production."""

import os
import re
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.checks import email_backend_delivers, throttle_cache_is_shared
from accounts.forms import RESET_MAIL_THREAD
from accounts.models import User
from privacy.models import DeletionRecord
from tests.support import ROOT
from tests.support.accounts import PASSWORD, make_account, signed_in_client
from tests.support.api import token_client

LIMIT = settings.AXES_FAILURE_LIMIT  # per username + network
NETWORK_LIMIT = settings.AXES_NETWORK_FAILURE_LIMIT
STRONG = "a-much-Stronger-passphrase-42"
HOME = "198.51.100.7"  # the account holder's network
ELSEWHERE = "203.0.113.9"  # someone else's network

pytestmark = pytest.mark.django_db


def _login(username, password, address):
    return Client(REMOTE_ADDR=address).post(reverse("login"), {"username": username, "password": password})


# --- Every password check is behind the lockout -------------------------------------------------


def test_wrong_old_password_on_password_change_locks_out(owner):
    user, profile = owner
    client = signed_in_client(user, profile)
    wrong = {"old_password": "not-it", "new_password1": STRONG, "new_password2": STRONG}
    statuses = [client.post(reverse("password_change"), wrong).status_code for _ in range(LIMIT + 1)]

    # The limit-th wrong password is the one that locks (as on the login form).
    assert statuses == [200] * (LIMIT - 1) + [429, 429]
    right = client.post(reverse("password_change"), {**wrong, "old_password": PASSWORD})
    assert right.status_code == 429
    assert "accounts/lockout.html" in [t.name for t in right.templates]
    assert int(right["Retry-After"]) > 0
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_change_with_the_right_old_password_still_works(owner):
    user, profile = owner
    client = signed_in_client(user, profile)
    response = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": STRONG, "new_password2": STRONG}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(STRONG)


def test_wrong_passwords_on_the_delete_page_lock_out(owner):
    user, profile = owner
    client = signed_in_client(user, profile)
    statuses = [
        client.post(reverse("privacy-delete"), {"password": "nope", "confirm": "on"}).status_code
        for _ in range(LIMIT + 1)
    ]

    assert statuses == [400] * (LIMIT - 1) + [429, 429]
    locked = client.post(reverse("privacy-delete"), {"password": PASSWORD, "confirm": "on"})
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert User.objects.get(pk=user.pk).is_active and not DeletionRecord.objects.exists()


def test_wrong_passwords_on_the_delete_api_lock_out(owner):
    user, _ = owner
    client = token_client(user)
    answers = [client.post("/api/v1/account/delete/", {"password": "nope"}, format="json") for _ in range(LIMIT)]

    assert [a.status_code for a in answers] == [400] * (LIMIT - 1) + [429]
    locked = client.post("/api/v1/account/delete/", {"password": PASSWORD}, format="json")
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/json" and "Too many" in locked.json()["detail"]
    assert int(locked["Retry-After"]) == int(settings.AXES_COOLOFF_TIME.total_seconds())
    assert User.objects.get(pk=user.pk).is_active and not DeletionRecord.objects.exists()


def test_delete_api_with_the_right_password_still_deletes(owner):
    user, _ = owner
    response = token_client(user).post("/api/v1/account/delete/", {"password": PASSWORD}, format="json")
    assert response.status_code == 202
    assert not User.objects.get(pk=user.pk).is_active


# --- The lockout cannot lock out someone else ----------------------------------------------------


def test_lockout_settings():
    assert settings.AXES_HANDLER == "api.lockout.SizedLimitsHandler"
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"], ["ip_address"]]
    assert (LIMIT, NETWORK_LIMIT) == (5, 50)


def test_guessing_from_one_network_locks_that_username_there_only(owner):
    statuses = [_login("owner", "wrong", ELSEWHERE).status_code for _ in range(LIMIT)]
    assert statuses == [200] * (LIMIT - 1) + [429]

    # The attacker's network is locked out of this username, even with the right password...
    assert _login("owner", PASSWORD, ELSEWHERE).status_code == 429
    # ...and from another address of the same /24 (the lockout counts networks).
    assert _login("owner", PASSWORD, "203.0.113.200").status_code == 429
    # The owner still signs in from home.
    assert _login("owner", PASSWORD, HOME).status_code == 302


def test_the_token_endpoint_applies_the_same_per_network_lockout(owner):
    with override_settings(API_THROTTLE=False):
        wrong = {"username": "owner", "password": "wrong"}
        attacker = APIClient(REMOTE_ADDR=ELSEWHERE)
        statuses = [attacker.post("/api/v1/auth/token/", wrong, format="json").status_code for _ in range(LIMIT)]
        right = {"username": "owner", "password": PASSWORD}
        from_home = APIClient(REMOTE_ADDR=HOME).post("/api/v1/auth/token/", right, format="json")
    assert statuses == [400] * (LIMIT - 1) + [429]
    assert from_home.status_code == 200 and from_home.json()["token"]


def test_a_few_failures_at_random_usernames_lock_nobody_else(owner, other):
    for n in range(NETWORK_LIMIT - 1):
        _login(f"guess{n}", "wrong", ELSEWHERE)

    # 49 failures: the other people behind that network still sign in.
    assert _login("other", PASSWORD, ELSEWHERE).status_code == 302
    # A success clears only that username's failures, not the network's count: one more
    # failure reaches the network limit and locks the network for everyone...
    assert _login("guess-last", "wrong", ELSEWHERE).status_code == 429
    assert _login("owner", PASSWORD, ELSEWHERE).status_code == 429
    locked = _login("other", PASSWORD, "203.0.113.77")
    assert locked.status_code == 429
    assert b"after 50 failed attempts" in locked.content
    # ...but not elsewhere.
    assert _login("owner", PASSWORD, HOME).status_code == 302

    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(seconds=5), tick=False):
        assert _login("other", PASSWORD, ELSEWHERE).status_code == 302


def test_an_attackers_own_account_cannot_reset_the_network_count(owner, other):
    # Spraying usernames from one network, signing in to an account of one's own between rounds.
    for round_ in range(NETWORK_LIMIT // 10):
        for n in range(10):
            _login(f"spray{round_}-{n}", "wrong", ELSEWHERE)
        assert _login("other", PASSWORD, ELSEWHERE).status_code == (302 if round_ < NETWORK_LIMIT // 10 - 1 else 429)
    assert _login("owner", PASSWORD, ELSEWHERE).status_code == 429


# --- Password reset: limits, same answer, same work --------------------------------------------------


def _reset(email, address="192.0.2.10"):
    return Client(REMOTE_ADDR=address).post(reverse("password_reset"), {"email": email})


def test_password_reset_sends_at_most_three_emails_per_address_per_hour(owner):
    user, _ = owner
    answers = [_reset(user.email.upper() if n % 2 else user.email, f"192.0.{n}.1") for n in range(4)]

    assert [a.status_code for a in answers] == [302, 302, 302, 429]
    assert len(mail.outbox) == 3
    assert int(answers[-1]["Retry-After"]) > 0
    assert "Too many password reset requests" in answers[-1].content.decode()
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=5), tick=False):
        assert _reset(user.email).status_code == 302
    assert len(mail.outbox) == 4


def _page(response) -> str:
    # Without the CSRF tokens (a new one per browser).
    return re.sub(r"[A-Za-z0-9]{64}", "TOKEN", response.content.decode())


def test_password_reset_answers_the_same_whether_or_not_the_address_exists(owner):
    user, _ = owner
    known = [_reset(user.email, "192.0.2.1") for _ in range(4)]
    unknown = [_reset("nobody@example.com", "192.0.2.1") for _ in range(4)]

    assert [a.status_code for a in known] == [a.status_code for a in unknown] == [302, 302, 302, 429]
    assert {a["Location"] for a in known[:3] + unknown[:3]} == {reverse("password_reset_done")}
    # The same page but for the address typed in.
    assert _page(known[-1]).replace(user.email, "ADDRESS") == _page(unknown[-1]).replace(
        "nobody@example.com", "ADDRESS"
    )
    assert [m.to for m in mail.outbox] == [[user.email]] * 3


def test_password_reset_is_limited_per_network(owner):
    answers = [_reset(f"someone{n}@example.com", "192.0.2.10") for n in range(20)]
    assert {a.status_code for a in answers} == {302}
    assert _reset("one-more@example.com", "192.0.2.99").status_code == 429  # the same /24
    assert _reset("one-more@example.com", "198.51.100.1").status_code == 302  # another network


def test_password_reset_mail_can_leave_from_a_background_thread(owner):
    user, _ = owner
    with override_settings(EMAIL_SEND_IN_BACKGROUND=True):
        assert _reset(user.email).status_code == 302
        assert _reset("nobody@example.com").status_code == 302
    for thread in threading.enumerate():
        if thread.name == RESET_MAIL_THREAD:
            thread.join(timeout=10)
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert "/accounts/password/reset/" in mail.outbox[0].body


DATABASE_CACHE = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "marquee_cache"}}


def test_with_the_database_cache_the_counts_are_rows_every_worker_sees(owner):
    """What production uses without REDIS_URL: the counts are in a table, not in one process."""
    from django.core.cache import caches
    from django.core.management import call_command
    from django.db import connection

    user, _ = owner
    with override_settings(CACHES=DATABASE_CACHE):
        call_command("createcachetable")  # as `make migrate` and the Procfile do
        caches["default"].clear()
        answers = [_reset(user.email, f"192.0.{n}.1").status_code for n in range(4)]
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM marquee_cache WHERE cache_key LIKE %s", ["%password_reset%"])
            rows = cursor.fetchone()[0]
    assert answers == [302, 302, 302, 429]
    assert rows >= 2  # the address's count and at least one network's


# --- HTML sign-up is throttled like the API's ----------------------------------------------------------


def _signup(username, address="192.0.2.50"):
    data = {"username": username, "email": f"{username}@example.com", "password1": STRONG, "password2": STRONG}
    return Client(REMOTE_ADDR=address).post(reverse("signup"), data)


def test_signup_page_is_throttled_per_network_and_shares_the_api_count():
    # Username probing (a taken name answers 200 with an error) counts as much as a sign-up.
    make_account("taken")
    APIClient(REMOTE_ADDR="192.0.2.51").post("/api/v1/auth/signup/", {}, format="json")
    answers = [_signup("taken" if n % 2 else f"new{n}") for n in range(9)]
    assert {a.status_code for a in answers} <= {200, 302}

    refused = _signup("new-eleventh", "192.0.2.52")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many sign-ups" in refused.content.decode()
    assert "already exists" not in refused.content.decode()
    assert not User.objects.filter(username="new-eleventh").exists()
    assert _signup("from-elsewhere", "198.51.100.20").status_code == 302


# --- Mail in production ------------------------------------------------------------------------------


def test_deploy_check_warns_about_a_backend_that_delivers_nothing():
    with override_settings(DEBUG=False, EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend"):
        assert [w.id for w in email_backend_delivers(None)] == ["accounts.W001"]
    with override_settings(DEBUG=False, EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend"):
        assert email_backend_delivers(None) == []
    with override_settings(DEBUG=True, EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend"):
        assert email_backend_delivers(None) == []


def test_deploy_check_warns_about_a_per_process_cache():
    locmem = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(DEBUG=False, CACHES=locmem):
        assert [w.id for w in throttle_cache_is_shared(None)] == ["accounts.W002"]
    with override_settings(DEBUG=False, CACHES=DATABASE_CACHE):
        assert throttle_cache_is_shared(None) == []


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "production-secret-for-the-settings-test-only-0123456789",
    "ALLOWED_HOSTS": "marquee.example",
    "HTTPS": "true",
}
SHOW = (
    "from django.conf import settings as s; "
    "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.CACHES['default']['BACKEND'], s.EMAIL_SEND_IN_BACKGROUND)"
)


def _manage(*args, **env_overrides):
    drop = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "HTTPS", "EMAIL_URL", "REDIS_URL", "EMAIL_BACKEND"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", **env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_email_url():
    result = _manage("check", **PRODUCTION)
    assert result.returncode != 0
    assert "EMAIL_URL is required when DEBUG is false" in result.stderr


def test_production_mails_through_smtp_and_shares_the_cache_through_the_database():
    result = _manage("shell", "-c", SHOW, EMAIL_URL="smtp://mail.example:587", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "django.core.mail.backends.smtp.EmailBackend mail.example 587 django.core.cache.backends.db.DatabaseCache True"
    )


def test_development_prints_mail_and_keeps_the_local_cache():
    result = _manage("shell", "-c", SHOW, DEBUG="true", HTTPS="false")
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip()
        .splitlines()[-1]
        .startswith(
            "django.core.mail.backends.console.EmailBackend localhost 25 "
            "django.core.cache.backends.locmem.LocMemCache False"
        )
    )
