"""Sessions and devices: what is signed in to the account, and signing it out (issue 15, req. 7)."""

import time

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.devices import SEEN_SESSION_KEY, user_agent_label
from accounts.models import Device, DeviceKind, ProfileToken
from privacy import erasure, registry
from tests.support.accounts import PASSWORD, signed_in_client

FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def _browser(user, *, address="203.0.113.77", agent=FIREFOX_LINUX) -> Client:
    """A browser that signs in through the login form (so in sudo mode)."""
    client = Client(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _signed_in(client) -> bool:
    return client.get(reverse("profile-picker")).status_code == 200


def test_signing_in_records_the_session_with_a_truncated_network_and_a_short_user_agent(owner):
    user, _ = owner
    client = _browser(user)
    device = Device.objects.get(account=user, kind=DeviceKind.SESSION)
    assert device.session_id == client.session.session_key
    assert device.network == "203.0.113.0/24" and device.user_agent == "Firefox on Linux"
    page = client.get(reverse("account-devices"))
    html = page.content.decode()
    assert page.status_code == 200 and "203.0.113.0/24" in html and "Firefox on Linux" in html
    assert "203.0.113.77" not in html and device.session_id not in html
    assert f'data-device="{device.pk}"' in html and "data-current-device" in html
    assert f'href="{reverse("account-devices")}"' in client.get(reverse("account-settings")).content.decode()


def test_the_page_lists_sessions_and_tokens_of_this_account_only(owner, other):
    user, profile = owner
    phone = _browser(user, address="198.51.100.9", agent=SAFARI_IPHONE)
    laptop = _browser(user)
    token = Token.objects.create(user=user)
    tv = ProfileToken.objects.create(profile=profile)
    _browser(other[0], address="192.0.2.1")
    Token.objects.create(user=other[0])
    page = laptop.get(reverse("account-devices")).content.decode()
    mine = Device.objects.filter(account=user)
    assert {d.kind for d in mine} == {"session", "token", "profile_token"} and mine.count() == 4
    for device in mine:
        assert f'data-device="{device.pk}"' in page
    for device in Device.objects.filter(account=other[0]):
        assert f'data-device="{device.pk}"' not in page
    assert "Safari on iOS" in page and "198.51.100.0/24" in page and "192.0.2.0/24" not in page
    assert page.count("data-current-device") == 1
    assert f"“{profile.name}”" in page  # the profile a TV token is bound to
    assert token.key not in page and tv.key not in page
    assert _signed_in(phone)


def test_signing_out_another_browser_ends_that_session(owner):
    user, _ = owner
    first, second = _browser(user), _browser(user, address="198.51.100.9")
    target = Device.objects.get(session_id=first.session.session_key)
    response = second.post(reverse("account-device-sign-out", args=[target.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("account-devices")
    assert not Session.objects.filter(session_key=target.session_id).exists()
    assert not Device.objects.filter(pk=target.pk).exists()
    assert not _signed_in(first) and _signed_in(second)


def test_signing_out_this_browser_signs_it_out(owner):
    user, _ = owner
    client = _browser(user)
    mine = Device.objects.get(session_id=client.session.session_key)
    response = client.post(reverse("account-device-sign-out", args=[mine.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert not _signed_in(client) and not Device.objects.filter(pk=mine.pk).exists()


def test_revoking_a_token_deletes_it_and_it_no_longer_authenticates(owner):
    user, profile = owner
    browser = _browser(user)
    token = Token.objects.create(user=user)
    tv = ProfileToken.objects.create(profile=profile)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/profiles/").status_code == 200
    for credential in (token, tv):
        device = Device.objects.get(**({"token": credential} if credential is token else {"profile_token": credential}))
        assert browser.post(reverse("account-device-sign-out", args=[device.pk])).status_code == 302
    assert not Token.objects.filter(pk=token.pk).exists() and not ProfileToken.objects.filter(pk=tv.pk).exists()
    assert api.get("/api/v1/profiles/").status_code == 401


def test_sign_out_of_all_devices_keeps_only_this_browser(owner, other):
    user, profile = owner
    here, elsewhere = _browser(user), _browser(user, address="198.51.100.9")
    Token.objects.create(user=user)
    ProfileToken.objects.create(profile=profile)
    # A session signed in before devices were recorded (no row) is signed out too.
    legacy = signed_in_client(user, profile)
    Device.objects.filter(session_id=legacy.session.session_key).delete()
    theirs = _browser(other[0])
    other_token = Token.objects.create(user=other[0])
    page = here.get(reverse("account-devices")).content.decode()
    assert "This browser stays signed in" in page and "revokes every API token" in page
    response = here.post(reverse("account-devices-sign-out-all"), follow=True)
    assert response.status_code == 200 and "This browser is still signed in" in response.content.decode()
    assert _signed_in(here) and not _signed_in(elsewhere) and not _signed_in(legacy)
    assert not Token.objects.filter(user=user).exists()
    assert not ProfileToken.objects.filter(profile__account=user).exists()
    assert list(Device.objects.filter(account=user).values_list("session_id", flat=True)) == [here.session.session_key]
    # Nothing of another account is touched.
    assert _signed_in(theirs) and Token.objects.filter(pk=other_token.pk).exists()


def test_another_accounts_device_is_a_404_and_stays_signed_in(owner, other):
    user, _ = owner
    mine = _browser(user)
    theirs = _browser(other[0])
    target = Device.objects.get(session_id=theirs.session.session_key)
    assert mine.post(reverse("account-device-sign-out", args=[target.pk])).status_code == 404
    assert mine.get(reverse("account-device-sign-out", args=[target.pk])).status_code == 404
    assert _signed_in(theirs) and Device.objects.filter(pk=target.pk).exists()


def test_anonymous_visitors_are_sent_to_sign_in_and_sign_nothing_out(client, owner):
    user, _ = owner
    browser = _browser(user)
    device = Device.objects.get(account=user)
    for response in (
        client.get(reverse("account-devices")),
        client.post(reverse("account-device-sign-out", args=[device.pk])),
        client.post(reverse("account-devices-sign-out-all")),
    ):
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert _signed_in(browser) and Device.objects.filter(pk=device.pk).exists()


def test_without_sudo_mode_the_password_is_asked_and_nothing_is_signed_out(owner):
    user, profile = owner
    other_browser = _browser(user)
    client = signed_in_client(user, profile, sudo=False)
    for response in (
        client.get(reverse("account-devices")),
        client.post(reverse("account-devices-sign-out-all")),
    ):
        assert response.status_code == 302 and response["Location"].startswith(reverse("sudo"))
    assert _signed_in(other_browser)


def test_last_seen_is_written_at_most_every_few_minutes(owner, django_assert_num_queries):
    user, _ = owner
    client = _browser(user)
    device = Device.objects.get(account=user)
    first_seen = device.last_seen_at
    client.get(reverse("profile-picker"))
    assert Device.objects.get(pk=device.pk).last_seen_at == first_seen  # throttled
    # Five minutes later (the session's own note of the last write moved back):
    session = client.session
    key, _at = session[SEEN_SESSION_KEY]
    session[SEEN_SESSION_KEY] = [key, time.time() - 301]
    session.save()
    client.get(reverse("profile-picker"), REMOTE_ADDR="198.51.100.20")
    device.refresh_from_db()
    assert device.last_seen_at > first_seen and device.network == "198.51.100.0/24"


def test_a_password_change_moves_the_session_to_its_new_key_and_ends_the_others(owner):
    user, _ = owner
    elsewhere = _browser(user, address="198.51.100.9")
    elsewhere_key = elsewhere.session.session_key
    token = Token.objects.create(user=user)
    client = _browser(user)
    old_key = client.session.session_key
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )
    assert response.status_code == 302
    new_key = client.session.session_key
    assert new_key != old_key
    sessions = Device.objects.filter(account=user, kind=DeviceKind.SESSION)
    assert list(sessions.values_list("session_id", flat=True)) == [new_key]
    assert not Session.objects.filter(session_key=elsewhere_key).exists() and not _signed_in(elsewhere)
    assert Token.objects.filter(pk=token.pk).exists()  # tokens: "Sign out of all devices" revokes them


def test_token_use_is_recorded_and_throttled(owner, django_assert_max_num_queries):
    user, _ = owner
    api = APIClient(REMOTE_ADDR="2001:db8:abcd:12::1", HTTP_USER_AGENT="python-requests/2.32")
    answer = api.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json")
    device = Device.objects.get(token__key=answer.json()["token"])
    assert device.network == "2001:db8:abcd::/48" and device.user_agent == "Python"
    api.credentials(HTTP_AUTHORIZATION=f"Token {answer.json()['token']}")
    seen = device.last_seen_at
    assert api.get("/api/v1/profiles/").status_code == 200
    assert Device.objects.get(pk=device.pk).last_seen_at == seen  # within the interval: no write


def test_devices_are_exported_without_keys_and_erased_with_the_account(owner, django_capture_on_commit_callbacks):
    user, profile = owner
    client = _browser(user)
    token = Token.objects.create(user=user)
    tv = ProfileToken.objects.create(profile=profile)
    exported = registry.export_account(user)["devices"]
    assert sorted(row["kind"] for row in exported) == ["profile_token", "session", "token"]
    flat = repr(exported)
    assert token.key not in flat and tv.key not in flat and client.session.session_key not in flat
    assert {"network": "203.0.113.0/24", "user_agent": "Firefox on Linux"}.items() <= next(
        r for r in exported if r["kind"] == "session"
    ).items()
    with django_capture_on_commit_callbacks(execute=True):
        erasure.account_delete_request(account=user, password=PASSWORD, via="test")
    assert not Device.objects.filter(account_id=user.pk).exists()
    assert not Session.objects.filter(session_key=client.session.session_key).exists()


# --- the API ------------------------------------------------------------------------------------


def _token_client(user, password=PASSWORD) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_X_MARQUEE_PASSWORD=password)
    return client


def test_api_lists_and_signs_out_the_owners_devices(owner, other):
    user, _profile = owner
    browser = _browser(user)
    api = _token_client(user)
    listed = api.get("/api/v1/account/devices/")
    assert listed.status_code == 200
    rows = listed.json()["results"]
    assert {r["kind"] for r in rows} == {"session", "token"}
    assert [r["current"] for r in rows if r["kind"] == "token"] == [True]
    assert all(
        set(r) == {"id", "kind", "created_at", "last_used_at", "network", "user_agent", "profile", "current"}
        for r in rows
    )
    session_row = next(r for r in rows if r["kind"] == "session")
    other_browser = _browser(other[0])
    other_device = Device.objects.get(session_id=other_browser.session.session_key)
    assert api.delete(f"/api/v1/account/devices/{other_device.pk}/").status_code == 404
    assert _signed_in(other_browser)
    assert api.delete(f"/api/v1/account/devices/{session_row['id']}/").status_code == 204
    assert not _signed_in(browser)


def test_api_needs_the_password_and_refuses_a_profile_token(owner, client):
    user, profile = owner
    assert _token_client(user, password="wrong").get("/api/v1/account/devices/").status_code == 403
    bound = APIClient()
    bound.credentials(HTTP_AUTHORIZATION=f"Token {ProfileToken.objects.create(profile=profile).key}")
    assert bound.get("/api/v1/account/devices/").status_code == 403
    assert bound.post("/api/v1/account/devices/sign-out-all/").status_code == 403
    assert APIClient().get("/api/v1/account/devices/").status_code == 401
    assert Token.objects.filter(user=user).exists()


def test_api_sign_out_all_revokes_every_token_including_the_callers(owner):
    user, _ = owner
    browser = _browser(user)
    api = _token_client(user)
    answer = api.post("/api/v1/account/devices/sign-out-all/")
    assert answer.status_code == 200 and answer.json()["signed_out"] >= 2
    assert not _signed_in(browser) and not Token.objects.filter(user=user).exists()
    assert api.get("/api/v1/profiles/").status_code == 401


@pytest.mark.parametrize(
    "agent, label",
    [
        (FIREFOX_LINUX, "Firefox on Linux"),
        (SAFARI_IPHONE, "Safari on iOS"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36",
            "Chrome on macOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        ("curl/8.5.0", "curl"),
        ("", ""),
        ("something-else/1.0", ""),
    ],
)
def test_user_agents_are_cut_down_to_browser_and_system(agent, label):
    assert user_agent_label(agent) == label


def test_an_expired_session_is_not_listed_and_its_row_is_purged(owner):
    from django.utils import timezone

    from accounts.services import devices_purge

    user, _ = owner
    here, gone = _browser(user), _browser(user, address="198.51.100.9")
    expired = Device.objects.get(session_id=gone.session.session_key)
    Session.objects.filter(session_key=expired.session_id).update(expire_date=timezone.now())
    page = here.get(reverse("account-devices")).content.decode()
    assert f'data-device="{expired.pk}"' not in page and "data-current-device" in page
    assert devices_purge(timezone.now()) == 1
    assert list(Device.objects.filter(account=user).values_list("session_id", flat=True)) == [here.session.session_key]
