"""Shared plumbing for the bench scripts: one child process per database, so each starts clean.

Each benchmark runs in a fresh database: a temporary SQLite file always, and (when
DATABASE_URL points at PostgreSQL) a scratch database `<name>_bench_<what>` on that server,
created before and dropped after, so the database named in DATABASE_URL is never touched.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def setup_django(database_url: str, *, migrate: bool = True) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("HTTPS", "false")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if not migrate:
        return
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _admin_connect(url: str):
    import psycopg

    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    return psycopg.connect(admin_url, autocommit=True)


def _scratch_postgres(url: str, what: str) -> str:
    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'marquee'}_bench_{what}"
    with _admin_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def _drop_postgres(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with _admin_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_json_child(args: list[str], *, env: dict, label: str = "the child") -> dict:
    """Run `python <args>` (one of our bench scripts as a child) and answer the last JSON line it
    printed; on a failure show its output's tail and stop."""
    proc = subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
        raise SystemExit(f"{label}: the benchmark failed (exit {proc.returncode})")
    return json.loads(lines[-1])


def run_children(script: str, what: str, extra_args: list[str]) -> list[dict]:
    """Run `script --child URL` against SQLite (and PostgreSQL if configured); collect their JSON."""
    results = []
    with tempfile.TemporaryDirectory(prefix=f"marquee-bench-{what}-") as tmp:
        targets = ["sqlite"]
        given = os.environ.get("DATABASE_URL", "")
        if given.startswith(("postgres://", "postgresql://", "pgsql://")):
            targets.append("postgresql")
        for label in targets:
            print(f"-- {label}: running ...", flush=True)
            # The scratch PostgreSQL database exists only while its child runs.
            url = f"sqlite:///{tmp}/bench.sqlite3" if label == "sqlite" else _scratch_postgres(given, what)
            env = {**os.environ, "DATABASE_URL": url}
            try:
                result = run_json_child([script, "--child", url, *extra_args], env=env, label=label)
            finally:
                if label == "postgresql":
                    _drop_postgres(url)
            result["database"] = label
            results.append(result)
    return results


def seeded_demo(database_url: str) -> float:
    """For an in-process page bench: Django on a fresh database, DEBUG off, `seed_demo` run.
    Returns the seconds the seeding took.

    DEBUG goes off at run time, as in production (no query log, no debug pages); the static
    storage chosen at start-up stays the plain one, so no collectstatic is needed. Not
    setup_test_environment(): it instruments every template render and would skew the timings.
    """
    import time

    # The test Client calls itself "testserver".
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    setup_django(database_url)
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False
    started = time.perf_counter()
    with open(os.devnull, "w") as devnull:
        call_command("seed_demo", stdout=devnull)
    return time.perf_counter() - started


def demo_client():
    """(Django test Client signed in as the demo account, with its first grown-up profile active; that profile)."""
    from django.test import Client

    from accounts.active import SESSION_KEY
    from accounts.models import User

    user = User.objects.get(username="demo")
    profile = user.profiles.filter(is_kids=False).order_by("created_at", "id").first()
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = profile.pk
    session.save()
    return client, profile
