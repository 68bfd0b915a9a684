"""The "your data is ready" email (issue 15 req 7): after commit, once per export, to the account's
address, with the link to the export's page (which still asks for sign-in) and the expiry, and
nothing personal beyond those; a failed export gets a "could not be prepared" email instead."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from catalog import services as catalog_services
from ops import background
from privacy import exports, registry, tasks
from privacy.models import ExportRequest, ExportStatus
from tests.support.accounts import make_account, signed_in_client
from tests.support.factories import RatingFactory, TitleFactory

SITE = "https://marquee.example"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


def _request_export(client, capture) -> ExportRequest:
    with capture(execute=True):
        resp = client.post(reverse("privacy-export-create"))
    assert resp.status_code == 302
    return ExportRequest.objects.get()


@pytest.mark.django_db
def test_ready_export_emails_the_owner_the_link_and_expiry_and_nothing_else(
    owner, owner_client, django_capture_on_commit_callbacks
):
    user, profile = owner
    title = TitleFactory(name="Very Private Film")
    RatingFactory(profile=profile, title=title, value="love")
    catalog_services.search_record(profile=profile, query="embarrassing search", result_count=1)

    export = _request_export(owner_client, django_capture_on_commit_callbacks)

    assert export.status == ExportStatus.READY and export.notified_at is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert message.subject == "Your Marquee data is ready"
    link = f"{SITE}/privacy/exports/{export.pk}/"
    assert link in message.body
    assert f"{export.expires_at:%Y-%m-%d %H:%M} UTC" in message.body
    # No personal data beyond the link and the expiry: not the username, the profile, what was exported.
    for secret in (user.username, profile.name, "Very Private Film", "embarrassing search", user.email):
        assert secret not in message.body and secret not in message.subject


@pytest.mark.django_db
def test_email_goes_after_commit_and_only_once(owner, django_capture_on_commit_callbacks):
    user, _ = owner
    with django_capture_on_commit_callbacks() as callbacks:
        export = ExportRequest.objects.create(account=user)
        exports.export_build(export_id=str(export.pk))
        # Ready in the database, but the transaction has not committed: no email yet.
        assert ExportRequest.objects.get(pk=export.pk).status == ExportStatus.READY
        assert mail.outbox == []
    assert callbacks  # the outbox's dispatch of export_notify waits for the commit
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1

    # The task delivered again, the build run again, the service called directly: still one email.
    assert tasks.export_notify.apply(args=[str(export.pk)]).get() is False
    assert exports.export_build(export_id=str(export.pk)) is None
    assert exports.export_notify(export_id=str(export.pk)) is False
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_failed_export_sends_could_not_be_prepared_without_a_download_link(
    owner, owner_client, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(account, *, on_section=None):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(registry, "export_account", broken)
    export = _request_export(owner_client, django_capture_on_commit_callbacks)
    assert export.status == ExportStatus.FAILED
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert mail.outbox[0].subject == "Your Marquee data export could not be prepared"
    assert f"{SITE}{reverse('privacy-data')}" in body
    assert str(export.pk) not in body and "disk on fire" not in body and "RuntimeError" not in body
    assert exports.export_notify(export_id=str(export.pk)) is False
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_stale_export_failed_by_the_sweeper_tells_the_owner(owner, django_capture_on_commit_callbacks):
    user, _ = owner
    export = ExportRequest.objects.create(
        account=user, status=ExportStatus.RUNNING, started_at=timezone.now() - timedelta(hours=2)
    )
    with django_capture_on_commit_callbacks(execute=True):
        exports.exports_expire()
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED and export.notified_at is not None
    assert [m.subject for m in mail.outbox] == ["Your Marquee data export could not be prepared"]


@pytest.mark.django_db
def test_account_without_email_gets_nothing_and_the_export_is_still_ready(
    owner, owner_client, django_capture_on_commit_callbacks
):
    user, _ = owner
    user.email = ""
    user.save(update_fields=["email"])
    export = _request_export(owner_client, django_capture_on_commit_callbacks)
    assert export.status == ExportStatus.READY and export.notified_at is None
    assert mail.outbox == []


@pytest.mark.django_db
def test_nothing_is_sent_for_an_unfinished_or_expired_export(owner):
    user, _ = owner
    pending = ExportRequest.objects.create(account=user)
    expired = ExportRequest.objects.create(
        account=user, status=ExportStatus.READY, expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert exports.export_notify(export_id=str(pending.pk)) is False
    assert exports.export_notify(export_id=str(expired.pk)) is False
    assert exports.export_notify(export_id="00000000-0000-0000-0000-000000000000") is False
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_failed_send_releases_the_claim_so_the_retry_sends(owner, monkeypatch):
    user, _ = owner
    export = ExportRequest.objects.create(
        account=user, status=ExportStatus.READY, expires_at=timezone.now() + timedelta(days=7)
    )

    def refused(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("mail server went away")

    monkeypatch.setattr(exports, "send_mail", refused)
    with pytest.raises(smtplib.SMTPException):
        exports.export_notify(export_id=str(export.pk))
    export.refresh_from_db()
    assert export.notified_at is None
    monkeypatch.undo()
    assert exports.export_notify(export_id=str(export.pk)) is True
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_emailed_link_asks_for_sign_in_and_answers_the_owner_only(
    owner, owner_client, other_client, client, django_capture_on_commit_callbacks
):
    export = _request_export(owner_client, django_capture_on_commit_callbacks)
    path = reverse("privacy-export-status", args=[export.pk])
    assert f"{SITE}{path}" in mail.outbox[0].body

    anonymous = client.get(path)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    assert other_client.get(path).status_code == 404  # another account's export does not exist for it

    page = owner_client.get(path)
    html = page.content.decode()
    assert page.status_code == 200 and "data-export-page" in html and "<html" in html
    assert reverse("privacy-export-download", args=[export.pk]) in html
    # The same URL polled by htmx answers only the status fragment.
    fragment = owner_client.get(path, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and f'data-export-id="{export.pk}"' in fragment


@pytest.mark.django_db
def test_the_request_confirmation_says_an_email_will_follow(owner, owner_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        resp = owner_client.post(reverse("privacy-export-create"), follow=True)
    assert "we will email you when it is ready" in resp.content.decode()


@pytest.mark.django_db(transaction=True)
def test_on_the_embedded_stack_the_email_leaves_from_the_background_thread(settings):
    # OUTBOX_EAGER_THREADS (the embedded default): the export and its email run in a thread of the
    # web process after the request answered; the email still goes once.
    settings.OUTBOX_EAGER_THREADS = True
    user, profile = make_account("threaded")
    response = signed_in_client(user, profile).post(reverse("privacy-export-create"))
    assert response.status_code == 302
    assert background.wait_idle(timeout=60)
    export = ExportRequest.objects.get(account=user)
    assert export.status == ExportStatus.READY and export.notified_at is not None
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert f"{SITE}/privacy/exports/{export.pk}/" in mail.outbox[0].body


@pytest.mark.django_db
def test_an_export_staff_started_tells_the_owner_so(owner, django_capture_on_commit_callbacks):
    # privacy.staff starts exports through the same service, audited with via="staff".
    user, _ = owner
    with django_capture_on_commit_callbacks(execute=True):
        export = exports.export_request_create(account=user, via="staff")
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "Marquee staff prepared a copy" in body and "that you asked for" not in body
    assert f"{SITE}/privacy/exports/{export.pk}/" in body


@pytest.mark.django_db
def test_the_emailed_link_reaches_the_export_after_signing_in(client):
    from privacy.models import ExportRequest, ExportStatus
    from tests.support.accounts import PASSWORD, make_account

    user, _profile = make_account("linked")
    export = ExportRequest.objects.create(account=user, status=ExportStatus.READY)
    link = reverse("privacy-export-status", args=[export.pk])
    login = client.get(link)
    assert login.status_code == 302 and reverse("login") in login["Location"]
    response = client.post(login["Location"], {"username": "linked", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == link
    assert response.status_code == 200 and str(export.pk) in response.content.decode()
