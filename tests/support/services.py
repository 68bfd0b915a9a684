"""Real processes for the fault tests: a private redis-server, and the product's own web
(gunicorn), Celery worker and beat, each in its own process group so a test can kill -9 it
and its children. The machine's own PostgreSQL and Redis are never touched."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

from django.db import connection

from tests.support import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shared_database_url() -> str:
    """pytest's test database, for another process (PostgreSQL only)."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{db['NAME']}"


def wait_for(predicate, *, timeout: float, every: float = 0.25, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)


class Managed:
    """One child process in its own session; its output goes to a log file."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path) -> None:
        self.name, self.argv, self.env = name, argv, env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Managed:
        log = self.log_path.open("a")
        self.proc = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (a prefork worker's pool children too)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            self.kill(signal.SIGTERM)
        elif self.proc is not None:
            # Reap stragglers of a group whose leader already exited.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class RedisServer(Managed):
    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        super().__init__(
            f"redis-{self.port}",
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            dict(os.environ),
            log_dir,
        )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> RedisServer:
        super().start()
        wait_for(self.ping, timeout=10, what="redis-server answers")
        return self

    def restart(self) -> None:
        """Stop and start on the same port: this Redis keeps nothing, so its queues are lost."""
        self.kill(signal.SIGTERM)
        self.start()


def celery(name: str, args: list[str], env: dict, log_dir: Path) -> Managed:
    return Managed(name, [sys.executable, "-m", "celery", "-A", "config", *args], env, log_dir)


def worker(env: dict, log_dir: Path, name: str = "worker") -> Managed:
    return celery(
        name,
        [
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "-Q",
            "celery,training",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            "-n",
            f"{name}-{free_port()}@%h",
        ],
        env,
        log_dir,
    )


def beat(env: dict, log_dir: Path) -> Managed:
    return celery("beat", ["beat", "--loglevel=INFO", "--schedule", str(log_dir / "beat-schedule")], env, log_dir)


class Web(Managed):
    def __init__(self, env: dict, log_dir: Path) -> None:
        self.port = free_port()
        super().__init__(
            "web",
            # The production configuration, two workers of it.
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
            {**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": "2", "GUNICORN_TIMEOUT": "60"},
            log_dir,
        )

    def start(self) -> Web:
        super().start()
        wait_for(lambda: self.request("GET", "/healthz")[0] == 200, timeout=60, what="gunicorn answers /healthz")
        return self

    def request(self, method: str, path: str, *, body=None, headers=None, timeout: float = 30):
        """(status, headers, parsed JSON or text). Connection failures are status 0."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, dict(resp.headers), _decode(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), _decode(exc.read())
        except OSError:
            return 0, {}, None


def _decode(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")
