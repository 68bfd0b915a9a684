"""The model registry's "Retrain now" button, its status panel, training progress and the
metrics chart (issue 15, requirement 4 and the model-version part of requirement 5)."""

import threading
from datetime import timedelta

import numpy as np
import pytest
import scipy.sparse as sp
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from common.charts import Series, line_chart, nice_max
from ops import background
from ops.models import OutboxStatus, OutboxTask
from recommendations import artifacts, selectors, tasks, training
from recommendations.models import ModelStatus, ModelVersion
from recommendations.params import HybridParams
from tests.support.accounts import signed_in_client
from tests.support.factories import UserFactory
from tests.support.training_world import build_world

CHANGELIST = "admin:recommendations_modelversion_changelist"
RETRAIN = "admin:recommendations_modelversion_retrain"
STATUS = "admin:recommendations_modelversion_retrain_status"
# One thread: LightFM's parallel SGD is not deterministic, a single thread with a seed is.
FAST = HybridParams(no_components=8, epochs=8, max_sampled=10, num_threads=1)

pytestmark = pytest.mark.usefixtures("rec_env")  # versions' files go to a private MODEL_ROOT


def _staff(*perms: str, username="helper"):
    user = UserFactory(username=username, is_staff=True)
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename, content_type__app_label="recommendations"))
    return signed_in_client(user)


def _rows():
    return OutboxTask.objects.filter(task=tasks.TASK_NAME)


def _version(name, status, *, ndcg=0.3, pop=0.1, coverage=0.5, created_at=None, **fields):
    return ModelVersion.objects.create(
        version=name,
        status=status,
        created_at=created_at or timezone.now(),
        metrics={"p@10": 0.1, "r@10": 0.2, "ndcg@10": ndcg, "auc": 0.9, "coverage": coverage},
        baseline_metrics={"ndcg@10": pop},
        **fields,
    )


# --- permissions ---------------------------------------------------------------------------------


def test_superuser_queues_a_training_and_returns_to_the_list(staff_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_client.post(reverse(RETRAIN))
    assert response.status_code == 302 and response.url == reverse(CHANGELIST)
    row = _rows().get()
    assert row.kwargs == {"trigger": "admin"} and row.key == tasks.OUTBOX_KEY
    assert len(callbacks) == 1  # dispatched only after commit
    assert not ModelVersion.objects.exists()  # nothing trained in the request


def test_staff_without_the_change_permission_is_refused(django_capture_on_commit_callbacks):
    client = _staff("view_modelversion")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(RETRAIN))
    assert response.status_code == 403
    assert not _rows().exists()
    # They still see the list and the status panel, without the button.
    page = client.get(reverse(CHANGELIST))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="retrain-status"' in body and 'class="retrain-button"' not in body
    assert client.get(reverse(STATUS)).status_code == 200


def test_staff_with_the_change_permission_may_retrain(django_capture_on_commit_callbacks):
    client = _staff("view_modelversion", "change_modelversion")
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse(RETRAIN))
    assert response.status_code == 302
    assert _rows().count() == 1
    assert "Retrain now" in client.get(reverse(CHANGELIST)).content.decode()


def test_staff_without_any_model_permission_cannot_read_the_status():
    client = _staff()
    assert client.get(reverse(STATUS)).status_code == 403


def test_non_staff_and_anonymous_get_the_admin_login(client, owner_client):
    login = reverse("admin:login")
    for c in (client, owner_client):
        for response in (c.post(reverse(RETRAIN)), c.get(reverse(STATUS))):
            assert response.status_code == 302 and response.url.startswith(login)
    assert not _rows().exists()


def test_get_is_not_allowed(staff_client):
    assert staff_client.get(reverse(RETRAIN)).status_code == 405
    assert staff_client.post(reverse(STATUS)).status_code == 405
    assert not _rows().exists()


def test_the_retrain_action_is_gone(staff_client):
    _version("20260101-000000-aaaa", ModelStatus.SERVING)
    body = staff_client.get(reverse(CHANGELIST)).content.decode()
    assert 'value="retrain_now"' not in body
    assert 'value="roll_back_to_this_version"' in body
    # The button is a CSRF-protected POST form in the object tools.
    assert f'action="{reverse(RETRAIN)}"' in body and "csrfmiddlewaretoken" in body


# --- single flight --------------------------------------------------------------------------------


def test_a_second_press_while_queued_says_so(staff_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        staff_client.post(reverse(RETRAIN))
        response = staff_client.post(reverse(RETRAIN), follow=True)
    assert "already queued" in response.content.decode()
    assert _rows().count() == 1


@pytest.fixture
def training_lease(db):
    """A live training holds the lease (its version row says `training`)."""
    from ops import leases

    assert leases.acquire(tasks.LEASE, "task/1", ttl=60)


def test_a_second_press_while_training_says_so(staff_client, training_lease, django_capture_on_commit_callbacks):
    _version("20260101-000000-aaaa", ModelStatus.TRAINING, progress=40, step="Fitting: epoch 4 of 10")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse(RETRAIN), follow=True)
    assert "already running" in response.content.decode()
    assert not _rows().exists()


def test_a_training_whose_process_died_does_not_block_retrain(staff_client, django_capture_on_commit_callbacks):
    # Left `training` with nobody holding the lease (a restarted web process on the embedded
    # stack): the panel says so and stops polling, and Retrain queues a new training.
    _version("20260101-000000-aaaa", ModelStatus.TRAINING, progress=40, step="Fitting: epoch 4 of 10")
    panel = staff_client.get(reverse(STATUS)).content.decode()
    assert 'data-state="interrupted"' in panel and "stopped without finishing" in panel
    assert "every 1s" not in panel
    with django_capture_on_commit_callbacks(execute=False):
        response = staff_client.post(reverse(RETRAIN), follow=True)
    assert "Training queued" in response.content.decode()
    assert _rows().count() == 1


def test_a_press_while_the_lease_is_held_says_so(staff_client):
    from ops import leases

    assert leases.acquire(tasks.LEASE, "command/1", ttl=60)  # e.g. manage.py train_recommender
    response = staff_client.post(reverse(RETRAIN), follow=True)
    assert "already running" in response.content.decode()
    assert not _rows().exists()


# --- the embedded stack: a background thread, never the request -------------------------------


@pytest.fixture
def threads(settings):
    settings.OUTBOX_EAGER_THREADS = True
    settings.RECOMMENDER_PARAMS = FAST.to_dict()
    yield
    assert background.wait_idle(timeout=60), "a background training did not finish"


@pytest.mark.django_db(transaction=True)
def test_the_request_returns_while_the_training_runs_in_a_thread(threads, staff, monkeypatch):
    release = threading.Event()
    ran_in = []

    def slow_training(*, trigger, still_ours=None, **_kw):
        ran_in.append(threading.current_thread().name)
        mv = ModelVersion.objects.create(version="20260101-000000-slow", status=ModelStatus.TRAINING, trigger=trigger)
        assert release.wait(timeout=30)
        ModelVersion.objects.filter(pk=mv.pk).update(status=ModelStatus.REJECTED, progress=100, step="Done")
        return ModelVersion.objects.get(pk=mv.pk)

    monkeypatch.setattr(training, "train_and_register", slow_training)
    client = signed_in_client(staff)
    try:
        response = client.post(reverse(RETRAIN), follow=True)
        # Answered while the training is still blocked: it cannot have run inside the request.
        assert response.status_code == 200 and not release.is_set()
        assert "Training queued" in response.content.decode()
        for _ in range(100):
            if ModelVersion.objects.filter(status=ModelStatus.TRAINING).exists():
                break
            threading.Event().wait(0.05)
        assert ran_in and ran_in[0].startswith("bg:") and ran_in[0] != threading.current_thread().name
        # A second press while it runs is the same training.
        again = client.post(reverse(RETRAIN), follow=True)
        assert "already running" in again.content.decode()
        assert client.get(reverse(STATUS)).content.decode().count('data-state="training"') == 1
    finally:
        release.set()
    assert background.wait_idle(timeout=30)
    assert _rows().get().status == OutboxStatus.DONE
    assert len(ran_in) == 1
    status = client.get(reverse(STATUS), {"poll": "1"}).content.decode()
    assert 'data-state="idle"' in status and "rejected" in status and "hx-trigger" not in status


@pytest.mark.django_db(transaction=True)
def test_a_real_training_in_a_thread_ends_promoted_at_100_percent(threads, staff):
    build_world(n_profiles=20, n_titles=20)
    client = signed_in_client(staff)
    assert client.post(reverse(RETRAIN)).status_code == 302
    assert background.wait_idle(timeout=60)
    mv = ModelVersion.objects.get()
    assert mv.status == ModelStatus.SERVING and mv.trigger == "admin"
    assert (mv.progress, mv.step) == (100, "Done")
    assert _rows().get().status == OutboxStatus.DONE
    status = client.get(reverse(STATUS)).content.decode()
    assert "promoted" in status and mv.version in status and "hx-trigger" not in status


# --- the status fragment --------------------------------------------------------------------------


def _status(client, **params):
    response = client.get(reverse(STATUS), params)
    assert response.status_code == 200
    return response.content.decode()


def test_status_before_any_training(staff_client):
    body = _status(staff_client)
    assert "No model has been trained yet" in body
    assert 'data-state="idle"' in body and "hx-trigger" not in body  # nothing to poll for


def test_status_queued_polls(staff_client):
    OutboxTask.objects.create(task=tasks.TASK_NAME, key=tasks.OUTBOX_KEY, status=OutboxStatus.PENDING)
    body = _status(staff_client)
    assert "Queued, waiting for a worker" in body
    assert 'hx-trigger="every 1s"' in body and f'hx-get="{reverse(STATUS)}?poll=1"' in body


def test_status_sent_on_a_worker_is_still_queued_until_it_starts(staff_client):
    _version("20260101-000000-aaaa", ModelStatus.SERVING, created_at=timezone.now() - timedelta(hours=1))
    row = OutboxTask.objects.create(task=tasks.TASK_NAME, key=tasks.OUTBOX_KEY, status=OutboxStatus.SENT)
    assert "Queued, waiting for a worker" in _status(staff_client)
    OutboxTask.objects.filter(pk=row.pk).update(status=OutboxStatus.STARTED)
    body = _status(staff_client)
    assert 'data-state="starting"' in body and "hx-trigger" in body


def test_status_training_shows_the_bar_step_and_percentage(staff_client, training_lease):
    _version("20260101-000000-aaaa", ModelStatus.SERVING, created_at=timezone.now() - timedelta(hours=1))
    _version("20260102-000000-bbbb", ModelStatus.TRAINING, progress=42, step="Fitting: epoch 7 of 30")
    body = _status(staff_client)
    assert '<progress class="retrain-bar" max="100" value="42"' in body
    assert "Fitting: epoch 7 of 30" in body and "42%" in body
    assert 'data-progress="42"' in body and 'hx-trigger="every 1s"' in body


def test_status_after_the_run_of_an_in_process_request(staff_client):
    """Embedded runs keep their outbox row `sent` until the task returns: a version newer than
    the row is that request's outcome, not a queued training (else polling never stops)."""
    row = OutboxTask.objects.create(task=tasks.TASK_NAME, key=tasks.OUTBOX_KEY, status=OutboxStatus.SENT)
    _version("20260102-000000-bbbb", ModelStatus.SERVING, created_at=row.created_at + timedelta(seconds=1))
    body = _status(staff_client, poll="1")
    assert 'data-state="idle"' in body and "promoted" in body and "hx-trigger" not in body
    assert "Finished." in body and "Show the new version in the list" in body


def test_status_outcomes(staff_client):
    _version("20260101-000000-aaaa", ModelStatus.REJECTED, gate="nDCG@10 0.0500 does not beat popularity's 0.1000")
    body = _status(staff_client)
    assert "rejected" in body and "does not beat popularity" in body
    ModelVersion.objects.all().delete()
    _version(
        "20260101-000000-bbbb",
        ModelStatus.FAILED,
        step="Fitting: epoch 3 of 20",
        progress=60,
        error="Traceback (most recent call last):\n  File x\nRuntimeError: fit exploded\n",
    )
    body = _status(staff_client)
    assert "failed" in body and 'at "Fitting: epoch 3 of 20"' in body
    assert "RuntimeError: fit exploded" in body and "File x" not in body


def test_changelist_page_has_the_panel_htmx_and_no_inline_script(staff_client, training_lease):
    _version("20260102-000000-bbbb", ModelStatus.TRAINING, progress=10, step="Building features")
    body = staff_client.get(reverse(CHANGELIST)).content.decode()
    assert 'id="retrain-live" role="status" aria-live="polite"' in body
    assert "htmx" in body and 'hx-trigger="every 1s"' in body
    assert "<script>" not in body and "style=" not in body


# --- progress from a real training ----------------------------------------------------------------


def test_a_real_training_writes_its_progress_step_by_step(settings, monkeypatch):
    settings.RECOMMENDER_PARAMS = FAST.to_dict()
    settings.RECOMMENDER_PROGRESS_SECONDS = 0  # every report is written (the default throttles)
    build_world(n_profiles=20, n_titles=20)
    seen = []
    real_call = training.Progress.__call__

    def spy(self, step, percent, *, force=False):
        real_call(self, step, percent, force=force)
        # What a status poll would read from the database at this moment.
        seen.append(ModelVersion.objects.values_list("progress", "step").get(pk=self.pk))

    monkeypatch.setattr(training.Progress, "__call__", spy)
    mv = training.train_and_register(trigger="test")

    steps = [step for _, step in seen]
    for expected in (
        "Loading interactions",
        "Building features",
        "Evaluation fit: epoch 1 of 8",
        "Evaluation fit: epoch 8 of 8",
        "Evaluating",
        "Fitting: epoch 1 of 8",
        "Fitting: epoch 8 of 8",
        "Writing the model files",
        "Registering",
    ):
        assert expected in steps
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and len(set(percents)) >= 10
    assert percents[0] > 0 and percents[-1] < 100
    mv.refresh_from_db()
    assert (mv.progress, mv.step, mv.status) == (100, "Done", ModelStatus.SERVING)


def test_progress_is_throttled_to_one_write_a_second():
    mv = ModelVersion.objects.create(version="20260101-000000-aaaa", status=ModelStatus.TRAINING)
    now = [0.0]
    progress = training.Progress(mv.pk, every=1.0, clock=lambda: now[0])
    for t, pct in ((0.0, 1), (0.3, 2), (0.6, 3), (1.1, 4), (1.5, 5)):
        now[0] = t
        progress(f"step {pct}", pct)
    assert progress.writes == 2
    mv.refresh_from_db()
    assert (mv.progress, mv.step) == (4, "step 4")
    progress("last", 7, force=True)
    mv.refresh_from_db()
    assert (mv.progress, mv.step, progress.writes) == (7, "last", 3)
    # A finished version is never overwritten by a late report.
    ModelVersion.objects.filter(pk=mv.pk).update(status=ModelStatus.REJECTED)
    progress("late", 9, force=True)
    mv.refresh_from_db()
    assert mv.progress == 7


def test_a_failed_training_keeps_the_step_it_failed_in(settings, monkeypatch):
    settings.RECOMMENDER_PARAMS = FAST.to_dict()
    build_world(n_profiles=10, n_titles=20)

    def broken_save(_artifacts):
        raise OSError("disk full")

    monkeypatch.setattr(artifacts, "save", broken_save)
    with pytest.raises(OSError):
        training.train_and_register(trigger="test")
    mv = ModelVersion.objects.get()
    assert mv.status == ModelStatus.FAILED
    assert (mv.step, mv.progress) == ("Writing the model files", training.PHASES["artifacts"])


def test_fitting_epoch_by_epoch_is_the_same_model_as_one_fit():
    rng = np.random.default_rng(1)
    n_users, n_items = 60, 40
    key = np.unique(rng.integers(0, n_users, 500) * n_items + rng.integers(0, n_items, 500))
    users, items = key // n_items, key % n_items
    inter = sp.coo_matrix((np.ones(len(key), dtype=np.float32), (users, items)), shape=(n_users, n_items))
    weights = sp.coo_matrix((rng.random(len(key)).astype(np.float32), (users, items)), shape=(n_users, n_items))
    uf = sp.hstack(
        [sp.identity(n_users, format="csr"), sp.random(n_users, 3, density=0.5, format="csr", random_state=1)],
        format="csr",
    )  # float64: converted the way LightFM converts it
    itf = sp.hstack(
        [sp.identity(n_items, format="csr"), sp.random(n_items, 5, density=0.5, format="csr", random_state=2)],
        format="csr",
    )
    params = HybridParams(no_components=8, epochs=7, max_sampled=10, num_threads=1)
    once = training.fit_hybrid(params, inter, weights, user_features=uf, item_features=itf)
    epochs = []
    stepwise = training.fit_hybrid(
        params, inter, weights, user_features=uf, item_features=itf, on_epoch=lambda d, t: epochs.append((d, t))
    )
    assert epochs == [(i, 7) for i in range(1, 8)]
    for name in ("item_embeddings", "user_embeddings", "item_biases", "user_biases"):
        assert np.array_equal(getattr(once, name), getattr(stepwise, name)), name


# --- metrics over time ------------------------------------------------------------------------------


def test_metrics_history_is_in_time_order_without_failed_or_training():
    t0 = timezone.now() - timedelta(days=3)
    _version("v-2", ModelStatus.SERVING, ndcg=0.4, created_at=t0 + timedelta(days=2))
    _version("v-1", ModelStatus.RETIRED, ndcg=0.3, created_at=t0 + timedelta(days=1))
    _version("v-0", ModelStatus.REJECTED, ndcg=0.05, created_at=t0)
    ModelVersion.objects.create(version="v-failed", status=ModelStatus.FAILED)
    ModelVersion.objects.create(version="v-training", status=ModelStatus.TRAINING)
    points = selectors.metrics_history()
    assert [p.version for p in points] == ["v-0", "v-1", "v-2"]
    assert [p.ndcg for p in points] == [0.05, 0.3, 0.4] and points[0].popularity_ndcg == 0.1


def test_line_chart_is_labelled_formatted_and_escaped():
    svg = line_chart(
        title="Scores <over> time",
        labels=["01-01 10:00", "01-02 10:00", "01-03 10:00"],
        series=[Series("model", [0.31234, None, 0.4]), Series("baseline", [0.1, 0.12, 0.11], dashed=True)],
        y_label="Score",
        x_label="Trained at",
    )
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "<title id=" in svg and "Scores &lt;over&gt; time" in svg and "<over>" not in svg
    assert "<desc id=" in svg and "model: first 0.31, last 0.40." in svg
    assert ">Score</text>" in svg and ">Trained at</text>" in svg
    assert "<title>model, 01-01 10:00: 0.31</title>" in svg  # each point names itself
    # The model's line breaks at the missing value: only the baseline's 3 points are joined.
    assert svg.count("<polyline") == 1 and 'stroke-dasharray="6 4"' in svg
    assert "style=" not in svg
    assert "No data yet" in line_chart(title="t", labels=[], series=[], y_label="y")


def test_nice_max():
    assert [nice_max(v) for v in (0, 0.33, 0.5, 0.61, 1.0, 7)] == [1.0, 0.5, 0.5, 1.0, 1.0, 10]


def test_changelist_chart_and_short_columns(staff_client):
    t0 = timezone.now() - timedelta(days=2)
    _version("20260101-000000-aaaa", ModelStatus.RETIRED, ndcg=0.2345, pop=0.1111, created_at=t0)
    _version("20260102-000000-bbbb", ModelStatus.SERVING, ndcg=0.3456, pop=0.1234, coverage=0.42)
    body = staff_client.get(reverse(CHANGELIST)).content.decode()
    assert "Model versions: nDCG@10 vs the popularity baseline, and catalog coverage" in body
    assert "<title>nDCG@10 (model), 20260102-000000-bbbb (serving): 0.35</title>" in body
    assert "0.3456 (0.1234)" in body and "42.0%" in body
    assert "Rejected by the promotion gate" not in body.split('id="result_list"')[1].split("</table>")[0]
