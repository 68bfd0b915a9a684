"""Settings for the test suite: the real ones, made fast where speed costs nothing real."""

import os
from pathlib import Path

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("HTTPS", "false")

from .settings import *  # noqa: F403
from .settings import BASE_DIR, env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Test artefacts go to a scratch folder, never into the developer's var/.
PRIVATE_ROOT = Path(env("TEST_PRIVATE_ROOT", default=str(BASE_DIR / "var" / "test")))
MODEL_ROOT = PRIVATE_ROOT / "models"
EXPORT_ROOT = PRIVATE_ROOT / "exports"
MEDIA_ROOT = PRIVATE_ROOT / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Tasks run in-process in tests even when REDIS_URL is set, so a test sees a task's effect at
# once. The real-worker tests (marked `celery_worker`) switch `celery_app.conf.task_always_eager`
# off for their duration and start a real `celery worker` process against Redis.
CELERY_TASK_ALWAYS_EAGER = env.bool("TEST_CELERY_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
# ...inline, not in a background thread (ops.background): tests of the thread path (the embedded
# default) turn it on for themselves and wait with ops.background.wait_idle().
OUTBOX_EAGER_THREADS = env.bool("TEST_OUTBOX_EAGER_THREADS", default=False)

# The fault tests (tests/ops/test_faults.py) run web, worker and beat as processes under these
# settings; they slow a job down (so a worker can be killed in the middle of it) with:
RECOMMENDER_PARAMS = env.json("TEST_RECOMMENDER_PARAMS", default={})
if env.float("TEST_SLOW_EXPORT_SECONDS", default=0):
    INSTALLED_APPS = [*INSTALLED_APPS, "tests.support.slow_jobs"]  # noqa: F405

# The SQLite test database is a FILE, not Django's default shared in-memory one. With memory,
# the live server's threads all borrow the test thread's single connection, so concurrent
# requests are no race at all (tests/test_sqlite_concurrency.py); a file gives each thread its
# own connection, with the WAL / busy timeout / IMMEDIATE options of settings.py, as production.
# One name per process: other test runs on the machine (and xdist workers, which pytest-django
# suffixes anyway) never share a file. Django deletes the file at the end of the run.
_default_db = DATABASES["default"]  # noqa: F405
if _default_db["ENGINE"] == "django.db.backends.sqlite3" and not _default_db.get("TEST", {}).get("NAME"):
    import tempfile

    _default_db.setdefault("TEST", {})["NAME"] = f"{tempfile.gettempdir()}/marquee-test-{os.getpid()}.sqlite3"
