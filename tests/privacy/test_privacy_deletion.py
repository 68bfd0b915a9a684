"""Account deletion (Art. 17): re-confirmation, immediate lock-out, erasure through the registry."""

import json

import numpy as np
import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Profile, User
from catalog import services as catalog_services
from catalog.models import ListEntry, Rating, SearchQuery, ViewingActivity
from privacy import erasure, exports
from privacy.models import AuditEvent, ConsentEvent, ConsentState, DeletionRecord, DeletionStatus, ExportRequest
from tests.support.accounts import PASSWORD, signed_in_client
from tests.support.factories import ListEntryFactory, RatingFactory, ViewingFactory


def fill(profile):
    RatingFactory(profile=profile)
    ViewingFactory(profile=profile)
    ListEntryFactory(profile=profile)
    catalog_services.search_record(profile=profile, query="quiet place", result_count=2)


def person_rows(profile_ids, account_id):
    return {
        "ratings": Rating.objects.filter(profile_id__in=profile_ids).count(),
        "viewing": ViewingActivity.objects.filter(profile_id__in=profile_ids).count(),
        "list": ListEntry.objects.filter(profile_id__in=profile_ids).count(),
        "searches": SearchQuery.objects.filter(profile_id__in=profile_ids).count(),
        "profiles": Profile.objects.filter(pk__in=profile_ids).count(),
        "consents": ConsentState.objects.filter(account_id=account_id).count()
        + ConsentEvent.objects.filter(account_id=account_id).count(),
        "exports": ExportRequest.objects.filter(account_id=account_id).count(),
        "tokens": Token.objects.filter(user_id=account_id).count(),
        "users": User.objects.filter(pk=account_id).count(),
    }


@pytest.mark.django_db
def test_wrong_password_changes_nothing(owner, owner_client):
    user, profile = owner
    fill(profile)
    resp = owner_client.post(reverse("privacy-delete"), {"password": "nope", "confirm": "on"})
    assert resp.status_code == 400 and "not correct" in resp.content.decode()
    resp = owner_client.post(reverse("privacy-delete"), {"password": PASSWORD})  # box not ticked
    assert resp.status_code == 400
    assert User.objects.get(pk=user.pk).is_active and not DeletionRecord.objects.exists()
    assert Rating.objects.filter(profile=profile).count() == 1
    assert AuditEvent.objects.filter(account=user, action="deletion_refused").count() == 1
    # Still signed in.
    assert owner_client.get(reverse("privacy-settings")).status_code == 200


@pytest.mark.django_db
def test_web_deletion_erases_everything_and_keeps_a_pseudonymous_record(
    owner, other, django_capture_on_commit_callbacks
):
    user, profile = owner
    other_user, other_profile = other
    fill(profile)
    fill(other_profile)
    uid, pids, email, username = user.pk, [profile.pk], user.email, user.username
    token = Token.objects.create(user=user)
    export = ExportRequest.objects.create(account=user)
    exports.export_build(export_id=str(export.pk))
    export_file = exports.export_path(ExportRequest.objects.get(pk=export.pk))
    assert export_file.is_file()
    laptop = signed_in_client(user, profile)  # a second session elsewhere
    phone = signed_in_client(user, profile)

    with django_capture_on_commit_callbacks(execute=True):
        resp = phone.post(reverse("privacy-delete"), {"password": PASSWORD, "confirm": "on"})
    assert resp.status_code == 302 and resp["Location"] == reverse("privacy-deleted")
    deleted_page = phone.get(resp["Location"]).content.decode()

    # Every session and token is dead.
    assert laptop.get(reverse("privacy-settings")).status_code == 302
    assert phone.get(reverse("privacy-settings")).status_code == 302
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/privacy/consents/").status_code == 401
    assert not any(str(s.get_decoded().get("_auth_user_id")) == str(uid) for s in Session.objects.all())

    # Every personal row is gone, the export file too; the other account is untouched.
    assert set(person_rows(pids, uid).values()) == {0}
    assert not export_file.exists()
    assert person_rows([other_profile.pk], other_user.pk)["ratings"] == 1

    record = DeletionRecord.objects.get()
    assert record.status == DeletionStatus.DONE and record.account_id is None
    assert record.erased_counts["ratings"] == 1 and record.erased_counts["searches"] == 1
    assert str(record.reference) in deleted_page
    stored = json.dumps([{f.name: str(getattr(record, f.name)) for f in DeletionRecord._meta.fields}])
    assert username not in stored and email not in stored
    # The audit trail stays, unlinked from the person: only the random reference.
    trail = AuditEvent.objects.filter(subject=record.reference)
    assert trail.filter(action="deletion_requested").exists() and not trail.exclude(account=None).exists()

    # The receipt went to the address before it was erased.
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [email]
    assert str(record.reference) in mail.outbox[0].body
    assert record.receipt_sent_at is not None


@pytest.mark.django_db
def test_erasure_job_is_idempotent(owner, django_capture_on_commit_callbacks):
    user, profile = owner
    fill(profile)
    with django_capture_on_commit_callbacks(execute=True):
        record = erasure.account_delete_request(account=user, password=PASSWORD, via="web")
    again = erasure.account_erase(record_id=record.pk)
    assert again.status == DeletionStatus.DONE
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_failed_erasure_is_retried_and_finishes(owner, monkeypatch):
    from privacy import registry

    user, profile = owner
    fill(profile)
    record = erasure.account_delete_request(account=user, password=PASSWORD, via="web")  # no on_commit: job not run
    assert not User.objects.get(pk=user.pk).is_active  # locked out already
    real = registry._registry.sections["ratings"]

    def broken(account):
        raise RuntimeError("db hiccup")

    from dataclasses import replace

    monkeypatch.setitem(registry._registry.sections, "ratings", replace(real, erase=broken))
    with pytest.raises(RuntimeError):
        erasure.account_erase(record_id=record.pk)
    assert DeletionRecord.objects.get(pk=record.pk).status == DeletionStatus.FAILED
    assert Rating.objects.filter(profile=profile).count() == 1  # the transaction rolled back
    monkeypatch.setitem(registry._registry.sections, "ratings", real)
    done = erasure.account_erase(record_id=record.pk)
    assert done.status == DeletionStatus.DONE and done.attempts == 2
    assert not User.objects.filter(pk=user.pk).exists()


@pytest.mark.django_db
def test_api_deletion_then_credentials_fail(owner, other, django_capture_on_commit_callbacks):
    user, _ = owner
    token = Token.objects.create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.post("/api/v1/account/delete/", {"password": "wrong"}, format="json").status_code == 400
    assert api.post("/api/v1/account/delete/", {}, format="json").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        resp = api.post("/api/v1/account/delete/", {"password": PASSWORD}, format="json")
    assert resp.status_code == 202 and resp.json()["reference"]
    assert api.get("/api/v1/privacy/consents/").status_code == 401
    fresh = APIClient()
    assert fresh.post("/api/v1/auth/token/", {"username": "owner", "password": PASSWORD}).status_code in (400, 401, 404)
    assert not User.objects.filter(username="owner").exists()
    assert User.objects.filter(pk=other[0].pk).exists()
    assert APIClient().post("/api/v1/account/delete/", {"password": PASSWORD}).status_code == 401


@pytest.mark.django_db
def test_delete_page_needs_login(client):
    resp = client.get(reverse("privacy-delete"))
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]


@pytest.mark.django_db
def test_erasure_drops_the_profile_from_every_model_on_disk(owner, other, settings, tmp_path):
    """The person vanishes from every stored version's users.npz without a retrain: the serving
    one, and one whose registry row is gone (a rollback must not bring them back)."""
    from recommendations import artifacts
    from recommendations.models import ModelStatus, ModelVersion

    settings.MODEL_ROOT = tmp_path / "models"
    user, profile = owner
    _, other_profile = other
    ids = np.array([profile.pk, other_profile.pk])
    for version in ("v-erasure-test", "v-orphan"):
        artifacts.save(
            artifacts.ModelArtifacts(
                version=version,
                title_ids=np.array([1, 2]),
                item_vecs=np.ones((2, 3)),
                item_bias=np.zeros(2),
                profile_ids=ids,
                user_vecs=np.ones((2, 3)),
                user_bias=np.zeros(2),
                user_feature_names=np.array(["genre:x"]),
                user_feature_vecs=np.ones((1, 3)),
                user_feature_bias=np.zeros(1),
                trained_indptr=np.array([0, 2, 3]),
                trained_title_ids=np.array([1, 2, 2]),
            )
        )
    ModelVersion.objects.create(version="v-erasure-test", status=ModelStatus.SERVING)
    import recommendations.personal_data as rpd

    # The dashboard says this account's data was used for the serving model.
    assert rpd._training_facts(user)["contributed"] is True

    record = erasure.account_delete_request(account=user, password=PASSWORD, via="web")
    erasure.account_erase(record_id=record.pk)
    for version in ("v-erasure-test", "v-orphan"):
        left = artifacts.load(version)
        assert left.profile_ids.tolist() == [other_profile.pk] and left.user_vecs.shape == (1, 3), version
        # Its trained positives went with it; the other profile keeps its own.
        assert left.trained_indptr.tolist() == [0, 1] and left.trained_title_ids.tolist() == [2], version
    for path in (tmp_path / "models").glob("*/users.npz"):
        with np.load(path, allow_pickle=False) as users:
            assert profile.pk not in users["profile_ids"].tolist(), path
    assert DeletionRecord.objects.get().erased_counts["recommendations"] == 2
