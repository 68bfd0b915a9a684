"""The embedded stack's background threads (ops.background): a task queued by a request runs
after the request has answered, in a thread of the web process, with the same outbox row.

These tests run the thread path (OUTBOX_EAGER_THREADS, the embedded default) on a real
database; the rest of the suite runs tasks inline so it sees their effect at once.
"""

import threading

import pytest
from celery import shared_task
from django.db import transaction
from django.urls import reverse

from ops import background, outbox
from ops.models import OutboxStatus, OutboxTask
from privacy.models import ExportRequest, ExportStatus
from tests.support.accounts import make_account, signed_in_client

pytestmark = pytest.mark.django_db(transaction=True)

GATE = threading.Event()
SEEN: dict[str, str] = {}


@shared_task(name="tests.ops.test_background.gated")
def gated(label: str) -> str:
    SEEN[label] = threading.current_thread().name
    if not GATE.wait(timeout=20):
        raise TimeoutError("the test never opened the gate")
    return label


@shared_task(name="tests.ops.test_background.broken")
def broken() -> None:
    raise RuntimeError("this task always fails")


@pytest.fixture
def threads(settings):
    settings.OUTBOX_EAGER_THREADS = True
    GATE.clear()
    SEEN.clear()
    yield
    GATE.set()
    assert background.wait_idle(timeout=20)


def _status(row) -> str:
    row.refresh_from_db()
    return row.status


def test_the_task_runs_after_commit_in_another_thread_and_the_caller_does_not_wait(threads):
    with transaction.atomic():
        row = outbox.enqueue("tests.ops.test_background.gated", "one")
        assert _status(row) == OutboxStatus.PENDING  # nothing runs before the commit
    # The commit returned while the task is still blocked: the caller did not wait for it.
    assert _status(row) in (OutboxStatus.SENT, OutboxStatus.STARTED)
    assert background.running() == 1
    GATE.set()
    assert background.wait_idle(timeout=20)
    assert _status(row) == OutboxStatus.DONE
    assert SEEN["one"].startswith("bg:") and SEEN["one"] != threading.current_thread().name


def test_a_failing_task_marks_its_row_failed_and_never_reaches_the_caller(threads, caplog):
    with transaction.atomic():
        row = outbox.enqueue("tests.ops.test_background.broken")
    assert background.wait_idle(timeout=20)
    assert _status(row) == OutboxStatus.FAILED
    assert "RuntimeError: this task always fails" in row.last_error
    assert "background task tests.ops.test_background.broken failed" in caplog.text


def test_a_rolled_back_request_runs_nothing(threads):
    with pytest.raises(ValueError), transaction.atomic():
        outbox.enqueue("tests.ops.test_background.gated", "never")
        raise ValueError("the request failed")
    assert background.wait_idle(timeout=5)
    assert "never" not in SEEN
    assert not OutboxTask.objects.exists()


def test_a_web_export_request_answers_first_and_the_export_is_built_in_the_background(threads):
    user, profile = make_account("bea")
    client = signed_in_client(user, profile)
    response = client.post(reverse("privacy-export-create"))
    assert response.status_code in (200, 302), response.content[:300]
    export = ExportRequest.objects.get(account=user)
    assert background.wait_idle(timeout=60)
    export.refresh_from_db()
    assert export.status == ExportStatus.READY
    assert OutboxTask.objects.get(task="privacy.tasks.export_build").status == OutboxStatus.DONE
