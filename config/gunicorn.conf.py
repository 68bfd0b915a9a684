"""Gunicorn settings for the web process: `gunicorn -c config/gunicorn.conf.py config.wsgi`.

Sized from the CPUs this process may use. A request here is mostly Python on the CPU (template
rendering, serializers, scoring against the in-memory model with numpy) with some waiting on
the database and the cache. The GIL lets one thread of a process run Python at a time, so CPU
work scales with processes, not threads: one worker per core, plus one so that a core is not
idle while a worker waits on the database, and two threads per worker to overlap those waits
(and slow clients) without another copy of the app and of the serving model in memory. More
processes than that only add context switches and memory (each worker holds its own copy of
the serving model's representations). `bench/bench_load.py` measures the choice.

Environment overrides:
    WEB_CONCURRENCY    worker processes (default: CPUs + 1, at most 16)
    GUNICORN_THREADS   threads per worker (default 2; 1 = the plain sync worker)
    PORT               port to listen on, on 127.0.0.1 (default 8000), behind the proxy
    GUNICORN_BIND      the whole bind address instead (e.g. 0.0.0.0:8000 in a container)
    GUNICORN_TIMEOUT   seconds before a silent worker is restarted (default 30)
    GUNICORN_CONTROL_SOCKET  path of gunicorn's control socket (`gunicornc`); off by default
"""

import os


def _cpu_count() -> int:
    """CPUs this process may run on: its affinity mask, and a cgroup v2 quota if one is set
    (a container limited to 2 CPUs on a 64-core host must not start 65 workers)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max") as fh:
            quota, period = fh.read().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, -(-int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


CPUS = _cpu_count()
MAX_WORKERS = 16

workers = int(os.environ.get("WEB_CONCURRENCY") or min(CPUS + 1, MAX_WORKERS))
threads = int(os.environ.get("GUNICORN_THREADS") or 2)
# threads > 1 selects the gthread worker; say so explicitly so a change of the default is visible.
worker_class = "gthread" if threads > 1 else "sync"

bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT') or 8000}"
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 30
keepalive = 5
# Restart a worker now and then, so a slow leak cannot grow without bound; the jitter keeps all
# workers from restarting together.
max_requests = 2000
max_requests_jitter = 200
# The heartbeat file in memory, not on a disk that may block (gunicorn's own advice for containers);
# gunicorn creates it with mkstemp and unlinks it at once, so a shared directory is safe here.
if os.path.isdir("/dev/shm"):  # noqa: S108
    worker_tmp_dir = "/dev/shm"  # noqa: S108

# Gunicorn 25+ opens a control socket at a fixed per-user path ($HOME/.gunicorn/gunicorn.ctl), so two
# servers on one machine (a CI step beside a dev server, a benchmark) would fight over it. Off
# unless a path is given.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True

# --- Logs: both to stdout/stderr, for the process manager to collect ----------------------------
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Access log: time, method, PATH WITHOUT THE QUERY STRING (%(U)s; never %(r)s or %(q)s: search
# terms travel as ?q=), protocol, status, bytes, duration in ms, worker pid. Left out on purpose:
# the client address %(h)s (personal data; the product keeps only truncated networks elsewhere,
# see privacy.ip, and behind a proxy it is the proxy's anyway), the referrer %(f)s (it carries
# the previous page's query string, search terms included) and the user agent %(a)s (a
# fingerprinting aid that operations do not need).
access_log_format = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms %(p)s'

# Prometheus multiprocess mode (ops.metrics): with PROMETHEUS_MULTIPROC_DIR set, each worker
# writes its samples there and /metrics adds them up. The directory must start empty (stale files
# of a previous run would be added in) and a dead worker's live gauges must be dropped.
_METRICS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def on_starting(server):
    if _METRICS_DIR:
        os.makedirs(_METRICS_DIR, exist_ok=True)
        for name in os.listdir(_METRICS_DIR):
            if name.endswith(".db"):
                os.unlink(os.path.join(_METRICS_DIR, name))


def child_exit(server, worker):
    if _METRICS_DIR:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
