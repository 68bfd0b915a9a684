"""A cache outage does not turn personalization off (issue 11, requirement 3).

The cache is a real Redis client pointed at a port where nothing listens (a stopped Redis
refuses connections exactly like this); the suite's fault tests (tests/ops/test_faults.py)
also stop a real running Redis under a live server.
"""

import logging
import shutil
import socket
import time

import pytest
from django.core.cache import caches

from tests.support.accounts import signed_in_client
from tests.support.recommender import install_model, rate
from tests.support.services import RedisServer

pytestmark = pytest.mark.usefixtures("rec_env")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "common.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    yield caches["default"]


def test_every_cache_operation_answers_as_a_miss(redis_down, caplog):
    cache = redis_down
    caplog.set_level(logging.WARNING, logger="common.cache")
    started = time.perf_counter()
    for _ in range(50):
        assert cache.get("k", "fallback") == "fallback"
        assert cache.set("k", 1) is False
        assert cache.add("k", 1) is True
        assert cache.get_many(["a", "b"]) == {}
        assert cache.delete("k") is False
        assert cache.incr("n", 3) == 3
        assert cache.has_key("k") is False
    elapsed = time.perf_counter() - started
    # 350 operations: the breaker skips Redis after the first refusal instead of retrying each.
    assert elapsed < 2.0
    assert cache.is_down()
    outage_lines = [r for r in caplog.records if "cache unreachable" in r.getMessage()]
    assert len(outage_lines) == 1


def test_home_stays_personalized_while_the_cache_is_down(owner, cat, redis_down, caplog):
    user, profile = owner
    install_model(cat)
    rate(profile, cat.by_genre["drama"][2:4])
    client = signed_in_client(user, profile)
    caplog.set_level(logging.WARNING)
    for _ in range(10):
        response = client.get(f"/api/v1/profiles/{profile.pk}/home/")
        assert response.status_code == 200
        data = response.json()
        assert data["personalized"] is True and data["model_version"] == "v1"
        assert data["rows"][0]["key"] == "top-picks"
    html = client.get("/")
    assert html.status_code == 200 and html.context["home"].personalized
    # One warning for the outage, not a traceback per request.
    assert not [r for r in caplog.records if r.exc_info]
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) <= 2


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")
def test_the_cache_comes_back_the_moment_redis_does(settings, tmp_path):
    """A real redis-server, stopped and started again: the breaker keeps Redis out of the
    request path while it is down, and the readiness probe closes it as soon as Redis answers."""
    redis = RedisServer(tmp_path).start()
    try:
        settings.CACHES = {
            "default": {
                "BACKEND": "common.cache.ResilientRedisCache",
                "LOCATION": redis.url,
                "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
            }
        }
        cache = caches["default"]
        assert cache.set("k", "v") is not False and cache.get("k") == "v"
        redis.kill()
        assert cache.get("k") is None and cache.is_down()
        assert cache.probe() is False
        redis.start()  # empty: it keeps nothing
        assert cache.is_down()  # still skipped by requests for a few seconds...
        assert cache.probe() is True and not cache.is_down()  # ...unless the probe sees it back
        cache.set("k", "again")
        assert cache.get("k") == "again"
    finally:
        redis.stop()
