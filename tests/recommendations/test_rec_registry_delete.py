"""A registry that cannot be broken from the admin (issue 15, requirement 2): the serving
version cannot be deleted, a deleted version's files go with it, and only the last
MODEL_VERSIONS_KEEP versions keep their files on disk."""

import pytest
from django.db import transaction
from django.urls import reverse

from recommendations import artifacts, model_registry, tasks
from recommendations.models import ModelStatus, ModelVersion
from tests.recommendations.test_rec_training_admin import _version

pytestmark = pytest.mark.usefixtures("rec_env")

CHANGELIST = "admin:recommendations_modelversion_changelist"


def _delete_url(mv):
    return reverse("admin:recommendations_modelversion_delete", args=[mv.pk])


def test_the_serving_version_has_no_delete_and_refuses_a_post(staff_client):
    serving = _version("20260101-000000-aaaa", ModelStatus.SERVING)
    assert staff_client.get(_delete_url(serving)).status_code == 403
    assert staff_client.post(_delete_url(serving), {"post": "yes"}).status_code == 403
    serving.refresh_from_db()
    assert serving.status == ModelStatus.SERVING
    assert model_registry.artifacts_exist(serving.version)


def test_deleting_a_retired_version_deletes_its_files(staff_client, django_capture_on_commit_callbacks):
    _version("20260102-000000-bbbb", ModelStatus.SERVING)
    retired = _version("20260101-000000-aaaa", ModelStatus.RETIRED)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(_delete_url(retired), {"post": "yes"})
    assert response.status_code == 302
    assert not ModelVersion.objects.filter(pk=retired.pk).exists()
    assert not artifacts.version_dir(retired.version).exists()


def test_a_bulk_delete_skips_the_serving_version_and_says_so(staff_client, django_capture_on_commit_callbacks):
    serving = _version("20260102-000000-bbbb", ModelStatus.SERVING)
    retired = _version("20260101-000000-aaaa", ModelStatus.RETIRED)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse(CHANGELIST),
            {"action": "delete_selected", "_selected_action": [serving.pk, retired.pk], "post": "yes"},
            follow=True,
        )
    assert response.status_code == 200
    assert "Not deleted: 20260102-000000-bbbb (serving)" in response.content.decode()
    assert list(ModelVersion.objects.values_list("version", flat=True)) == [serving.version]
    assert model_registry.artifacts_exist(serving.version)
    assert not artifacts.version_dir(retired.version).exists()


def test_other_accounts_and_visitors_cannot_delete_versions(client, owner_client):
    retired = _version("20260101-000000-aaaa", ModelStatus.RETIRED)
    for browser in (client, owner_client):
        assert browser.post(_delete_url(retired), {"post": "yes"}).status_code == 302  # to the admin login
    assert ModelVersion.objects.filter(pk=retired.pk).exists()


@pytest.mark.parametrize("status", [ModelStatus.SERVING, ModelStatus.TRAINING])
def test_no_code_path_deletes_a_serving_or_training_version(status):
    mv = _version("20260101-000000-aaaa", status)
    with pytest.raises(model_registry.VersionProtected), transaction.atomic():
        ModelVersion.objects.filter(pk=mv.pk).delete()
    with pytest.raises(model_registry.VersionProtected):
        model_registry.version_delete(mv)
    assert ModelVersion.objects.filter(pk=mv.pk).exists()


def test_pruning_keeps_the_last_versions_and_the_serving_one(settings):
    settings.MODEL_VERSIONS_KEEP = 3
    serving = _version("20260101-000000-0000", ModelStatus.SERVING)  # the oldest, still serving
    others = [_version(f"2026010{i}-000000-000{i}", ModelStatus.RETIRED) for i in range(2, 8)]
    training = _version("20260109-000000-0009", ModelStatus.TRAINING)
    for i, mv in enumerate([serving, *others, training]):
        ModelVersion.objects.filter(pk=mv.pk).update(created_at=mv.created_at.replace(day=1 + i))
    orphan = artifacts.version_dir("20250101-000000-dead")
    orphan.mkdir(parents=True)
    (orphan / "users.npz").write_bytes(b"a deleted row's profiles")

    result = tasks.model_versions_prune()

    on_disk = set(artifacts.stored_versions())
    newest_three = {mv.version for mv in others[-3:]}
    assert on_disk == {serving.version, training.version} | newest_three
    assert set(result["pruned"]) == {mv.version for mv in others[:3]}
    assert result["orphans"] == ["20250101-000000-dead"]
    assert ModelVersion.objects.count() == 8  # rows stay: the registry's history
    assert not model_registry.can_roll_back_to(ModelVersion.objects.get(version=others[0].version))
    assert tasks.model_versions_prune()["pruned"] == []  # safe to run twice


def test_pruning_is_scheduled(settings):
    entries = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "recommendations.tasks.model_versions_prune" in entries
    assert settings.MODEL_VERSIONS_KEEP == 5
