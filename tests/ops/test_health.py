"""Health, readiness and metrics (/healthz, /readyz, /metrics) and the database-outage 503.

Outages are real, not mocked: the cache and the broker point at a TCP port nobody listens on,
and the database's connection settings at a file that cannot exist (SQLite) or a closed port
(PostgreSQL).
"""

import json
import socket
import time
from contextlib import contextmanager

import pytest
from celery import current_app
from django.db import connection
from django.test import Client
from django.urls import reverse
from prometheus_client import REGISTRY

from ops import health
from ops.models import OutboxTask
from tests.support.accounts import make_account, signed_in_client
from tests.support.recommender import Catalog, install_model, rate


def closed_port() -> int:
    """A local TCP port that refuses connections (bound once, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def _fresh_health():
    health.reset()
    yield
    health.reset()


@pytest.fixture
def rec_env(settings, tmp_path):
    settings.MODEL_ROOT = tmp_path / "models"


@contextmanager
def database_down():
    """The default connection, reconnected to a database that cannot be reached."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-marquee-dir/db.sqlite3"
    else:
        connection.settings_dict.update({"HOST": "127.0.0.1", "PORT": str(closed_port())})
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@contextmanager
def broker_at(url: str):
    """Celery as deployed (tasks go to a broker), its broker at `url`."""
    conf = current_app.conf
    saved = conf.task_always_eager, conf.broker_url, conf.broker_write_url
    conf.task_always_eager, conf.broker_url, conf.broker_write_url = False, url, url
    try:
        yield
    finally:
        conf.task_always_eager, conf.broker_url, conf.broker_write_url = saved


def scrape(client, **extra) -> str:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


# --- /healthz ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_answers_anonymously_touching_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]
    # The slash form answers as well: no APPEND_SLASH redirect either way.
    assert client.get("/healthz/").status_code == 200
    assert reverse("healthz") == "/healthz"


@pytest.mark.django_db
def test_probes_skip_the_session_even_when_a_browser_sends_one(owner, django_assert_num_queries):
    user, profile = owner
    browser = signed_in_client(user, profile)
    # No session row, user or profile is read for a probe.
    with django_assert_num_queries(0):
        assert browser.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_probes_answer_head_and_still_check_the_host(client, settings):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405
    # A load balancer must send a Host the site answers to (README "Operations").
    assert client.get("/healthz", HTTP_HOST="10.0.0.7").status_code == 400
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "10.0.0.7"]
    assert client.get("/healthz", HTTP_HOST="10.0.0.7").status_code == 200


@pytest.mark.django_db
def test_probes_are_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/metrics").status_code == 200
    page = client.get("/accounts/login/")
    assert page.status_code == 301 and page["Location"].startswith("https://")


# --- /readyz ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_readyz_is_ready_on_the_working_stack_and_names_each_check(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ready"
    assert list(body["checks"]) == ["database", "migrations", "cache", "broker", "model"]
    for name in ("database", "migrations", "cache", "broker"):
        assert body["checks"][name]["ok"] is True
        assert isinstance(body["checks"][name]["ms"], float)
    # Tests run tasks in-process: there is no broker to ask.
    assert body["checks"]["broker"]["state"] == "in-process (no broker)"
    # No model is no reason to leave the load balancer: the home serves non-personal rows.
    assert body["checks"]["model"] == {
        "ok": True,
        "state": "fallback: no model yet",
        "ms": pytest.approx(0, abs=1e3),
        "required": False,
    }
    assert "Retry-After" not in response


@pytest.mark.django_db
def test_readyz_reports_the_serving_model_without_loading_it(client, rec_env):
    from recommendations import serving

    install_model(Catalog(per_genre=2), "v7")
    state = client.get("/readyz").json()["checks"]["model"]["state"]
    assert state == "serving v7 (not loaded in this process yet)"
    assert serving._state.model is None
    serving.get_model()
    assert client.get("/readyz").json()["checks"]["model"]["state"] == "serving v7"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("backend", "error"),
    [
        ("django.core.cache.backends.redis.RedisCache", {"error": "ConnectionError"}),
        # Production's: it serves errors as misses; its probe asks Redis past the breaker.
        ("common.cache.ResilientRedisCache", {"state": "unreachable"}),
    ],
)
def test_readyz_is_503_with_retry_after_when_the_cache_is_down(client, settings, backend, error):
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": f"redis://127.0.0.1:{closed_port()}/0"}}
    settings.READINESS_RETRY_AFTER = 10
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 2.5
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["cache"] == {"ok": False, **error, "ms": pytest.approx(0, abs=2.5e3)}
    assert body["checks"]["database"]["ok"] is True
    # /healthz does not care: the process is alive.
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_readyz_answers_in_time_when_the_cache_hangs(client, settings):
    """A Redis that takes the connection and never answers (a hung server, a full backlog):
    the client has no timeout of its own here, the probe's deadline bounds it."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections complete in the kernel's backlog; nobody reads them
        port = silent.getsockname()[1]
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{port}/0",
            }
        }
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started
    # Closing the listener resets the pending connection: the stuck check thread ends too.
    assert elapsed < 2.5
    assert response.status_code == 503
    assert response.json()["checks"]["cache"]["error"] == "timed out"


@pytest.mark.django_db
def test_readyz_is_503_when_the_broker_is_down(client):
    with broker_at(f"redis://127.0.0.1:{closed_port()}/0"):
        started = time.monotonic()
        response = client.get("/readyz")
        assert time.monotonic() - started < 2.5
    assert response.status_code == 503
    broker = response.json()["checks"]["broker"]
    assert broker["ok"] is False and "error" in broker


@pytest.mark.django_db
def test_readyz_optional_checks_are_reported_without_failing_readiness(client, settings):
    settings.READINESS_OPTIONAL = ["broker"]
    with broker_at(f"redis://127.0.0.1:{closed_port()}/0"):
        response = client.get("/readyz")
    assert response.status_code == 200
    broker = response.json()["checks"]["broker"]
    assert broker["ok"] is False and broker["required"] is False


@pytest.mark.django_db
def test_readyz_sees_a_working_broker(client, settings):
    import os

    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs REDIS_URL")
    with broker_at(url):
        response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["broker"] == {"ok": True, "state": "connected", "ms": pytest.approx(0, abs=2e3)}


@pytest.mark.django_db
def test_readyz_is_503_while_migrations_are_unapplied(client, monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("ops.0099_pending", False)])
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == {
        "ok": False,
        "state": "1 unapplied",
        "ms": pytest.approx(0, abs=5e3),
    }


# --- Database outage: 503 everywhere, not 500 ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_database_outage_answers_503_on_pages_and_api_and_readyz_names_it(owner, settings):
    settings.DATABASE_UNAVAILABLE_RETRY_AFTER = 30
    user, profile = owner
    browser = signed_in_client(user, profile)
    anonymous = Client()  # a browser without a session
    # The test client re-raises any exception a request logged (got_request_exception), even
    # one answered with a response: look at the responses, as a browser would.
    browser.raise_request_exception = anonymous.raise_request_exception = False
    with database_down():
        # A signed-in page: the session is read by a middleware before any view runs.
        page = browser.get("/")
        # The login form posted: the view (authentication) queries.
        login = anonymous.post("/accounts/login/", {"username": "owner", "password": "x"})
        # The API: a DRF view, whose exception handler would otherwise answer a JSON 500.
        api = anonymous.get("/api/v1/titles/")
        api_signed_in = browser.get("/api/v1/titles/")
        healthz = anonymous.get("/healthz")
        readyz = anonymous.get("/readyz")
        metrics = anonymous.get("/metrics")

    for response in (page, login):
        assert response.status_code == 503, response.status_code
        assert response["Retry-After"] == "30"
        assert response["Content-Type"].startswith("text/html")
        assert b"Back in a moment" in response.content
    for response in (api, api_signed_in):
        assert response.status_code == 503, (response.status_code, response.content)
        assert response["Retry-After"] == "30"
        assert "detail" in json.loads(response.content)
    assert healthz.status_code == 200
    assert readyz.status_code == 503 and readyz["Retry-After"]
    checks = readyz.json()["checks"]
    assert checks["database"]["ok"] is False and checks["database"]["error"] == "OperationalError"
    assert checks["migrations"]["ok"] is False
    # The scrape still answers; the database's figures are missing and say so.
    assert metrics.status_code == 200
    body = metrics.content.decode()
    assert 'marquee_metrics_collector_up{collector="outbox"} 0.0' in body
    assert "marquee_outbox_depth " not in body
    # Back up: the same pages answer again.
    assert browser.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_other_errors_are_still_500(client, monkeypatch):
    from ops import views

    def boom():
        raise RuntimeError("not the database")

    monkeypatch.setattr(views.health, "readiness", boom)
    client.raise_request_exception = False
    assert client.get("/readyz").status_code == 500


# --- /metrics -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_are_for_the_allowed_networks_or_the_token(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.1/32", "::1/128"]
    settings.METRICS_TOKEN = ""
    outside = "203.0.113.5"
    assert client.get("/metrics", REMOTE_ADDR=outside).status_code == 404
    # X-Forwarded-For is the client's to write: never trusted for this.
    assert client.get("/metrics", REMOTE_ADDR=outside, HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 404
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    # A request a reverse proxy beside gunicorn passed on arrives from 127.0.0.1 too: its
    # forwarding headers show it is someone else's, so only the token would let it in.
    for header in ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP"):
        assert client.get("/metrics", **{header: "203.0.113.5"}).status_code == 404
    # No token configured: a bearer header opens nothing.
    assert client.get("/metrics", REMOTE_ADDR=outside, HTTP_AUTHORIZATION="Bearer ").status_code == 404

    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", REMOTE_ADDR=outside, HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200
    proxied = {"HTTP_X_FORWARDED_FOR": outside, "HTTP_AUTHORIZATION": "Bearer s3cret-token"}
    assert client.get("/metrics", **proxied).status_code == 200
    assert client.get("/metrics", REMOTE_ADDR=outside, HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR=outside, HTTP_AUTHORIZATION="Token s3cret-token").status_code == 404

    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
def test_metrics_expose_request_latency_and_the_outbox(client):
    client.get("/healthz")
    OutboxTask.objects.create(task="privacy.tasks.export_build", args=["x"])
    body = scrape(client)
    assert 'marquee_http_request_duration_seconds_bucket{le="0.005",method="GET",status="2xx",view="healthz"}' in body
    assert "marquee_outbox_depth 1.0" in body
    assert 'marquee_celery_tasks{status="pending",task="privacy.tasks.export_build"} 1.0' in body
    assert "marquee_outbox_oldest_pending_seconds " in body
    assert 'marquee_metrics_collector_up{collector="recommendations"} 1.0' in body
    # The scrape itself is not measured.
    client.get("/metrics")
    assert 'view="metrics"' not in scrape(client)


@pytest.mark.django_db
def test_metrics_count_fallbacks_and_report_the_serving_model(client, rec_env):
    from recommendations import serving

    user, profile = make_account("viewer")
    browser = signed_in_client(user, profile)

    def fallbacks(reason):
        return REGISTRY.get_sample_value("marquee_recommender_fallbacks_total", {"reason": reason}) or 0.0

    before = fallbacks("no-model")
    assert browser.get(reverse("home")).status_code == 200
    assert fallbacks("no-model") == before + 1
    body = scrape(client)
    assert 'marquee_recommender_fallbacks_total{reason="no-model"}' in body
    assert "marquee_model_serving_info{" not in body

    cat = Catalog(per_genre=4)
    mv = install_model(cat, "v3")
    mv.trigger, mv.duration_seconds = "manual", 12.5
    mv.save()
    serving.reset()  # the process asked the database a moment ago; ask again now
    rate(profile, cat.by_genre["drama"][:2])
    scored = REGISTRY.get_sample_value("marquee_scoring_seconds_count") or 0.0
    folded = REGISTRY.get_sample_value("marquee_foldin_seconds_count") or 0.0
    home = browser.get(reverse("home"))
    assert home.context["home"].personalized
    assert REGISTRY.get_sample_value("marquee_scoring_seconds_count") == scored + 1
    assert REGISTRY.get_sample_value("marquee_foldin_seconds_count") == folded + 1

    body = scrape(client)
    assert 'marquee_model_serving_info{version="v3"} 1.0' in body
    assert 'marquee_training_runs{status="serving",trigger="manual"} 1.0' in body
    assert 'marquee_training_last_duration_seconds{status="serving"} 12.5' in body
    assert "marquee_scoring_seconds_bucket" in body and "marquee_foldin_seconds_bucket" in body
    assert 'view="home"' in body


def test_api_exception_handler_hands_only_database_outages_to_the_middleware():
    from django.db.utils import OperationalError
    from rest_framework.exceptions import NotFound

    from ops.middleware import api_exception_handler

    assert api_exception_handler(OperationalError("gone"), {}) is None
    response = api_exception_handler(NotFound(), {})
    assert response.status_code == 404 and response.data == {"detail": "Not found."}


_WORKER = """
import django, sys
django.setup()
from ops import metrics
metrics.REQUEST_DURATION.labels(view="home", method="GET", status="2xx").observe(0.2)
if sys.argv[1] == "scrape":
    sys.stdout.write(metrics.render().decode())
"""


def test_metrics_add_up_across_worker_processes(tmp_path):
    """Gunicorn's workers each count; with PROMETHEUS_MULTIPROC_DIR a scrape of any sees all."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        # The scrape-time collectors find no database: the scrape answers all the same.
        "DATABASE_URL": "sqlite:////nonexistent-marquee-dir/db.sqlite3",
    }
    env.pop("REDIS_URL", None)
    root = Path(__file__).resolve().parents[2]
    for arg in ("observe", "scrape"):  # two workers, the second one scraped
        done = subprocess.run(
            [sys.executable, "-c", _WORKER, arg], env=env, cwd=root, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
    body = done.stdout
    assert 'marquee_http_request_duration_seconds_count{method="GET",status="2xx",view="home"} 2.0' in body
    assert 'marquee_metrics_collector_up{collector="outbox"} 0.0' in body
