"""Throughput and latency under concurrent load: a real gunicorn (config/gunicorn.conf.py) serving the demo.

    .venv/bin/python bench/bench_load.py                          # SQLite, 8 s per step
    .venv/bin/python bench/bench_load.py --seconds 10 --clients 1,4,16,32
    WEB_CONCURRENCY=5 GUNICORN_THREADS=1 .venv/bin/python bench/bench_load.py   # another sizing
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/marquee .venv/bin/python bench/bench_load.py  # + PostgreSQL

For each database (a fresh temporary SQLite file always; a scratch PostgreSQL database
`<name>_bench_load` when DATABASE_URL is PostgreSQL, dropped afterwards) it runs, as
subprocesses with production settings (DEBUG=false, HTTPS=false for plain HTTP, API_THROTTLE=off):
`migrate`, `createcachetable`, `seed_demo`, `train_recommender`, `collectstatic` into a temporary
STATIC_ROOT, then starts gunicorn with the project's config on a free port. It signs in through
the login form (CSRF token and all), selects the demo account's first grown-up profile through
the picker (`POST /profiles/<id>/select/`) and gets a token bound to that profile from
`POST /api/v1/auth/token/`.

Then, for each endpoint and each number of clients, that many closed-loop clients (threads, one
keep-alive `http.client` connection each: a client sends its next request as soon as the last
answer arrived) hit the endpoint for `--seconds`. It prints requests/s, p50/p95/p99 in ms and
each endpoint's p50 as a multiple of the static page's p50 at the same concurrency. The static
page is the privacy policy (a template and the session, no catalog query): the floor that
Django, gunicorn and the network cost; the ratio is what the endpoint's own work adds.

The load generator runs on the same machine as the server and takes CPU from it (at 32 clients
noticeably so on a small box): compare figures from one run, not across machines.
"""

import argparse
import http.client
import json
import os
import re
import runpy
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, _drop_postgres, _scratch_postgres

GUNICORN_CONF = ROOT / "config" / "gunicorn.conf.py"
DEMO_USER, DEMO_PASSWORD = "demo", "marquee-demo"


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- one HTTP client: a keep-alive connection, cookies, a CSRF token ---------------------------


class Client:
    def __init__(self, port: int, headers: dict | None = None):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.headers = headers or {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        hdrs = {**self.headers, **(headers or {})}
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=hdrs)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionError, http.client.BadStatusLine):
                # The server closed an idle keep-alive connection (or a worker restarted): once more.
                self.conn.close()
                if attempt:
                    raise
        for value in resp.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(value)
            for key, morsel in jar.items():
                self.cookies[key] = morsel.value
        return resp.status, resp.headers, data

    def close(self) -> None:
        self.conn.close()


def sign_in(port: int) -> tuple[dict[str, str], int, str]:
    """Log in through the form, select the first grown-up profile; answer (cookies, profile id, token)."""
    c = Client(port)
    status, _, page = c.request("GET", "/accounts/login/")
    assert status == 200, f"GET /accounts/login/ answered {status}"
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    form = urlencode({"csrfmiddlewaretoken": token, "username": DEMO_USER, "password": DEMO_PASSWORD}).encode()
    form_headers = {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://127.0.0.1:{port}/"}
    status, _, _ = c.request("POST", "/accounts/login/", form, form_headers)
    assert status == 302 and "sessionid" in c.cookies, f"the login form answered {status}"
    status, _, picker = c.request("GET", "/profiles/")
    assert status == 200, f"GET /profiles/ answered {status}"
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', picker).group(1).decode()
    for pid in dict.fromkeys(int(m) for m in re.findall(rb"/profiles/(\d+)/select/", picker)):
        body = urlencode({"csrfmiddlewaretoken": token}).encode()
        status, _, _ = c.request("POST", f"/profiles/{pid}/select/", body, form_headers)
        if status == 302:  # a kids profile or one with a PIN answers its unlock page (200) instead
            break
    else:
        raise SystemExit("no profile of the demo account could be selected without a PIN")
    c.close()
    api = Client(port)
    body = json.dumps({"username": DEMO_USER, "password": DEMO_PASSWORD, "profile": pid}).encode()
    status, _, answer = api.request("POST", "/api/v1/auth/token/", body, {"Content-Type": "application/json"})
    assert status == 200, f"POST /api/v1/auth/token/ answered {status}: {answer[:200]!r}"
    api.close()
    return c.cookies, pid, json.loads(answer)["token"]


# --- the load: N closed-loop clients on one endpoint for a while --------------------------------


def run_load(port: int, path: str, headers: dict, cookies: dict, clients: int, seconds: float) -> dict:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    statuses: dict[int, int] = {}
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def loop(i: int) -> None:
        c = Client(port, headers)
        c.cookies = dict(cookies)
        start.wait()
        mine = latencies[i]
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at[0]:
                break
            try:
                status, _, _ = c.request("GET", path)
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                c.close()
                continue
            t1 = time.perf_counter()
            if status == 200:
                mine.append((t1 - t0) * 1000)
            else:
                errors[i] += 1
                statuses[status] = statuses.get(status, 0) + 1
        c.close()

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    ordered = sorted(x for per in latencies for x in per)
    return {
        "requests": len(ordered),
        "rps": len(ordered) / elapsed,
        "p50": percentile(ordered, 0.50),
        "p95": percentile(ordered, 0.95),
        "p99": percentile(ordered, 0.99),
        "errors": sum(errors),
        "statuses": statuses,
    }


# --- one database: prepare, serve, measure -------------------------------------------------------


def manage(env: dict, *args: str) -> None:
    proc = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
        raise SystemExit(f"manage.py {' '.join(args)} failed (exit {proc.returncode})")


def start_background_training(env: dict, mode: str, log_path: Path):
    """Retrain in a loop beside the web (`--background-training`): what a web host that also
    trains serves. `nice` is how the Procfile's trainer runs; `plain` is a trainer at the web's
    priority. None for `none`."""
    if mode == "none":
        return None
    loop = f"while true; do {sys.executable} manage.py train_recommender >/dev/null 2>&1; done"
    argv = ["nice", "-n", "10", "bash", "-c", loop] if mode == "nice" else ["bash", "-c", loop]
    print(f"-- a retrain runs in a loop beside the web ({mode})", flush=True)
    with open(log_path, "w") as log:
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def measure_database(label: str, url: str, args, tmp: Path) -> None:
    static_root = tmp / f"static-{label}"
    settings_dir = tmp / "settings"
    settings_dir.mkdir(exist_ok=True)
    # STATIC_ROOT is fixed in config.settings; a one-line settings module points it at a scratch folder.
    (settings_dir / f"bench_load_settings_{label}.py").write_text(
        f"from config.settings import *  # noqa: F403\n\nSTATIC_ROOT = {str(static_root)!r}\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(settings_dir), str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        ),
        "DJANGO_SETTINGS_MODULE": f"bench_load_settings_{label}",
        "DATABASE_URL": url,
        "DEBUG": "false",
        "HTTPS": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Nothing in the benchmark sends mail; production settings still want a backend.
        "EMAIL_URL": "consolemail://",
        "API_THROTTLE": "off",
        "PRIVATE_ROOT": str(tmp / f"private-{label}"),
        "MEDIA_ROOT": str(tmp / f"media-{label}"),
        "LOG_LEVEL": "WARNING",
    }
    if label == "sqlite":
        # The embedded stack: no Redis; with DEBUG false the cache is the database cache.
        env.pop("REDIS_URL", None)
    steps = [
        ("migrate", ["migrate", "--noinput"]),
        ("createcachetable", ["createcachetable"]),
        ("seed_demo", ["seed_demo"]),
        ("train_recommender", ["train_recommender"]),
        ("collectstatic", ["collectstatic", "--noinput"]),
    ]
    timings = []
    for name, cmd in steps:
        t0 = time.perf_counter()
        manage(env, *cmd)
        timings.append(f"{name} {time.perf_counter() - t0:.0f} s")
    print(f"-- {label}: " + ", ".join(timings), flush=True)

    port = free_port()
    env["PORT"] = str(port)
    server_conf = runpy.run_path(str(GUNICORN_CONF))  # what the server will read, with this env
    log = open(tmp / f"gunicorn-{label}.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", str(GUNICORN_CONF), "config.wsgi"],
        cwd=ROOT,
        env={**env, "GUNICORN_LOG_LEVEL": "warning"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    trainer = None
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if Client(port).request("GET", "/healthz")[0] < 500:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                print((tmp / f"gunicorn-{label}.log").read_text()[-3000:])
                raise SystemExit("gunicorn did not come up")
            time.sleep(0.3)
        cookies, pid, token = sign_in(port)
        probe = Client(port)
        probe.cookies = dict(cookies)
        status, _, home = probe.request("GET", "/")
        assert status == 200, f"GET / answered {status}"
        # A title card of the home page (its link carries ?row=...: the path alone is the title page).
        title = re.search(rb'href="(/title/[\w-]+/)[?"]', home).group(1).decode()
        personalized = b'data-row="top-picks"' in home
        probe.close()
        api_headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
        endpoints = [
            ("static: /privacy/policy/", "/privacy/policy/", {}, cookies),
            ("home /", "/", {}, cookies),
            ("api home", f"/api/v1/profiles/{pid}/home/", api_headers, {}),
            ("title page", title, {}, cookies),
            ("search ?q=river", "/search/?q=river", {}, cookies),
        ]
        workers, threads = server_conf["workers"], server_conf["threads"]
        print(
            f"-- {label}: gunicorn {workers} workers x {threads} threads ({server_conf['worker_class']}) "
            f"on {server_conf['CPUS']} CPUs; home {'personalized' if personalized else 'NOT personalized'}; "
            f"cache {'Redis' if env.get('REDIS_URL') else 'database'}; title {title}",
            flush=True,
        )
        # Warm-up: every worker loads templates, the serving model and its connections.
        for _, path, headers, jar in endpoints:
            run_load(port, path, headers, jar, workers * threads, args.warmup)
        trainer = start_background_training(env, args.background_training, tmp / f"trainer-{label}.log")
        print(
            f"\n{'database':<9}{'clients':>7}  {'endpoint':<26}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}"
            f"{'p99 ms':>9}{'p50/static':>11}{'errors':>8}",
            flush=True,
        )
        for n in args.clients:
            static_p50 = None
            for name, path, headers, jar in endpoints:
                r = run_load(port, path, headers, jar, n, args.seconds)
                if static_p50 is None:
                    static_p50 = r["p50"]
                ratio = r["p50"] / static_p50 if static_p50 else float("nan")
                err = f"{r['errors']}" + (f" {r['statuses']}" if r["statuses"] else "")
                print(
                    f"{label:<9}{n:>7}  {name:<26}{r['rps']:>8.1f}{r['p50']:>9.1f}{r['p95']:>9.1f}"
                    f"{r['p99']:>9.1f}{ratio:>10.1f}x{err:>8}",
                    flush=True,
                )
    finally:
        if trainer is not None:
            os.killpg(trainer.pid, signal.SIGKILL)
            trainer.wait()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds per endpoint and concurrency (8)")
    parser.add_argument("--warmup", type=float, default=1.5, help="seconds of warm-up per endpoint (1.5)")
    parser.add_argument(
        "--clients", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 16, 32], help="1,4,16,32"
    )
    parser.add_argument(
        "--background-training",
        choices=["none", "nice", "plain"],
        default="none",
        help="retrain in a loop on the same host while measuring: none (default), nice (as the trainer runs), plain",
    )
    parser.add_argument(
        "--databases",
        default="sqlite,postgresql",
        help="which of sqlite,postgresql to run (default both; PostgreSQL only when DATABASE_URL is PostgreSQL)",
    )
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"bench_load: {os.cpu_count()} CPUs, load average {load:.1f}, {args.seconds:g} s per step", flush=True)
    given = os.environ.get("DATABASE_URL", "")
    wanted = {name.strip() for name in args.databases.split(",")}
    with tempfile.TemporaryDirectory(prefix="marquee-bench-load-") as tmp:
        if "sqlite" in wanted:
            measure_database("sqlite", f"sqlite:///{tmp}/bench.sqlite3", args, Path(tmp))
        if "postgresql" in wanted and given.startswith(("postgres://", "postgresql://", "pgsql://")):
            # A scratch database beside the one named in DATABASE_URL, which is never touched.
            url = _scratch_postgres(given, "load")
            try:
                print()
                measure_database("postgresql", url, args, Path(tmp))
            finally:
                _drop_postgres(url)


if __name__ == "__main__":
    main()
