"""Faults on the full stack (issue 11, requirement 7), with real processes.

Each test starts its own `redis-server` on a free port, and the product's own gunicorn, Celery
worker and beat against pytest's PostgreSQL test database; the machine's PostgreSQL and Redis
stay untouched. Then it breaks something for real (stops or restarts that Redis, kill -9s the
worker in the middle of an export or a training, terminates the database's connections) and
asserts that nothing is lost, nothing stays stuck, and recovery comes within a bound.

Timings are shortened through the product's own settings (leases of 6 s instead of 90, a
sweep every 2 s instead of 60), so the bounds below are those settings plus slack.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.authtoken.models import Token

from catalog.models import Rating
from ops import leases
from ops.models import UNFINISHED, OutboxStatus, OutboxTask
from privacy.models import ExportRequest, ExportStatus
from recommendations import training
from recommendations.models import ModelStatus, ModelVersion
from recommendations.tasks import LEASE
from tests.support import ROOT
from tests.support.accounts import PASSWORD, make_account
from tests.support.factories import RatingFactory, TitleFactory
from tests.support.services import RedisServer, Web, beat, shared_database_url, wait_for, worker
from tests.support.training_world import build_world

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 6
# How long recovery may take after a fault: a lease or dead-worker window, a sweep, a start.
RECOVERY_SECONDS = 90


@pytest.fixture
def stack(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: web, worker and beat processes share pytest's test database")
    if not shutil.which("redis-server"):
        if os.environ.get("CI") == "true":  # CI must run these, never pass by skipping
            pytest.fail("redis-server is not installed")
        pytest.skip("needs redis-server")
    redis = RedisServer(tmp_path).start()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": shared_database_url(),
        "REDIS_URL": redis.url,
        "TEST_CELERY_EAGER": "false",
        "TEST_PRIVATE_ROOT": str(settings.PRIVATE_ROOT),
        "CACHE_KEY_PREFIX": f"faults-{redis.port}",
        "API_THROTTLE": "off",
        "JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "OUTBOX_PENDING_GRACE_SECONDS": "1",
        "OUTBOX_REDISPATCH_SECONDS": "4",
        "OUTBOX_HEARTBEAT_SECONDS": "1",
        "OUTBOX_DEAD_AFTER_SECONDS": str(LEASE_SECONDS),
        "OUTBOX_SWEEP_SECONDS": "2",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("TEST_SLOW_EXPORT_SECONDS", None)
    env.pop("TEST_RECOMMENDER_PARAMS", None)
    procs = {"redis": redis}

    class Stack:
        def __init__(self):
            self.env, self.redis, self.log_dir = env, redis, tmp_path

        def start(self, name, factory, **extra_env):
            proc = factory({**env, **extra_env}, tmp_path, *(() if name in ("web", "beat") else (name,)))
            procs[name] = proc.start()
            return proc

        def web(self, **extra):
            return self.start("web", Web, **extra)

        def worker(self, name="worker", **extra):
            return self.start(name, worker, **extra)

        def beat(self):
            return self.start("beat", beat)

        def logs(self) -> str:
            return "\n".join(f"--- {n}\n{p.output()[-4000:]}" for n, p in procs.items())

    s = Stack()
    try:
        yield s
    except BaseException:
        print(s.logs())
        raise
    finally:
        for proc in procs.values():
            proc.stop()


def _account_token(username: str):
    user, profile = make_account(username)
    return user, profile, {"Authorization": f"Token {Token.objects.create(user=user).key}"}


def _export_of(user) -> ExportRequest:
    exports = list(ExportRequest.objects.filter(account=user))
    assert len(exports) == 1, exports  # nothing duplicated
    return exports[0]


def _no_stuck_outbox_rows():
    return wait_for(
        lambda: not OutboxTask.objects.filter(status__in=UNFINISHED).exclude(task="ops.tasks.outbox_sweep").exists(),
        timeout=30,
        what="every outbox row finished",
    )


def test_redis_down_an_export_is_accepted_and_done_once_redis_returns(stack):
    user, profile, auth = _account_token("ann")
    _, titles = build_world(n_profiles=20, n_titles=20)
    for title in titles[:4]:
        RatingFactory(profile=profile, title=title, value="love")
    training.train_and_register(trigger="fault-test")  # a serving model, for the home below
    web = stack.web()
    stack.worker()
    stack.beat()
    stack.redis.kill()  # Redis goes away: broker and cache both

    started = time.monotonic()
    status, _, body = web.request("POST", "/api/v1/privacy/exports/", headers=auth)
    assert status == 202, body
    answered = time.monotonic() - started
    print(f"fault: Redis down; POST privacy/exports/ answered 202 in {answered * 1000:.0f} ms")
    assert answered < 5
    export = _export_of(user)
    assert export.status == ExportStatus.PENDING
    row = OutboxTask.objects.get(task="privacy.tasks.export_build")
    assert row.status == OutboxStatus.PENDING and row.last_error

    # Meanwhile the model in memory keeps personalizing, with one warning, not one per request.
    status, _, body = web.request(
        "POST", "/api/v1/auth/token/", body={"username": "ann", "password": PASSWORD, "profile": profile.pk}
    )
    assert status == 200, body
    bound = {"Authorization": f"Token {body['token']}"}
    for _ in range(20):
        status, _, body = web.request("GET", f"/api/v1/profiles/{profile.pk}/home/", headers=bound)
        assert status == 200 and body["personalized"] is True, body
    web_log = web.output()
    # At most one per web process (gunicorn runs 2 here).
    assert web_log.count("cache unreachable") <= 2, web_log[-3000:]
    assert "Traceback" not in web_log, web_log[-3000:]
    # Readiness tells the truth.
    status, headers, body = web.request("GET", "/readyz")
    assert status == 503 and "Retry-After" in headers, body

    stack.redis.start()  # back, empty
    back_at = time.monotonic()
    wait_for(
        lambda: ExportRequest.objects.get(pk=export.pk).status == ExportStatus.READY,
        timeout=RECOVERY_SECONDS,
        what="the export finished after Redis came back",
    )
    print(f"fault: Redis down; the export finished {time.monotonic() - back_at:.1f} s after Redis returned")
    assert (Path(settings.EXPORT_ROOT) / _export_of(user).file_name).is_file()
    _no_stuck_outbox_rows()
    wait_for(lambda: web.request("GET", "/readyz")[0] == 200, timeout=10, what="ready again")
    # The access log has each request, without its query string (search terms travel there).
    web.request("GET", "/search/?q=quietriverlog")
    wait_for(lambda: '"GET /search/ ' in web.output(), timeout=5, what="the access log line")
    assert "quietriverlog" not in web.output()


def test_an_export_queued_before_a_redis_restart_is_not_lost(stack):
    user, _, auth = _account_token("ann")
    web = stack.web()
    stack.beat()
    status, _, body = web.request("POST", "/api/v1/privacy/exports/", headers=auth)
    assert status == 202, body
    row = wait_for(
        lambda: OutboxTask.objects.filter(task="privacy.tasks.export_build", status=OutboxStatus.SENT).first(),
        timeout=10,
        what="the broker accepted the export",
    )
    stack.redis.kill()
    status, headers, _ = web.request("GET", "/readyz")
    assert status == 503 and "Retry-After" in headers  # told the truth while it was down
    stack.redis.start()  # empty: the queued message is gone with it
    restarted_at = time.monotonic()
    stack.worker()
    wait_for(
        lambda: _export_of(user).status == ExportStatus.READY,
        timeout=RECOVERY_SECONDS,
        what="the lost export was handed over again and finished",
    )
    print(f"fault: Redis restart lost the queued export; finished {time.monotonic() - restarted_at:.1f} s later")
    assert OutboxTask.objects.get(pk=row.pk).status == OutboxStatus.DONE
    _no_stuck_outbox_rows()


def test_a_worker_killed_mid_export_is_replaced_and_the_export_finishes(stack):
    user, _, auth = _account_token("ann")
    web = stack.web()
    stack.beat()
    first = stack.worker("worker-1", TEST_SLOW_EXPORT_SECONDS="30")
    status, _, body = web.request("POST", "/api/v1/privacy/exports/", headers=auth)
    assert status == 202, body
    wait_for(lambda: _export_of(user).status == ExportStatus.RUNNING, timeout=30, what="the export started")
    time.sleep(1)
    first.kill()  # kill -9 the worker and its pool child, mid-export

    killed_at = time.monotonic()
    stack.worker("worker-2", TEST_SLOW_EXPORT_SECONDS="1")
    wait_for(
        lambda: _export_of(user).status == ExportStatus.READY,
        timeout=RECOVERY_SECONDS,
        what="the export was taken over and finished",
    )
    recovered = time.monotonic() - killed_at
    print(f"fault: worker killed mid-export; the export finished {recovered:.1f} s later")
    # Lease 6 s + dead-worker window 6 s + a sweep + a 1 s export, with room for a loaded host.
    assert recovered < 60
    assert (Path(settings.EXPORT_ROOT) / _export_of(user).file_name).is_file()
    _no_stuck_outbox_rows()
    # The web never stopped being ready: a worker is not its dependency.
    assert web.request("GET", "/readyz")[0] == 200


def test_a_worker_killed_mid_training_does_not_wedge_training(stack):
    build_world(n_profiles=30, n_titles=24)
    stack.beat()
    # A fit long enough to be killed in the middle of.
    first = stack.worker("trainer-1", TEST_RECOMMENDER_PARAMS='{"epochs": 100000, "epoch_budget": 1000000000}')
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from recommendations.tasks import train_request; train_request(trigger='fault-test')",
        ],
        cwd=ROOT,
        env=stack.env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    orphan = wait_for(
        lambda: ModelVersion.objects.filter(status=ModelStatus.TRAINING).first(), timeout=60, what="training began"
    )
    assert leases.current(LEASE) is not None
    time.sleep(2)
    first.kill()  # kill -9 mid-fit

    killed_at = time.monotonic()
    stack.worker("trainer-2")
    serving = wait_for(
        lambda: ModelVersion.objects.filter(status=ModelStatus.SERVING).first(),
        timeout=RECOVERY_SECONDS + 60,
        what="a new worker took the training over and promoted a model",
    )
    recovered = time.monotonic() - killed_at
    assert recovered < 120  # the lease and sweep windows, plus a fresh fit on a loaded host
    assert serving.trigger == "fault-test"
    orphan.refresh_from_db()
    assert orphan.status == ModelStatus.FAILED and "interrupted" in orphan.error
    wait_for(lambda: leases.current(LEASE) is None, timeout=10, what="the lease was released")
    _no_stuck_outbox_rows()
    print(f"fault: worker killed mid-training; a model served {recovered:.1f} s later")


def test_database_connections_terminated_under_writes_lose_nothing_acknowledged(stack):
    _user, profile, _ = _account_token("ann")
    titles = TitleFactory.create_batch(4)
    web = stack.web()
    status, _, body = web.request(
        "POST", "/api/v1/auth/token/", body={"username": "ann", "password": PASSWORD, "profile": profile.pk}
    )
    assert status == 200, body
    auth = {"Authorization": f"Token {body['token']}"}
    values = ["down", "up", "love"]
    acknowledged: dict[int, str] = {}
    attempted_after: dict[int, list[str]] = {t.pk: [] for t in titles}
    statuses: list[int] = []
    stop = threading.Event()

    def writer(title_id: int) -> None:
        i = 0
        while not stop.is_set():
            value = values[i % 3]
            i += 1
            status, _, _ = web.request(
                "PUT",
                f"/api/v1/profiles/{profile.pk}/ratings/{title_id}/",
                body={"value": value},
                headers=auth,
                timeout=20,
            )
            statuses.append(status)
            if status in (200, 201):
                acknowledged[title_id] = value
                attempted_after[title_id] = []
            else:
                attempted_after[title_id].append(value)

    threads = [threading.Thread(target=writer, args=(t.pk,)) for t in titles]
    for t in threads:
        t.start()
    time.sleep(1.5)
    with connection.cursor() as cur:
        for _ in range(3):
            cur.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            time.sleep(0.5)
    time.sleep(1.5)
    stop.set()
    for t in threads:
        t.join(timeout=30)

    print("statuses under pg_terminate_backend:", {code: statuses.count(code) for code in set(statuses)})
    # Nothing answered 500: a dropped connection is a 503 (with Retry-After) at worst.
    assert 500 not in statuses, statuses
    assert statuses.count(200) + statuses.count(201) > 10
    # Recovered: the next writes go through.
    assert web.request(
        "PUT", f"/api/v1/profiles/{profile.pk}/ratings/{titles[0].pk}/", body={"value": "love"}, headers=auth
    )[0] in (200, 201)
    assert web.request("GET", "/readyz")[0] == 200
    acknowledged[titles[0].pk] = "love"
    attempted_after[titles[0].pk] = []
    stored = dict(Rating.objects.filter(profile=profile).values_list("title_id", "value"))
    for title_id, value in acknowledged.items():
        # The last acknowledged value, or a later attempt whose answer was lost with its connection.
        assert stored[title_id] in [value, *attempted_after[title_id]], (title_id, stored[title_id], value)
