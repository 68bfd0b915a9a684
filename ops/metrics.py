"""Prometheus metrics: what the processes measure, and what the database knows at scrape time.

Two kinds, kept apart on purpose:

- Measured in this process (request latency, recommender fallbacks, fold-in and scoring time):
  module-level Counters and Histograms in prometheus-client's default registry. Gunicorn runs
  several worker processes, each with its own counters; with `PROMETHEUS_MULTIPROC_DIR` set (a
  directory emptied before the server starts) every worker writes them to files there and a
  scrape of any worker sums them all (`MultiProcessCollector`). Without it, a scrape sees the
  one process it reached: fine for `runserver` and a single worker.
- Collected from the database at scrape time (serving model, training runs, the Celery tasks in
  the outbox, outbox depth): the apps register a function with `register_collector`; it yields
  metric families when `/metrics` is read. The database is the same for every host and worker,
  so these are right wherever the scrape lands, with no multiprocess bookkeeping. A collector
  that fails (the database is down) emits nothing and the scrape still answers, with
  `marquee_metrics_collector_up{collector}` 0 saying which one is missing.

Apps import this module to instrument themselves; it imports none of them.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

log = logging.getLogger(__name__)

# No `*_created` series beside every counter and histogram: half the lines, nothing alerted on.
disable_created_metrics()

# --- Measured in the process -------------------------------------------------------------------

REQUEST_DURATION = Histogram(
    "marquee_http_request_duration_seconds",
    "Time to answer a request, by resolved view name, method and status class (2xx, 4xx...).",
    ["view", "method", "status"],
    # Pages are tens of milliseconds; a cold model load or a slow database shows in the tail.
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RECOMMENDER_FALLBACKS = Counter(
    "marquee_recommender_fallbacks_total",
    "Home pages served with non-personal rows, by reason (consent, no-model, files-missing, "
    "cache-down, no-signal, error).",
    ["reason"],
)
_FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
FOLDIN_SECONDS = Histogram(
    "marquee_foldin_seconds",
    "Time to compute a profile's vector for the serving model (cache misses only).",
    buckets=_FAST_BUCKETS,
)
SCORING_SECONDS = Histogram(
    "marquee_scoring_seconds",
    "Time to score the whole catalog for one profile.",
    buckets=_FAST_BUCKETS,
)
COLLECTOR_ERRORS = Counter(
    "marquee_metrics_collector_errors_total",
    "Scrape-time collectors that raised (the database was unreachable, most often).",
    ["collector"],
)


@contextmanager
def timed(histogram: Histogram):
    """`with timed(FOLDIN_SECONDS): ...` observes the block's wall time, even when it raises."""
    start = time.perf_counter()
    try:
        yield
    finally:
        histogram.observe(time.perf_counter() - start)


# --- Collected at scrape time --------------------------------------------------------------------

CollectorFn = Callable[[], Iterable[Metric]]
_collectors: dict[str, CollectorFn] = {}


def register_collector(name: str, fn: CollectorFn) -> None:
    """Add a scrape-time collector: `fn()` yields prometheus_client metric families.

    Called from an AppConfig.ready(); registering the same name again replaces it (autoreload,
    tests), so a collector is never counted twice.
    """
    _collectors[name] = fn


class _ScrapeTimeCollector:
    """Runs every registered collector; one that raises is skipped, the others still report."""

    def collect(self):
        up = GaugeMetricFamily(
            "marquee_metrics_collector_up",
            "1 when the scrape-time collector answered, 0 when it failed (its metrics are missing).",
            labels=["collector"],
        )
        for name, fn in list(_collectors.items()):
            try:
                families = list(fn())
            except Exception as exc:  # an outage must not cost the scrape: report it and go on
                log.warning("metrics collector %s failed: %s: %s", name, type(exc).__name__, exc)
                COLLECTOR_ERRORS.labels(collector=name).inc()
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def render() -> bytes:
    """The text exposition of every metric: this process (or all workers) plus the database."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        MultiProcessCollector(registry)
    else:
        # The default registry is itself a collector; registering it here (no describe, so no
        # name clash checks) puts the process metrics and the database ones in one scrape.
        registry.register(REGISTRY)
    registry.register(_ScrapeTimeCollector())
    # Each scrape-time collector runs its own queries: keep them few and indexed.
    return generate_latest(registry)


# --- The outbox's own collector (ops knows its tables) -------------------------------------------


def _outbox_families():
    from django.db.models import Count, Min
    from django.utils import timezone

    from .models import OutboxStatus, OutboxTask
    from .outbox import depth

    tasks = GaugeMetricFamily(
        "marquee_celery_tasks",
        "Tasks recorded in the outbox (finished ones are kept OUTBOX_KEEP_DAYS), by task and status.",
        labels=["task", "status"],
    )
    # One grouped query over the rows kept (finished ones go after OUTBOX_KEEP_DAYS).
    for row in OutboxTask.objects.values("task", "status").annotate(n=Count("pk")).order_by():
        tasks.add_metric([row["task"], row["status"]], row["n"])
    yield tasks
    yield GaugeMetricFamily("marquee_outbox_depth", "Unfinished outbox rows (pending, sent or started).", value=depth())
    oldest = OutboxTask.objects.filter(status=OutboxStatus.PENDING).aggregate(at=Min("created_at"))["at"]
    age = (timezone.now() - oldest).total_seconds() if oldest is not None else 0.0
    yield GaugeMetricFamily(
        "marquee_outbox_oldest_pending_seconds",
        "Age of the oldest task the broker has not accepted yet (0 when none).",
        value=max(age, 0.0),
    )


register_collector("outbox", _outbox_families)
