"""Staff erasure and export of a user from the admin, and what "delete" means for users and profiles.

Personas: `staff` (a superuser), a privacy officer (staff with only privacy.erase_account and
privacy.export_account), plain staff (no such permission: 403), a subscriber (not staff: the
admin's login redirect), anonymous (login redirect), and an id that does not exist (404).
"""

import io
import zipfile

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse

from accounts import services as account_services
from accounts.models import Profile, User
from catalog.models import Rating
from privacy import exports
from privacy import staff as staff_privacy
from privacy.models import AuditAction, AuditEvent, DeletionRecord, DeletionStatus, ExportRequest, ExportStatus
from tests.support.accounts import signed_in_client
from tests.support.factories import RatingFactory, UserFactory, ViewingFactory


def _perm(codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label="privacy", codename=codename)


@pytest.fixture
def officer(db):
    """Staff with exactly the two staff-privacy permissions (and seeing users), not a superuser."""
    user = UserFactory(username="officer", is_staff=True)
    user.user_permissions.add(
        _perm("erase_account"),
        _perm("export_account"),
        Permission.objects.get(content_type__app_label="accounts", codename="view_user"),
    )
    return User.objects.get(pk=user.pk)  # a fresh instance: no stale permission cache


@pytest.fixture
def plain_staff(db):
    user = UserFactory(username="plainstaff", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="accounts", codename="view_user"),
        Permission.objects.get(content_type__app_label="accounts", codename="change_user"),
    )
    return user


def erase_url(user_id):
    return reverse("admin:accounts_user_erase", args=[user_id])


def export_url(user_id):
    return reverse("admin:accounts_user_export", args=[user_id])


def download_url(user_id, export_id):
    return reverse("admin:accounts_user_export_download", args=[user_id, export_id])


def _login_redirect(response):
    return response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


# --- the buttons -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_change_page_offers_export_and_erase_to_those_allowed(owner, staff_client, plain_staff):
    user, _ = owner
    page = staff_client.get(reverse("admin:accounts_user_change", args=[user.pk])).content.decode()
    assert f'href="{export_url(user.pk)}"' in page and "Export this user's data" in page
    assert f'href="{erase_url(user.pk)}"' in page and "Erase this user" in page
    assert 'id="delete-means"' in page and "same erasure" in page
    # The inline cannot delete a profile behind profile_delete's back.
    assert "profiles-0-DELETE" not in page

    page = signed_in_client(plain_staff).get(reverse("admin:accounts_user_change", args=[user.pk])).content.decode()
    assert "data-staff-export" not in page and "data-staff-erase" not in page
    # Without the erase permission there is no Delete either (delete is erase).
    assert reverse("admin:accounts_user_delete", args=[user.pk]) not in page


# --- permissions ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", [erase_url, export_url])
def test_staff_pages_permissions(url, owner, staff_client, officer, plain_staff, client):
    user, profile = owner
    assert staff_client.get(url(user.pk)).status_code == 200
    assert signed_in_client(officer).get(url(user.pk)).status_code == 200
    assert signed_in_client(plain_staff).get(url(user.pk)).status_code == 403
    assert signed_in_client(plain_staff).post(url(user.pk), {"reason": "x"}).status_code == 403
    # A subscriber and an anonymous visitor are sent to the admin's login.
    assert _login_redirect(signed_in_client(user, profile).get(url(user.pk)))
    assert _login_redirect(client.get(url(user.pk)))
    assert _login_redirect(client.post(url(user.pk), {"reason": "x"}))
    # An id that does not exist.
    assert staff_client.get(url(999999)).status_code == 404
    assert staff_client.get(url("not-a-number")).status_code == 404
    # None of it changed anything.
    assert User.objects.get(pk=user.pk).is_active
    assert not DeletionRecord.objects.exists() and not ExportRequest.objects.exists()


# --- erase ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_erase_needs_a_reason_and_changes_nothing_without_one(owner, staff_client):
    user, profile = owner
    RatingFactory(profile=profile)
    resp = staff_client.post(erase_url(user.pk), {"reason": "   "})
    assert resp.status_code == 400
    assert "Give a reason" in resp.content.decode()
    assert staff_client.post(erase_url(user.pk), {"reason": "x" * 501}).status_code == 400
    assert staff_client.post(erase_url(user.pk), {}).status_code == 400
    assert User.objects.get(pk=user.pk).is_active
    assert not DeletionRecord.objects.exists() and Rating.objects.filter(profile=profile).count() == 1
    assert not AuditEvent.objects.filter(action=AuditAction.STAFF_ERASURE).exists()


@pytest.mark.django_db
def test_staff_erasure_runs_the_account_erasure_and_is_audited(
    owner, other, officer, django_capture_on_commit_callbacks
):
    user, profile = owner
    other_user, other_profile = other
    RatingFactory(profile=profile)
    ViewingFactory(profile=profile)
    RatingFactory(profile=other_profile)
    uid, email, username = user.pk, user.email, user.username
    subscriber = signed_in_client(user, profile)

    with django_capture_on_commit_callbacks(execute=True):
        resp = signed_in_client(officer).post(erase_url(uid), {"reason": "Support ticket 4711: erasure request"})
    assert resp.status_code == 302 and resp["Location"] == reverse("admin:accounts_user_changelist")

    # The account's own erasure ran: everything gone, the other account untouched.
    assert not User.objects.filter(pk=uid).exists()
    assert not Profile.objects.filter(pk=profile.pk).exists() and not Rating.objects.filter(profile_id=profile.pk)
    assert Rating.objects.filter(profile=other_profile).count() == 1 and User.objects.filter(pk=other_user.pk).exists()
    assert subscriber.get(reverse("privacy-settings")).status_code == 302  # signed out everywhere

    record = DeletionRecord.objects.get()
    assert record.status == DeletionStatus.DONE and record.method == "staff" and record.account_id is None
    assert record.erased_counts["ratings"] == 1
    # The receipt says staff did it.
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [email]
    assert "Marquee staff deleted your account" in mail.outbox[0].body
    assert str(record.reference) in mail.outbox[0].body

    # Audit: who, why, when; pseudonymized like the rest of the person's trail.
    event = AuditEvent.objects.get(action=AuditAction.STAFF_ERASURE)
    assert event.staff_id == officer.pk and event.reason == "Support ticket 4711: erasure request"
    assert event.via == "staff" and event.object_id == str(record.reference) and event.created_at
    assert event.account_id is None and event.subject == record.reference
    assert AuditEvent.objects.filter(subject=record.reference, action=AuditAction.DELETION_REQUESTED, via="staff")
    assert not AuditEvent.objects.filter(account_id=uid).exists()
    assert username not in str(list(DeletionRecord.objects.values()))


@pytest.mark.django_db
def test_staff_erasure_twice_queues_one_erasure(owner, staff, django_capture_on_commit_callbacks):
    user, profile = owner
    RatingFactory(profile=profile)
    # The task does not run (no on_commit): the request is recorded, the account locked out.
    first = staff_privacy.account_erase_by_staff(staff=staff, account=user, reason="court order")
    assert not User.objects.get(pk=user.pk).is_active
    second = staff_privacy.account_erase_by_staff(staff=staff, account=User.objects.get(pk=user.pk), reason="again")
    assert first.pk == second.pk and DeletionRecord.objects.count() == 1
    page = signed_in_client(staff).get(erase_url(user.pk)).content.decode()
    assert "data-erasure-pending" in page and str(first.reference) in page
    events = AuditEvent.objects.filter(action=AuditAction.STAFF_ERASURE).order_by("id")
    assert [e.detail["already_requested"] for e in events] == [False, True]
    # The idempotent task, twice.
    from privacy import erasure

    assert erasure.account_erase(record_id=first.pk).status == DeletionStatus.DONE
    assert erasure.account_erase(record_id=first.pk).status == DeletionStatus.DONE
    assert len(mail.outbox) == 1 and not User.objects.filter(pk=user.pk).exists()


@pytest.mark.django_db
def test_staff_cannot_erase_themselves_or_a_superuser_unless_superuser(
    officer, staff, django_capture_on_commit_callbacks
):
    officer_client = signed_in_client(officer)
    # Oneself: refused, nothing changes.
    page = officer_client.get(erase_url(officer.pk)).content.decode()
    assert "data-refusal" in page and "your own account" in page and 'value="Erase this account"' not in page
    assert officer_client.post(erase_url(officer.pk), {"reason": "bye"}).status_code == 403
    assert User.objects.get(pk=officer.pk).is_active
    # A superuser, by a staff member who is not one: refused.
    assert officer_client.post(erase_url(staff.pk), {"reason": "coup"}).status_code == 403
    assert User.objects.get(pk=staff.pk).is_active and not DeletionRecord.objects.exists()
    with pytest.raises(staff_privacy.StaffRefused):
        staff_privacy.account_erase_by_staff(staff=officer, account=staff, reason="coup")
    # ...but a superuser may erase another superuser.
    other_admin = UserFactory(username="admin2", is_staff=True, is_superuser=True)
    with django_capture_on_commit_callbacks(execute=True):
        resp = signed_in_client(staff).post(erase_url(other_admin.pk), {"reason": "left the company"})
    assert resp.status_code == 302 and not User.objects.filter(pk=other_admin.pk).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.STAFF_ERASURE, staff=officer).exists()


# --- delete = erase for users ------------------------------------------------------------------


@pytest.mark.django_db
def test_user_delete_leads_to_the_erasure_and_never_row_deletes(owner, staff_client, plain_staff):
    user, profile = owner
    RatingFactory(profile=profile)
    exports.export_request_create(account=user, via="web")  # the kind of row that used to block it
    delete = reverse("admin:accounts_user_delete", args=[user.pk])
    for method in (staff_client.get, staff_client.post):
        resp = method(delete, {"post": "yes"}) if method == staff_client.post else method(delete)
        assert resp.status_code == 302 and resp["Location"] == erase_url(user.pk)
    assert User.objects.filter(pk=user.pk, is_active=True).exists() and Rating.objects.filter(profile=profile).exists()
    assert signed_in_client(plain_staff).get(delete).status_code == 403

    changelist = reverse("admin:accounts_user_changelist")
    page = staff_client.get(changelist).content.decode()
    assert 'value="erase_selected"' in page and 'value="delete_selected"' not in page
    # The bulk delete is no longer an action: posting it anyway deletes nothing.
    staff_client.post(changelist, {"action": "delete_selected", "_selected_action": [user.pk], "post": "yes"})
    assert User.objects.filter(pk=user.pk).exists()


@pytest.mark.django_db
def test_bulk_erase_needs_a_reason_erases_the_rest_and_refuses_oneself(
    owner, other, staff, staff_client, django_capture_on_commit_callbacks
):
    user, _profile = owner
    other_user, _ = other
    changelist = reverse("admin:accounts_user_changelist")
    selected = [user.pk, other_user.pk, staff.pk]
    # The action's confirmation page lists who would be refused.
    page = staff_client.post(changelist, {"action": "erase_selected", "_selected_action": selected})
    assert page.status_code == 200 and "will not be erased" in page.content.decode()
    # No reason: nothing.
    resp = staff_client.post(changelist, {"action": "erase_selected", "_selected_action": selected, "post": "yes"})
    assert resp.status_code == 400 and User.objects.filter(is_active=True).count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        resp = staff_client.post(
            changelist,
            {"action": "erase_selected", "_selected_action": selected, "post": "yes", "reason": "spam wave"},
            follow=True,
        )
    assert resp.status_code == 200
    assert not User.objects.filter(pk__in=[user.pk, other_user.pk]).exists()
    assert User.objects.filter(pk=staff.pk, is_active=True).exists()
    messages = [str(m) for m in resp.context["messages"]]
    assert any("Not erased: staff" in m for m in messages) and any("Erasing 2 users" in m for m in messages)
    assert DeletionRecord.objects.filter(method="staff", status=DeletionStatus.DONE).count() == 2
    assert AuditEvent.objects.filter(action=AuditAction.STAFF_ERASURE, reason="spam wave", staff=staff).count() == 2


# --- export --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_export_builds_shows_state_and_downloads_audited(owner, officer, django_capture_on_commit_callbacks):
    user, profile = owner
    RatingFactory(profile=profile)
    officer_client = signed_in_client(officer)
    page = officer_client.get(export_url(user.pk)).content.decode()
    assert "No exports yet." in page

    with django_capture_on_commit_callbacks(execute=True):
        resp = officer_client.post(export_url(user.pk), {"reason": "subject access request by post"})
    assert resp.status_code == 302 and resp["Location"] == export_url(user.pk)
    export = ExportRequest.objects.get(account=user)
    assert export.status == ExportStatus.READY
    event = AuditEvent.objects.get(action=AuditAction.STAFF_EXPORT)
    assert event.staff_id == officer.pk and event.account_id == user.pk and event.object_id == str(export.pk)
    assert event.reason == "subject access request by post" and event.detail == {"started": True}
    # The export the person's own request makes: requested via staff in the owner's trail.
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT_REQUESTED, account=user, via="staff").exists()

    page = officer_client.get(export_url(user.pk)).content.decode()
    assert f'data-export-id="{export.pk}" data-export-status="ready"' in page
    assert download_url(user.pk, export.pk) in page and 'http-equiv="refresh"' not in page

    resp = officer_client.get(download_url(user.pk, export.pk))
    assert resp.status_code == 200 and resp["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(b"".join(resp.streaming_content))) as zf:
        assert "export.json" in zf.namelist()
    assert ExportRequest.objects.get(pk=export.pk).download_count == 1
    downloaded = AuditEvent.objects.get(action=AuditAction.STAFF_EXPORT_DOWNLOADED)
    assert downloaded.staff_id == officer.pk and downloaded.object_id == str(export.pk)
    officer_client.get(download_url(user.pk, export.pk))
    assert AuditEvent.objects.filter(action=AuditAction.STAFF_EXPORT_DOWNLOADED).count() == 2

    # Within the per-account interval a second press shows the recent export instead.
    resp = officer_client.post(export_url(user.pk), {}, follow=True)
    assert ExportRequest.objects.filter(account=user).count() == 1
    assert any("already has a recent export" in str(m) for m in resp.context["messages"])
    assert AuditEvent.objects.filter(action=AuditAction.STAFF_EXPORT, detail={"started": False}).count() == 1


@pytest.mark.django_db
def test_export_page_shows_pending_and_failed(owner, staff_client):
    user, _ = owner
    pending = ExportRequest.objects.create(account=user)  # no worker took it yet
    failed = ExportRequest.objects.create(account=user, status=ExportStatus.FAILED, error="OSError")
    page = staff_client.get(export_url(user.pk)).content.decode()
    assert f'data-export-id="{pending.pk}" data-export-status="pending"' in page
    assert f'data-export-id="{failed.pk}" data-export-status="failed"' in page and "OSError" in page
    assert 'http-equiv="refresh"' in page  # refreshes while one is being prepared
    # Neither can be downloaded.
    assert staff_client.get(download_url(user.pk, pending.pk)).status_code == 404
    assert staff_client.get(download_url(user.pk, failed.pk)).status_code == 404


@pytest.mark.django_db
def test_export_download_is_404_for_others(owner, other, staff_client, plain_staff, client):
    user, profile = owner
    other_user, _ = other
    export = ExportRequest.objects.create(account=user)
    exports.export_build(export_id=str(export.pk))
    url = download_url(user.pk, export.pk)
    assert signed_in_client(plain_staff).get(url).status_code == 404
    assert _login_redirect(client.get(url))
    assert _login_redirect(signed_in_client(user, profile).get(url))
    # Another user's id in the path: not this export.
    assert staff_client.get(download_url(other_user.pk, export.pk)).status_code == 404
    assert staff_client.get(download_url(999999, export.pk)).status_code == 404
    assert ExportRequest.objects.get(pk=export.pk).download_count == 0
    assert not AuditEvent.objects.filter(action=AuditAction.STAFF_EXPORT_DOWNLOADED).exists()
    assert staff_client.get(url).status_code == 200


# --- profiles: delete through profile_delete ----------------------------------------------------


@pytest.mark.django_db
def test_profile_delete_page_explains_and_deletes_with_engagement(owner, staff_client):
    user, first = owner
    second = account_services.profile_create(account=user, name="Second")
    RatingFactory(profile=second)
    exports.export_request_create(account=user, via="web")
    url = reverse("admin:accounts_profile_delete", args=[second.pk])
    page = staff_client.get(url).content.decode()
    # No "Cannot delete": the profile's engagement goes with it, and the page says so.
    assert 'id="delete-means"' in page and "everything it did" in page
    assert "Cannot delete" not in page and "doesn't have permission" not in page and 'name="post"' in page
    resp = staff_client.post(url, {"post": "yes"})
    assert resp.status_code == 302
    assert not Profile.objects.filter(pk=second.pk).exists() and not Rating.objects.filter(profile_id=second.pk)
    assert Profile.objects.filter(pk=first.pk).exists() and User.objects.filter(pk=user.pk).exists()
    entry = LogEntry.objects.get(object_id=str(second.pk), action_flag=DELETION)
    assert "Second" not in entry.object_repr and str(second.pk) in entry.object_repr  # no name kept
    change = staff_client.get(reverse("admin:accounts_profile_change", args=[first.pk])).content.decode()
    assert 'id="delete-means"' in change


@pytest.mark.django_db
def test_last_profile_cannot_be_deleted_from_the_admin(owner, staff_client):
    user, only = owner
    url = reverse("admin:accounts_profile_delete", args=[only.pk])
    page = staff_client.get(url).content.decode()
    assert "data-last-profile" in page and erase_url(user.pk) in page and 'name="post"' not in page
    resp = staff_client.post(url, {"post": "yes"}, follow=True)
    assert resp.status_code == 200
    assert any("at least one profile" in str(m) for m in resp.context["messages"])
    assert Profile.objects.filter(pk=only.pk).exists()
    assert not LogEntry.objects.filter(object_id=str(only.pk), action_flag=DELETION).exists()
    assert staff_client.get(reverse("admin:accounts_profile_delete", args=[999999])).status_code == 302  # admin's own


@pytest.mark.django_db
def test_bulk_profile_delete_goes_through_the_service(owner, other, staff_client, plain_staff):
    user, first = owner
    second = account_services.profile_create(account=user, name="Second")
    _other_user, lonely = other
    RatingFactory(profile=first)
    RatingFactory(profile=second)
    changelist = reverse("admin:accounts_profile_changelist")
    selected = [first.pk, second.pk, lonely.pk]
    page = staff_client.post(changelist, {"action": "delete_selected", "_selected_action": selected})
    html = page.content.decode()
    assert page.status_code == 200 and 'id="delete-means"' in html and "doesn't have permission" not in html
    resp = staff_client.post(
        changelist, {"action": "delete_selected", "_selected_action": selected, "post": "yes"}, follow=True
    )
    messages = [str(m) for m in resp.context["messages"]]
    # The account keeps its oldest profile; the other account's only profile stays.
    assert list(Profile.objects.filter(account=user).values_list("pk", flat=True)) == [first.pk]
    assert Profile.objects.filter(pk=lonely.pk).exists()
    assert not Rating.objects.filter(profile_id=second.pk).exists() and Rating.objects.filter(profile=first).exists()
    assert any("Deleted 1 profile" in m for m in messages)
    assert sum("Not deleted" in m for m in messages) == 2
    # Staff without "delete profile" get no such action.
    third = account_services.profile_create(account=user, name="Third")
    plain_staff.user_permissions.add(Permission.objects.get(codename="view_profile"))
    plain = signed_in_client(plain_staff)
    assert 'value="delete_selected"' not in plain.get(changelist).content.decode()
    plain.post(changelist, {"action": "delete_selected", "_selected_action": [third.pk], "post": "yes"})
    assert Profile.objects.filter(pk=third.pk).exists()
    assert plain.post(reverse("admin:accounts_profile_delete", args=[third.pk]), {"post": "yes"}).status_code == 403
    assert Profile.objects.filter(pk=third.pk).exists()


# --- the embedded stack: the erasure runs after the response, in a background thread -------------


@pytest.mark.django_db(transaction=True)
def test_staff_erasure_runs_in_the_background_on_the_embedded_stack(settings):
    from ops import background

    settings.OUTBOX_EAGER_THREADS = True
    admin_user = UserFactory(username="boss", is_staff=True, is_superuser=True)
    user = UserFactory(username="leaving")
    profile = Profile.objects.create(account=user, name="Leaving")
    RatingFactory(profile=profile)
    resp = signed_in_client(admin_user).post(erase_url(user.pk), {"reason": "ticket 12"})
    assert resp.status_code == 302
    assert background.wait_idle(timeout=30)
    assert not User.objects.filter(pk=user.pk).exists() and not Rating.objects.filter(profile_id=profile.pk).exists()
    assert DeletionRecord.objects.get().status == DeletionStatus.DONE


# --- exports refused once an erasure is under way, and for a superuser's data ------------------


@pytest.mark.django_db
def test_no_staff_export_or_download_once_the_erasure_is_asked_for(owner, officer, django_capture_on_commit_callbacks):
    user, profile = owner
    RatingFactory(profile=profile)
    officer_client = signed_in_client(officer)
    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post(export_url(user.pk), {"reason": "access request"})
    export = ExportRequest.objects.get(account=user)
    assert export.status == ExportStatus.READY
    # The person asks to be erased; the erasure is queued, not run yet.
    with django_capture_on_commit_callbacks(execute=False):
        staff_privacy.account_erase_by_staff(
            staff=UserFactory(is_staff=True, is_superuser=True), account=user, reason="asked"
        )
    page = officer_client.get(export_url(user.pk))
    assert b"data-staff-export-refused" in page.content and b"Start an export" not in page.content
    assert download_url(user.pk, export.pk).encode() not in page.content
    before = AuditEvent.objects.filter(action=AuditAction.STAFF_EXPORT).count()
    response = officer_client.post(export_url(user.pk), {"reason": "again"})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action=AuditAction.STAFF_EXPORT).count() == before
    assert ExportRequest.objects.filter(account=user).count() == 1
    assert officer_client.get(download_url(user.pk, export.pk)).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.STAFF_EXPORT_DOWNLOADED).exists()


@pytest.mark.django_db
def test_only_a_superuser_exports_a_superusers_data(officer, staff_client):
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    officer_client = signed_in_client(officer)
    assert b"Only a superuser can export" in officer_client.get(export_url(boss.pk)).content
    assert officer_client.post(export_url(boss.pk), {"reason": "curious"}).status_code == 403
    assert not ExportRequest.objects.filter(account=boss).exists()
    # A superuser may (staff_client is one).
    assert staff_client.post(export_url(boss.pk), {"reason": "audit"}).status_code == 302
    assert ExportRequest.objects.filter(account=boss).exists()


@pytest.mark.django_db
def test_an_export_whose_request_went_while_it_was_written_leaves_no_file(owner, settings, tmp_path, monkeypatch):
    user, _ = owner
    settings.EXPORT_ROOT = tmp_path / "exports"
    export = ExportRequest.objects.create(account=user)
    real_build = exports.build_document

    def build_then_vanish(account, **kwargs):
        document = real_build(account, **kwargs)
        ExportRequest.objects.filter(pk=export.pk).delete()  # the erasure took the row meanwhile
        return document

    monkeypatch.setattr(exports, "build_document", build_then_vanish)
    exports.export_build(export_id=str(export.pk))
    assert not ExportRequest.objects.filter(pk=export.pk).exists()
    leftovers = list((tmp_path / "exports").rglob("*.zip")) if (tmp_path / "exports").exists() else []
    assert leftovers == []
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT_READY, object_id=str(export.pk)).exists()
