"""End to end on real services: a real `celery worker` process on Redis trains and promotes a model.

Runs only with REDIS_URL set and PostgreSQL as the database (the worker, another process, must
see pytest's test database; SQLite's in-memory test database cannot be shared).
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from recommendations.models import ModelStatus, ModelVersion
from tests.support import ROOT
from tests.support.services import shared_database_url
from tests.support.training_world import build_world

pytestmark = pytest.mark.celery_worker


@pytest.mark.django_db(transaction=True)
def test_real_worker_trains_and_promotes():
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL (a real broker)")
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the worker process must share pytest's test database")
    from config.celery import app
    from recommendations.tasks import model_train

    build_world(n_profiles=30, n_titles=24)
    env = {
        **os.environ,
        "DATABASE_URL": shared_database_url(),
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "TEST_PRIVATE_ROOT": str(settings.PRIVATE_ROOT),
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            # Training is routed to its own queue (CELERY_TASK_ROUTES): this one worker takes both.
            "-Q",
            "celery,training",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    serving = None
    try:
        model_train.delay(trigger="worker-test")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and worker.poll() is None:
            serving = ModelVersion.objects.filter(status=ModelStatus.SERVING).first()
            if serving is not None:
                break
            time.sleep(1)
        assert worker.poll() is None, "the worker died"
        assert serving is not None, "no model was promoted within 120 s"
        assert serving.trigger == "worker-test"
        assert serving.metrics["ndcg@10"] > serving.baseline_metrics["ndcg@10"]
        assert (Path(settings.MODEL_ROOT) / serving.version / "items.npz").is_file()
    finally:
        app.conf.task_always_eager = was_eager
        worker.terminate()
        try:
            out, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            out, _ = worker.communicate()
        if serving is None:
            print(out[-5000:])
