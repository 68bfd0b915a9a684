"""The outbox (issue 11, requirement 1): nothing queued is lost when the broker is.

The broker-down cases point the product's own Celery app at a Redis port where nothing listens
(what a stopped Redis looks like to a client); the end-to-end runs with a real Redis that is
stopped and restarted under a live server and worker are in tests/ops/test_faults.py.
"""

import socket
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from insights.models import InsightsSnapshot, SnapshotStatus
from insights.services import snapshot_request
from ops import outbox
from ops.models import OutboxStatus, OutboxTask
from privacy import erasure, exports
from privacy.models import DeletionRecord, DeletionStatus, ExportRequest, ExportStatus
from tests.support.accounts import PASSWORD, make_account, signed_in_client


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def broker_down():
    """The product's Celery app, not eager, with its broker at a closed port."""
    from config.celery import app

    conf = app.conf
    saved = (conf.task_always_eager, conf.broker_url, conf.broker_write_url, app._pool, app.amqp._producer_pool)
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    conf.task_always_eager, conf.broker_url, conf.broker_write_url = False, url, url
    # Connections are pooled per app: a fresh pool, so nothing reuses another broker's.
    app._pool = None
    app.amqp._producer_pool = None
    yield app
    conf.task_always_eager, conf.broker_url, conf.broker_write_url = saved[:3]
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool, app.amqp._producer_pool = saved[3], saved[4]


def _back_online(app):
    """The broker returns: here, in-process dispatch (eager) stands in for broker + worker."""
    app.conf.task_always_eager = True


@pytest.mark.django_db
def test_in_process_an_enqueued_task_runs_after_commit_and_its_row_is_done(django_capture_on_commit_callbacks):
    user, _ = make_account("ann")
    with django_capture_on_commit_callbacks(execute=True):
        export = exports.export_request_create(account=user, via="web")
    export.refresh_from_db()
    assert export.status == ExportStatus.READY
    row = OutboxTask.objects.get(task="privacy.tasks.export_build")
    assert row.args == [str(export.pk)]
    assert row.status == OutboxStatus.DONE and row.attempts == 1 and row.finished_at


@pytest.mark.django_db
def test_an_export_asked_while_the_broker_is_down_answers_202_and_completes_later(
    broker_down, django_capture_on_commit_callbacks
):
    user, profile = make_account("ann")
    client = signed_in_client(user, profile)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/privacy/exports/", HTTP_X_MARQUEE_PASSWORD=PASSWORD)
    assert response.status_code == 202, response.content
    export = ExportRequest.objects.get(pk=response.json()["id"])
    assert export.status == ExportStatus.PENDING
    row = OutboxTask.objects.get(task="privacy.tasks.export_build")
    assert row.status == OutboxStatus.PENDING and "Connection refused" in row.last_error
    assert row.attempts == 0  # the broker never had it: no attempt spent

    # Still down at the next sweep: the row waits, nothing is lost or doubled.
    later = timezone.now() + timedelta(seconds=30)
    assert outbox.sweep(now=later)["dispatched"] == 0
    assert OutboxTask.objects.get(pk=row.pk).status == OutboxStatus.PENDING

    _back_online(broker_down)
    assert outbox.sweep(now=later)["dispatched"] == 1
    export.refresh_from_db()
    assert export.status == ExportStatus.READY
    assert OutboxTask.objects.get(pk=row.pk).status == OutboxStatus.DONE
    assert ExportRequest.objects.filter(account=user).count() == 1


@pytest.mark.django_db
def test_an_erasure_asked_while_the_broker_is_down_is_done_later(broker_down, django_capture_on_commit_callbacks):
    user, _profile = make_account("ann")
    with django_capture_on_commit_callbacks(execute=True):
        record = erasure.account_delete_request(account=user, password=PASSWORD, via="web")
    assert DeletionRecord.objects.get(pk=record.pk).status == DeletionStatus.REQUESTED
    _back_online(broker_down)
    outbox.sweep(now=timezone.now() + timedelta(seconds=30))
    assert DeletionRecord.objects.get(pk=record.pk).status == DeletionStatus.DONE


@pytest.mark.django_db
def test_the_sweeper_hands_over_again_only_what_is_due():
    now = timezone.now()
    fresh = OutboxTask.objects.create(task="ops.tasks.outbox_sweep")  # its own on_commit may still run
    lost = OutboxTask.objects.create(task="ops.tasks.outbox_sweep", status=OutboxStatus.SENT, attempts=1)
    waiting = OutboxTask.objects.create(task="ops.tasks.outbox_sweep", status=OutboxStatus.SENT, attempts=2)
    alive = OutboxTask.objects.create(task="ops.tasks.outbox_sweep", status=OutboxStatus.STARTED, attempts=1)
    dead = OutboxTask.objects.create(task="ops.tasks.outbox_sweep", status=OutboxStatus.STARTED, attempts=1)
    OutboxTask.objects.filter(pk=lost.pk).update(sent_at=now - timedelta(seconds=301))
    # The second attempt waits twice as long before a third.
    OutboxTask.objects.filter(pk=waiting.pk).update(sent_at=now - timedelta(seconds=400))
    OutboxTask.objects.filter(pk=alive.pk).update(heartbeat_at=now - timedelta(seconds=20))
    OutboxTask.objects.filter(pk=dead.pk).update(heartbeat_at=now - timedelta(seconds=61))
    OutboxTask.objects.filter(pk=fresh.pk).update(created_at=now - timedelta(seconds=5))
    assert {r.pk for r in outbox.due(now)} == {lost.pk, dead.pk}
    assert {r.pk for r in outbox.due(now + timedelta(seconds=20))} == {fresh.pk, lost.pk, dead.pk}
    assert waiting.pk in {r.pk for r in outbox.due(now + timedelta(seconds=201))}


@pytest.mark.django_db
def test_a_row_handed_over_too_often_is_given_up_and_frees_its_key():
    """A task that kills its worker every time must not stay unfinished (and hold its key) forever."""
    now = timezone.now()
    stuck = OutboxTask.objects.create(
        task="recommendations.tasks.model_train", key="k", status=OutboxStatus.STARTED, attempts=outbox.MAX_ATTEMPTS
    )
    OutboxTask.objects.filter(pk=stuck.pk).update(heartbeat_at=now - timedelta(seconds=61))
    assert outbox.sweep(now=now)["gave_up"] == 1
    stuck.refresh_from_db()
    assert stuck.status == OutboxStatus.FAILED and "given up" in stuck.last_error
    assert outbox.enqueue("recommendations.tasks.model_train", key="k").pk != stuck.pk


@pytest.mark.django_db
def test_the_sweeper_does_not_send_again_a_row_a_worker_started_meanwhile():
    row = OutboxTask.objects.create(task="ops.tasks.outbox_sweep", status=OutboxStatus.SENT, attempts=1)
    OutboxTask.objects.filter(pk=row.pk).update(sent_at=timezone.now() - timedelta(hours=1))
    (judged,) = outbox.due()
    assert outbox.mark_started(str(row.pk))  # the worker takes it between due() and dispatch()
    assert outbox.dispatch(row.pk, expected=judged) is False
    row.refresh_from_db()
    assert row.status == OutboxStatus.STARTED and row.attempts == 1


@pytest.mark.django_db
def test_a_worker_claims_a_row_once_unless_its_first_delivery_died():
    row = OutboxTask.objects.create(task="ops.tasks.outbox_sweep", status=OutboxStatus.SENT, attempts=1)
    assert outbox.mark_started(str(row.pk))
    assert not outbox.mark_started(str(row.pk))  # a duplicate of a live delivery
    OutboxTask.objects.filter(pk=row.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))
    assert outbox.mark_started(str(row.pk))  # the first one died: this delivery takes over
    outbox.mark_finished(str(row.pk), state="SUCCESS")
    assert not outbox.mark_started(str(row.pk))  # a late redelivery of a finished task
    assert outbox.is_finished(str(row.pk))


@pytest.mark.django_db(transaction=True)
def test_one_unfinished_row_per_key_is_a_database_rule():
    from django.db import IntegrityError

    OutboxTask.objects.create(task="x", key="k")
    with pytest.raises(IntegrityError):
        OutboxTask.objects.create(task="x", key="k")
    OutboxTask.objects.create(task="x", key="k", status=OutboxStatus.DONE)  # finished ones do not count
    OutboxTask.objects.create(task="x")
    OutboxTask.objects.create(task="x")  # nor rows without a key


@pytest.mark.django_db
def test_a_key_keeps_one_unfinished_request():
    first = outbox.enqueue("recommendations.tasks.model_train", key="k", trigger="a")
    assert outbox.enqueue("recommendations.tasks.model_train", key="k", trigger="b").pk == first.pk
    OutboxTask.objects.filter(pk=first.pk).update(status=OutboxStatus.DONE)
    assert outbox.enqueue("recommendations.tasks.model_train", key="k", trigger="c").pk != first.pk


@pytest.mark.django_db
def test_the_sweeper_forgets_finished_rows_after_a_week():
    old = OutboxTask.objects.create(task="x", status=OutboxStatus.DONE, finished_at=timezone.now() - timedelta(days=8))
    recent = OutboxTask.objects.create(task="x", status=OutboxStatus.FAILED, finished_at=timezone.now())
    assert outbox.sweep()["purged"] == 1
    assert not OutboxTask.objects.filter(pk=old.pk).exists() and OutboxTask.objects.filter(pk=recent.pk).exists()


# --- a stuck request never blocks the next one; a dead worker's job is taken over --------------


@pytest.mark.django_db
def test_an_export_no_worker_started_does_not_block_the_next_request():
    user, _ = make_account("ann")
    with time_machine.travel(timezone.now() - timedelta(minutes=11), tick=False):
        stuck = exports.export_request_create(account=user, via="web")
    # Within the interval a live request blocks a second one...
    with pytest.raises(exports.ExportThrottled):
        ExportRequest.objects.filter(pk=stuck.pk).update(created_at=timezone.now())
        exports.export_request_create(account=user, via="web")
    ExportRequest.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    # ...a stuck one does not: it is marked failed and the new one queued.
    fresh = exports.export_request_create(account=user, via="web")
    assert fresh.pk != stuck.pk
    stuck.refresh_from_db()
    assert stuck.status == ExportStatus.FAILED and "stuck" in stuck.error


@pytest.mark.django_db
def test_an_export_whose_worker_died_is_taken_over():
    user, _ = make_account("ann")
    export = ExportRequest.objects.create(account=user)
    now = timezone.now()
    ExportRequest.objects.filter(pk=export.pk).update(
        status=ExportStatus.RUNNING, started_at=now - timedelta(minutes=2), heartbeat_at=now - timedelta(seconds=20)
    )
    # A live worker's export (recent heartbeat) is left alone...
    assert exports.export_build(export_id=str(export.pk)) is None
    # ...a dead one's (no heartbeat for longer than the lease) is finished by the next delivery.
    ExportRequest.objects.filter(pk=export.pk).update(heartbeat_at=now - timedelta(seconds=91))
    assert exports.export_build(export_id=str(export.pk)).status == ExportStatus.READY


@pytest.mark.django_db
def test_an_erasure_whose_worker_died_is_taken_over_and_retried_by_beat(django_capture_on_commit_callbacks):
    user, _ = make_account("ann")
    record = DeletionRecord.objects.create(account=user, status=DeletionStatus.RUNNING)
    now = timezone.now()
    DeletionRecord.objects.filter(pk=record.pk).update(
        started_at=now - timedelta(hours=1),
        heartbeat_at=now - timedelta(seconds=20),
        requested_at=now - timedelta(hours=1),
    )
    assert erasure.erasures_retry() == 0  # alive
    DeletionRecord.objects.filter(pk=record.pk).update(heartbeat_at=now - timedelta(seconds=91))
    with django_capture_on_commit_callbacks(execute=True):
        assert erasure.erasures_retry() == 1
    record.refresh_from_db()
    assert record.status == DeletionStatus.DONE and record.account is None


@pytest.mark.django_db
def test_an_insights_run_whose_worker_died_does_not_block_a_new_one():
    snap, created = snapshot_request(trigger="manual")
    assert created
    InsightsSnapshot.objects.filter(pk=snap.pk).update(
        status=SnapshotStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    assert snapshot_request(trigger="manual") == (InsightsSnapshot.objects.get(pk=snap.pk), False)
    InsightsSnapshot.objects.filter(pk=snap.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=91))
    again, created = snapshot_request(trigger="manual")
    assert created and again.pk != snap.pk
    snap.refresh_from_db()
    assert snap.status == SnapshotStatus.FAILED and "interrupted" in snap.error
