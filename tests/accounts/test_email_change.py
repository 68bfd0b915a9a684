"""Changing the account's email address: a link to the new address, a notice to the old one,
and the change only when the signed-in owner opens the link (issue 15, requirement 7)."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import EmailChange, User
from accounts.selectors import email_change_token_hash
from privacy import registry
from tests.support.accounts import signed_in_client

LINK = re.compile(r"http://testserver(/account/email/confirm/[^/\s]+/)")


def _ask(client, email, capture):
    with capture(execute=True):
        response = client.post(reverse("account-settings"), {"email": email})
    return response


def _link(message) -> str:
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def _email(user) -> str:
    return User.objects.get(pk=user.pk).email


def test_asking_sends_a_link_to_the_new_address_and_a_notice_to_the_old(
    owner_client, owner, django_capture_on_commit_callbacks
):
    user, _ = owner
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner_client.post(reverse("account-settings"), {"email": "fresh@example.net"})
    # Nothing is sent before the commit; the change is only pending.
    assert response.status_code == 302 and mail.outbox == [] and len(callbacks) == 1
    assert _email(user) == "owner@example.com"
    callbacks[0]()
    to_new, to_old = mail.outbox
    assert to_new.to == ["fresh@example.net"] and "Confirm" in to_new.subject
    path = _link(to_new)
    assert to_old.to == ["owner@example.com"]
    assert "fresh@example.net" in to_old.body and "/account/devices/" in to_old.body
    assert not LINK.search(to_old.body)  # the old address cannot confirm for the new one
    change = EmailChange.objects.get(account=user)
    token = path.rstrip("/").rsplit("/", 1)[1]
    # Only a hash of the link's secret is stored.
    assert change.token_hash == email_change_token_hash(token) and token not in change.token_hash
    assert timedelta(hours=23) < change.expires_at - timezone.now() <= timedelta(hours=24)
    page = owner_client.get(reverse("account-settings")).content.decode()
    assert "data-pending-email" in page and "fresh@example.net" in page


def test_the_owner_opening_the_link_changes_the_address_once(owner_client, owner, django_capture_on_commit_callbacks):
    user, _ = owner
    _ask(owner_client, "fresh@example.net", django_capture_on_commit_callbacks)
    path = _link(mail.outbox[0])
    mail.outbox.clear()
    preview = owner_client.get(path)
    # Opening the page (a link preview, a mail scanner in the browser) changes nothing yet.
    assert preview.status_code == 200 and "data-email-change-confirm" in preview.content.decode()
    assert _email(user) == "owner@example.com"
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = owner_client.post(path)
    assert confirmed.status_code == 302 and confirmed["Location"] == reverse("account-settings")
    assert _email(user) == "fresh@example.net"
    (notice,) = mail.outbox
    assert notice.to == ["owner@example.com"] and "fresh@example.net" in notice.body
    # Single use.
    again = owner_client.post(path)
    assert again.status_code == 400 and "already been used" in again.content.decode()
    assert owner_client.get(path).status_code == 400


def test_an_expired_link_is_refused_and_changes_nothing(owner_client, owner, django_capture_on_commit_callbacks):
    user, _ = owner
    _ask(owner_client, "fresh@example.net", django_capture_on_commit_callbacks)
    path = _link(mail.outbox[0])
    EmailChange.objects.filter(account=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = owner_client.post(path)
    assert response.status_code == 400 and "expired" in response.content.decode()
    assert _email(user) == "owner@example.com"


def test_a_tampered_link_is_refused(owner_client, owner, django_capture_on_commit_callbacks):
    user, _ = owner
    _ask(owner_client, "fresh@example.net", django_capture_on_commit_callbacks)
    path = _link(mail.outbox[0])
    tampered = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    for method in (owner_client.get, owner_client.post):
        response = method(tampered)
        assert response.status_code == 400 and "not valid" in response.content.decode()
    assert _email(user) == "owner@example.com"
    assert EmailChange.objects.get(account=user).used_at is None


def test_another_accounts_link_is_a_404_and_changes_nothing(
    owner_client, owner, other_client, other, django_capture_on_commit_callbacks
):
    user, _ = owner
    _ask(owner_client, "fresh@example.net", django_capture_on_commit_callbacks)
    path = _link(mail.outbox[0])
    assert other_client.get(path).status_code == 404
    assert other_client.post(path).status_code == 404
    assert _email(user) == "owner@example.com" and _email(other[0]) == "other@example.com"
    # ...and the owner's link still works for the owner.
    assert owner_client.post(path).status_code == 302 and _email(user) == "fresh@example.net"


def test_anonymous_visitors_are_sent_to_sign_in(client, owner_client, owner, django_capture_on_commit_callbacks):
    user, _ = owner
    _ask(owner_client, "fresh@example.net", django_capture_on_commit_callbacks)
    path = _link(mail.outbox[0])
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    asked = client.post(reverse("account-settings"), {"email": "anon@example.net"})
    assert asked.status_code == 302 and reverse("login") in asked["Location"]
    assert _email(user) == "owner@example.com"
    assert list(EmailChange.objects.values_list("new_email", flat=True)) == ["fresh@example.net"]


def test_without_sudo_mode_the_password_is_asked_first(owner, django_capture_on_commit_callbacks):
    user, profile = owner
    client = signed_in_client(user, profile, sudo=False)
    response = _ask(client, "fresh@example.net", django_capture_on_commit_callbacks)
    assert response.status_code == 302 and response["Location"].startswith(reverse("sudo"))
    assert not EmailChange.objects.exists() and mail.outbox == []


def test_an_address_of_another_account_gets_the_same_answer_and_no_link(
    owner_client, owner, other, django_capture_on_commit_callbacks
):
    user, _ = owner
    free = _ask(owner_client, "fresh@example.net", django_capture_on_commit_callbacks)
    free_message = [m.message for m in free.wsgi_request._messages]
    mail.outbox.clear()
    taken = _ask(owner_client, "OTHER@example.com", django_capture_on_commit_callbacks)
    taken_message = [m.message for m in taken.wsgi_request._messages]
    # The requester learns nothing about whether the address is in use (sign-up does not tell
    # either); only the address's owner is told, and gets no link.
    assert (free.status_code, taken.status_code) == (302, 302)
    assert free_message[-1].replace("fresh@example.net", "X") == taken_message[-1].replace("OTHER@example.com", "X")
    to_new, to_old = mail.outbox
    assert to_new.to == ["OTHER@example.com"] and "already belongs to another" in to_new.body
    assert not LINK.search(to_new.body)
    assert to_old.to == ["owner@example.com"]
    assert _email(user) == "owner@example.com"


def test_an_address_taken_after_the_request_cannot_be_confirmed(
    owner_client, owner, other, django_capture_on_commit_callbacks
):
    user, _ = owner
    _ask(owner_client, "fresh@example.net", django_capture_on_commit_callbacks)
    path = _link(mail.outbox[0])
    User.objects.filter(pk=other[0].pk).update(email="Fresh@example.net")
    response = owner_client.post(path)
    assert response.status_code == 400 and "another account" in response.content.decode()
    assert _email(user) == "owner@example.com"


def test_bad_input_is_a_form_error(owner_client, owner, django_capture_on_commit_callbacks):
    _user, _ = owner
    same = _ask(owner_client, "Owner@example.com", django_capture_on_commit_callbacks)
    assert same.status_code == 200 and "already the address of this account" in same.content.decode()
    bad = _ask(owner_client, "not an email", django_capture_on_commit_callbacks)
    assert bad.status_code == 200 and "valid email" in bad.content.decode()
    assert not EmailChange.objects.exists() and mail.outbox == []


def test_a_new_request_replaces_the_pending_one(owner_client, owner, django_capture_on_commit_callbacks):
    user, _ = owner
    _ask(owner_client, "first@example.net", django_capture_on_commit_callbacks)
    first = _link(mail.outbox[0])
    _ask(owner_client, "second@example.net", django_capture_on_commit_callbacks)
    second = _link(mail.outbox[2])
    assert owner_client.post(first).status_code == 400
    assert owner_client.post(second).status_code == 302 and _email(user) == "second@example.net"


def test_cancelling_makes_the_link_useless(owner_client, owner, django_capture_on_commit_callbacks):
    user, _ = owner
    _ask(owner_client, "fresh@example.net", django_capture_on_commit_callbacks)
    path = _link(mail.outbox[0])
    assert owner_client.post(reverse("account-settings"), {"cancel_email_change": "1"}).status_code == 302
    assert owner_client.post(path).status_code == 400 and _email(user) == "owner@example.com"


def test_pending_changes_are_exported_without_the_secret_and_erased(
    owner_client, owner, django_capture_on_commit_callbacks
):
    user, _ = owner
    _ask(owner_client, "fresh@example.net", django_capture_on_commit_callbacks)
    exported = registry.export_account(user)["email_changes"]
    assert [row["new_email"] for row in exported] == ["fresh@example.net"]
    assert "token_hash" not in exported[0] and exported[0]["confirmed_at"] is None
    assert registry.section("email_changes").erase(user) == 1
    assert not EmailChange.objects.filter(account=user).exists()


@pytest.mark.parametrize("hours_ago, kept", [(1, 1), (-1, 0)])
def test_retention_purges_links_that_can_no_longer_be_used(owner, hours_ago, kept):
    from accounts.services import email_changes_purge

    user, _ = owner
    EmailChange.objects.create(
        account=user, new_email="x@example.net", token_hash="h", expires_at=timezone.now() + timedelta(hours=hours_ago)
    )
    email_changes_purge(timezone.now())
    assert EmailChange.objects.count() == kept


def test_in_background_mode_the_mails_leave_from_a_thread_after_commit(
    owner_client, owner, settings, django_capture_on_commit_callbacks
):
    import threading

    from accounts.services import EMAIL_CHANGE_MAIL_THREAD

    settings.EMAIL_SEND_IN_BACKGROUND = True
    _ask(owner_client, "fresh@example.net", django_capture_on_commit_callbacks)
    for thread in threading.enumerate():
        if thread.name == EMAIL_CHANGE_MAIL_THREAD:
            thread.join(timeout=10)
    assert sorted(m.to[0] for m in mail.outbox) == ["fresh@example.net", "owner@example.com"]


# --- the API ------------------------------------------------------------------------------------


def _api(user, password=None):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    headers = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    if password:
        headers["HTTP_X_MARQUEE_PASSWORD"] = password
    client.credentials(**headers)
    return client


def test_api_asks_with_the_password_and_confirms_for_the_owner_only(owner, other, django_capture_on_commit_callbacks):
    from rest_framework.test import APIClient

    from accounts.models import ProfileToken
    from tests.support.accounts import PASSWORD

    user, profile = owner
    assert _api(user).post("/api/v1/account/email/", {"email": "api@example.net"}).status_code == 403
    assert APIClient().post("/api/v1/account/email/", {"email": "api@example.net"}).status_code == 401
    assert not EmailChange.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        asked = _api(user, PASSWORD).post("/api/v1/account/email/", {"email": "api@example.net"})
    assert asked.status_code == 202 and asked.json()["expires_at"]
    token = _link(mail.outbox[0]).rstrip("/").rsplit("/", 1)[1]
    assert [m.to for m in mail.outbox] == [["api@example.net"], ["owner@example.com"]]
    bound = APIClient()
    bound.credentials(HTTP_AUTHORIZATION=f"Token {ProfileToken.objects.create(profile=profile).key}")
    assert bound.post("/api/v1/account/email/confirm/", {"token": token}).status_code == 403
    assert _api(other[0]).post("/api/v1/account/email/confirm/", {"token": token}).status_code == 404
    assert APIClient().post("/api/v1/account/email/confirm/", {"token": token}).status_code == 401
    assert _email(user) == "owner@example.com"
    confirmed = _api(user).post("/api/v1/account/email/confirm/", {"token": token})
    assert confirmed.status_code == 200 and confirmed.json() == {"email": "api@example.net"}
    assert _email(user) == "api@example.net"
    again = _api(user).post("/api/v1/account/email/confirm/", {"token": token})
    assert again.status_code == 400 and "already been used" in again.json()["errors"]["token"][0]


def test_a_kids_session_cannot_confirm(owner_client, owner, django_capture_on_commit_callbacks):
    from tests.support.factories import ProfileFactory

    user, _ = owner
    _ask(owner_client, "fresh@example.net", django_capture_on_commit_callbacks)
    path = _link(mail.outbox[0])
    kids = signed_in_client(user, ProfileFactory(account=user, name="Kid", is_kids=True, maturity_limit=1))
    assert kids.get(path).status_code == 403 and kids.post(path).status_code == 403
    assert _email(user) == "owner@example.com"


def test_a_password_change_after_the_request_voids_the_link(owner, django_capture_on_commit_callbacks):
    # Someone who had the password asked (with an API token) to move the address to theirs; the
    # owner, told by the notice, changes the password. The token still works for the API, but
    # the change it asked for does not survive the new password.
    from tests.support.accounts import PASSWORD

    user, _ = owner
    with django_capture_on_commit_callbacks(execute=True):
        asked = _api(user, PASSWORD).post("/api/v1/account/email/", {"email": "thief@example.net"})
    assert asked.status_code == 202
    token = _link(mail.outbox[0]).rstrip("/").rsplit("/", 1)[1]
    owner_now = User.objects.get(pk=user.pk)
    owner_now.set_password("a-brand-new-Secret-passw0rd")
    owner_now.save()
    confirmed = _api(user).post("/api/v1/account/email/confirm/", {"token": token})
    assert confirmed.status_code == 400
    assert "password was changed" in confirmed.json()["errors"]["token"][0]
    assert _email(user) == "owner@example.com"


def test_signing_out_of_all_devices_drops_a_pending_change(owner_client, owner, django_capture_on_commit_callbacks):
    from accounts import services

    user, _ = owner
    _ask(owner_client, "elsewhere@example.net", django_capture_on_commit_callbacks)
    path = _link(mail.outbox[0])
    services.devices_sign_out_everywhere(account=User.objects.get(pk=user.pk), keep_session_key=None)
    assert not EmailChange.objects.filter(account=user, used_at__isnull=True).exists()
    assert _email(user) == "owner@example.com"
    assert path  # the link now names nothing: a fresh browser signed in gets the "not valid" page
    fresh = signed_in_client(User.objects.get(pk=user.pk))
    assert fresh.post(path).status_code in (302, 400)
    assert _email(user) == "owner@example.com"
