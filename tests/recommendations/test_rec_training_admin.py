"""The model registry in the admin: list with metrics, "Retrain now", "Roll back to this version"."""

import numpy as np
import pytest
from django.urls import reverse

from ops.models import OutboxStatus, OutboxTask
from recommendations import artifacts, tasks
from recommendations.models import ModelStatus, ModelVersion

CHANGELIST = "admin:recommendations_modelversion_changelist"

pytestmark = pytest.mark.usefixtures("rec_env")  # versions' files go to a private MODEL_ROOT


def _version(name, status, ndcg=0.3, files=True):
    mv = ModelVersion.objects.create(
        version=name,
        status=status,
        metrics={"p@10": 0.1, "r@10": 0.2, "ndcg@10": ndcg, "auc": 0.9, "coverage": 0.5},
        baseline_metrics={"ndcg@10": 0.1},
    )
    if files:
        artifacts.save(
            artifacts.ModelArtifacts(
                version=name,
                title_ids=np.arange(3),
                item_vecs=np.zeros((3, 2)),
                item_bias=np.zeros(3),
                profile_ids=np.arange(1),
                user_vecs=np.zeros((1, 2)),
                user_bias=np.zeros(1),
                user_feature_names=np.array([], dtype=str),
                user_feature_vecs=np.zeros((0, 2)),
                user_feature_bias=np.zeros(0),
            )
        )
    return mv


def test_changelist_shows_versions_with_metrics(staff_client, django_assert_max_num_queries):
    _version("20260101-000000-aaaa", ModelStatus.SERVING, ndcg=0.3456)
    _version("20260102-000000-bbbb", ModelStatus.REJECTED, ndcg=0.1234)
    # session, user, count x2 (paginator + full count), versions, status filter choices, trigger choices;
    # the status panel (latest version, queued training) and the metrics chart (history); the
    # account's device bookkeeping (accounts: update, insert, session save).
    with django_assert_max_num_queries(16):
        response = staff_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    body = response.content.decode()
    assert "0.3456" in body and "0.1234" in body
    assert "Retrain now" in body and "Roll back to this version" in body


def test_changelist_needs_staff(client, owner_client):
    assert client.get(reverse(CHANGELIST)).status_code == 302
    assert owner_client.get(reverse(CHANGELIST)).status_code == 302


def test_retrain_now_enqueues_after_commit(staff_client, django_capture_on_commit_callbacks):
    _version("20260101-000000-aaaa", ModelStatus.SERVING)
    # "Retrain now" is a button posting to its own URL (no ticked row needed).
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_client.post(reverse("admin:recommendations_modelversion_retrain"), follow=True)
    # Recorded in the outbox with the request; handed to the broker only after commit.
    row = OutboxTask.objects.get(task=tasks.TASK_NAME)
    assert row.kwargs == {"trigger": "admin"} and row.status == OutboxStatus.PENDING
    assert len(callbacks) == 1
    assert "Training queued" in response.content.decode()


def test_roll_back_to_a_retired_version(staff_client, django_capture_on_commit_callbacks):
    old = _version("20260101-000000-aaaa", ModelStatus.RETIRED)
    new = _version("20260102-000000-bbbb", ModelStatus.SERVING)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse(CHANGELIST), {"action": "roll_back_to_this_version", "_selected_action": [old.pk]}, follow=True
        )
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.status == ModelStatus.SERVING and new.status == ModelStatus.RETIRED
    assert "serves now" in response.content.decode()


@pytest.mark.parametrize(
    ("status", "files"),
    [(ModelStatus.FAILED, True), (ModelStatus.REJECTED, True), (ModelStatus.RETIRED, False)],
)
def test_roll_back_refused(staff_client, status, files):
    target = _version("20260101-000000-aaaa", status, files=files)
    serving = _version("20260102-000000-bbbb", ModelStatus.SERVING)
    response = staff_client.post(
        reverse(CHANGELIST), {"action": "roll_back_to_this_version", "_selected_action": [target.pk]}, follow=True
    )
    serving.refresh_from_db()
    target.refresh_from_db()
    assert serving.status == ModelStatus.SERVING and target.status == status
    assert "cannot serve" in response.content.decode()


def test_roll_back_needs_exactly_one(staff_client):
    a = _version("20260101-000000-aaaa", ModelStatus.RETIRED)
    b = _version("20260102-000000-bbbb", ModelStatus.RETIRED)
    response = staff_client.post(
        reverse(CHANGELIST), {"action": "roll_back_to_this_version", "_selected_action": [a.pk, b.pk]}, follow=True
    )
    assert "exactly one" in response.content.decode()
    assert not ModelVersion.objects.filter(status=ModelStatus.SERVING).exists()
