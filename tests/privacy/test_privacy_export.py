"""Export (Art. 15/20): request, build, ZIP contents against the schema, download, limits, expiry, audit."""

import csv
import io
import json
import zipfile
from datetime import timedelta

import jsonschema
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog import services as catalog_services
from privacy import exports, registry
from privacy.models import AuditAction, AuditEvent, ExportRequest, ExportStatus
from tests.support.accounts import PASSWORD, make_account, signed_in_client
from tests.support.api import token_client
from tests.support.factories import ListEntryFactory, RatingFactory, TitleFactory, ViewingFactory

SCHEMA = json.loads(exports.SCHEMA_PATH.read_text())


def api_client(user) -> APIClient:
    # Downloading an export is account-level: the client sends the account password.
    return token_client(user, password=PASSWORD)


def fill(profile):
    t1 = TitleFactory(name="Secret Film One", slug=f"secret-film-one-{profile.pk}")
    t2 = TitleFactory(name="Another Secret", slug=f"another-secret-{profile.pk}")
    RatingFactory(profile=profile, title=t1, value="love")
    ViewingFactory(profile=profile, title=t2)
    ListEntryFactory(profile=profile, title=t1)
    catalog_services.search_record(profile=profile, query="=cmd|evil", result_count=1)


def request_export(client, capture):
    with capture(execute=True):
        resp = client.post("/api/v1/privacy/exports/")
    assert resp.status_code == 202, resp.content
    return resp.json()


@pytest.fixture
def owner_api(owner):
    return api_client(owner[0])


@pytest.mark.django_db
def test_export_zip_holds_json_valid_against_schema_csvs_and_readme(
    owner, other, owner_api, django_capture_on_commit_callbacks
):
    user, profile = owner
    fill(profile)
    fill(other[1])
    body = request_export(owner_api, django_capture_on_commit_callbacks)
    assert set(body) == {"id", "status"} and body["status"] == "pending"

    detail = owner_api.get(f"/api/v1/privacy/exports/{body['id']}/").json()
    assert detail["status"] == "ready" and detail["progress"] == 100
    assert detail["download_url"] and detail["expires_at"]

    resp = owner_api.get(detail["download_url"])
    assert resp.status_code == 200 and resp["Content-Type"] == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(b"".join(resp.streaming_content)))
    names = set(zf.namelist())
    assert {"export.json", "export.schema.json", "README.txt"} <= names
    doc = json.loads(zf.read("export.json"))
    jsonschema.validate(doc, SCHEMA, format_checker=jsonschema.FormatChecker())

    assert doc["account"]["username"] == "owner"
    assert [p["id"] for p in doc["profiles"]] == [profile.pk]
    assert [r["title"] for r in doc["ratings"]] == ["Secret Film One"]
    assert len(doc["viewing"]) == 1 and len(doc["list"]) == 1 and len(doc["searches"]) == 1
    assert {e["purpose"] for e in doc["consent_history"]} == {
        "personalization",
        "viewing_history",
        "search_history",
        "analytics",
    }
    assert doc["export_requests"][0]["id"] == body["id"]
    assert doc["taste_summaries"][0]["profile_id"] == profile.pk
    assert doc["taste_summaries"][0]["ratings_count"] == 1
    # Nothing of the other account leaks into this export.
    other_profile_id = other[1].pk
    assert all(
        r["profile_id"] != other_profile_id for key in ("ratings", "viewing", "list", "searches") for r in doc[key]
    )

    for section in registry.sections():
        if section.export is not None:
            assert f"{section.name}.csv" in names
    rows = list(csv.DictReader(io.StringIO(zf.read("searches.csv").decode())))
    assert rows[0]["query"] == "'=cmd|evil"  # spreadsheet formula neutralised
    assert "ratings.csv" in zf.read("README.txt").decode()
    # Secrets never leave: no password hash, no token key.
    raw = zf.read("export.json").decode()
    assert user.password not in raw and Token.objects.get(user=user).key not in raw


@pytest.mark.django_db
def test_every_registered_section_is_documented_in_the_schema():
    exported = {s.name for s in registry.sections() if s.export is not None}
    header = {"format", "format_version", "generated_at", "policy_version"}
    assert exported | header == set(SCHEMA["properties"])
    assert set(SCHEMA["required"]) == exported | header


@pytest.mark.django_db
def test_export_file_is_stored_outside_media(owner, owner_api, django_capture_on_commit_callbacks, settings):
    body = request_export(owner_api, django_capture_on_commit_callbacks)
    export = ExportRequest.objects.get(pk=body["id"])
    path = exports.export_path(export)
    assert path.is_file() and path.parent == settings.EXPORT_ROOT
    assert settings.MEDIA_ROOT not in path.parents and "media" not in path.parts


@pytest.mark.django_db
def test_download_answers_the_owner_only(owner, other, owner_api, django_capture_on_commit_callbacks, client):
    body = request_export(owner_api, django_capture_on_commit_callbacks)
    pk = body["id"]
    other_user, other_profile = other
    other_web = signed_in_client(other_user, other_profile)
    other_api = api_client(other_user)

    assert other_api.get(f"/api/v1/privacy/exports/{pk}/").status_code == 404
    assert other_api.get(f"/api/v1/privacy/exports/{pk}/download/").status_code == 404
    assert other_web.get(reverse("privacy-export-download", args=[pk])).status_code == 404
    assert other_web.get(reverse("privacy-export-status", args=[pk])).status_code == 404
    assert APIClient().get(f"/api/v1/privacy/exports/{pk}/download/").status_code == 401
    assert APIClient().get(f"/api/v1/privacy/exports/{pk}/").status_code == 401
    anon = client.get(reverse("privacy-export-download", args=[pk]))
    assert anon.status_code == 302 and "/accounts/login/" in anon["Location"]

    owner_web = signed_in_client(*owner)
    resp = owner_web.get(reverse("privacy-export-download", args=[pk]))
    assert resp.status_code == 200 and resp["Content-Disposition"].startswith("attachment")
    assert ExportRequest.objects.get(pk=pk).download_count == 1
    assert AuditEvent.objects.filter(account=owner[0], action=AuditAction.EXPORT_DOWNLOADED).count() == 1


@pytest.mark.django_db
def test_one_export_per_day_with_a_clear_answer(owner, owner_api, django_capture_on_commit_callbacks):
    user, profile = owner
    request_export(owner_api, django_capture_on_commit_callbacks)
    resp = owner_api.post("/api/v1/privacy/exports/")
    assert resp.status_code == 429
    assert "24 hours" in resp.json()["detail"] and int(resp["Retry-After"]) > 0
    web = signed_in_client(user, profile)
    resp = web.post(reverse("privacy-export-create"), follow=True)
    assert "one export every 24 hours" in resp.content.decode()
    assert ExportRequest.objects.filter(account=user).count() == 1
    actions = list(AuditEvent.objects.filter(account=user).order_by("id").values_list("action", flat=True))
    assert actions == ["export_requested", "export_ready", "export_refused", "export_refused"]

    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        assert owner_api.post("/api/v1/privacy/exports/").status_code == 202


@pytest.mark.django_db
def test_failed_export_is_marked_and_does_not_block_a_retry(
    owner, owner_api, monkeypatch, django_capture_on_commit_callbacks
):
    def boom(account, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(exports, "build_document", boom)
    body = request_export(owner_api, django_capture_on_commit_callbacks)
    assert owner_api.get(f"/api/v1/privacy/exports/{body['id']}/").json()["status"] == "failed"
    monkeypatch.undo()
    body2 = request_export(owner_api, django_capture_on_commit_callbacks)
    assert owner_api.get(f"/api/v1/privacy/exports/{body2['id']}/").json()["status"] == "ready"


@pytest.mark.django_db
def test_build_is_idempotent(owner):
    export = ExportRequest.objects.create(account=owner[0])
    first = exports.export_build(export_id=str(export.pk))
    assert first.status == ExportStatus.READY
    assert exports.export_build(export_id=str(export.pk)) is None  # already claimed: nothing redone


@pytest.mark.django_db
def test_export_expires_after_seven_days(owner, owner_api, django_capture_on_commit_callbacks):
    body = request_export(owner_api, django_capture_on_commit_callbacks)
    export = ExportRequest.objects.get(pk=body["id"])
    path = exports.export_path(export)
    assert path.is_file()
    with time_machine.travel(timezone.now() + timedelta(days=6, hours=23)):
        assert exports.exports_expire() == 0
        assert owner_api.get(f"/api/v1/privacy/exports/{export.pk}/download/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        # Before the beat runs, the file is already refused.
        assert owner_api.get(f"/api/v1/privacy/exports/{export.pk}/download/").status_code == 410
        assert exports.exports_expire() == 1
    assert not path.exists()
    detail = owner_api.get(f"/api/v1/privacy/exports/{export.pk}/").json()
    assert detail["status"] == "expired" and detail["download_url"] is None
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT_EXPIRED, object_id=str(export.pk)).exists()


@pytest.mark.django_db
def test_pending_export_download_is_a_conflict(owner, owner_api):
    export = ExportRequest.objects.create(account=owner[0])
    resp = owner_api.get(f"/api/v1/privacy/exports/{export.pk}/download/")
    assert resp.status_code == 409 and "detail" in resp.json()


@pytest.mark.django_db
def test_dashboard_shows_counts_history_and_export_progress(
    owner, owner_client, django_assert_max_num_queries, django_capture_on_commit_callbacks, client
):
    user, profile = owner
    fill(profile)
    running = ExportRequest.objects.create(account=user, status=ExportStatus.RUNNING, progress=40)
    # session + user + profile (middleware), review-banner (2), 13 section counts, serving model
    # version + profiles (training fact), consent state, consent history, exports: about 25.
    with django_assert_max_num_queries(30):
        resp = owner_client.get(reverse("privacy-data"))
    html = resp.content.decode()
    assert resp.status_code == 200
    assert 'data-kind="ratings"><th scope="row">Ratings</th><td class="count">1</td>' in html
    assert 'data-kind="searches"' in html and 'data-kind="viewing"' in html
    assert "Viewing history" in html and "Privacy settings" in html  # consent history rows (how)
    assert f'data-export-id="{running.pk}" data-status="running"' in html
    assert 'value="40"' in html and 'hx-trigger="every 2s"' in html
    assert reverse("privacy-delete") in html and reverse("privacy-export-create") in html
    assert client.get(reverse("privacy-data")).status_code == 302


@pytest.mark.django_db
def test_dashboard_training_fact_degrades_gracefully(owner_client, monkeypatch):
    def broken(account):
        raise RuntimeError("no model")

    monkeypatch.setitem(registry._registry.facts, "training", broken)
    resp = owner_client.get(reverse("privacy-data"))
    assert resp.status_code == 200 and "not available right now" in resp.content.decode()


@pytest.mark.django_db
def test_web_export_request_and_status_fragment(owner, owner_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        resp = owner_client.post(reverse("privacy-export-create"))
    assert resp.status_code == 302
    export = ExportRequest.objects.get(account=owner[0])
    frag = owner_client.get(reverse("privacy-export-status", args=[export.pk]), HTTP_HX_REQUEST="true")
    assert 'data-status="ready"' in frag.content.decode()
    assert reverse("privacy-export-download", args=[export.pk]) in frag.content.decode()


@pytest.mark.django_db
def test_export_api_needs_credentials(client):
    assert APIClient().post("/api/v1/privacy/exports/").status_code == 401
    assert ExportRequest.objects.count() == 0


@pytest.mark.django_db
def test_kids_profile_and_second_account_in_export():
    user, profile = make_account("family")
    from accounts.services import profile_create

    kid = profile_create(account=user, name="Kid", is_kids=True)
    doc = exports.build_document(user)
    jsonschema.validate(doc, SCHEMA)
    assert {p["id"] for p in doc["profiles"]} == {profile.pk, kid.pk}
    assert next(p for p in doc["profiles"] if p["id"] == kid.pk)["is_kids"] is True
