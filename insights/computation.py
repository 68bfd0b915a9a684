"""One aggregation run: every figure of the dashboard computed into an `InsightsSnapshot`.

`snapshot_compute(snapshot_id)` is the service; the Celery task (tasks.py) and the embedded
stack's background thread only call it. It claims its snapshot with a conditional UPDATE
(pending -> running), so a duplicate delivery does nothing, and writes its step and
percentage to the row as it goes (the dashboard polls them).

STEPS is keyed by the section key each step fills: `data["sections"][key]` for a dashboard
section, `data[key]` for the few results that are not a table ("clusters",
"combo_audiences"), nothing for the steps that rebuild a table (their key names the table).
The timings are keyed the same way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from ops.heartbeat import job_heartbeat

from . import aggregates, clusters
from .models import InsightsSnapshot, SnapshotStatus

log = logging.getLogger(__name__)

SOFT_TIME_LIMIT = 30 * 60
# A queued snapshot older than this is taken as lost (worker died, or never started): a new run may start.
STALE_AFTER = timedelta(seconds=SOFT_TIME_LIMIT + 5 * 60)

# Results stored at the top of the snapshot's data rather than as a dashboard section.
DATA_KEYS = ("clusters", "combo_audiences")


class Run:
    """What the steps of one run share: the time the run counts from, and the per-profile
    engagement sets (computed once, dropped at the end: they are never stored)."""

    def __init__(self, now) -> None:
        self.now = now
        self.engaged: dict[int, set[int]] | None = None

    def engagement(self) -> dict[int, set[int]]:
        if self.engaged is None:
            self.engaged = aggregates.engagement_sets()
        return self.engaged


Step = tuple[str, str, Callable[[Run], object]]

STEPS: list[Step] = [
    ("impressions-daily", "Impressions per day", lambda r: aggregates.impressions_daily_rebuild(r.now)),
    ("title-stats", "Title performance", lambda r: aggregates.title_stats_rebuild(r.now, r.engagement())),
    ("demand-genre", "Demand vs supply by genre", lambda r: aggregates.demand_supply("genre")),
    ("demand-tag", "Demand vs supply by tag", lambda r: aggregates.demand_supply("tag")),
    ("rising", "Rising titles", lambda r: aggregates.rising_titles(r.now)),
    ("gaps", "Content gaps", lambda r: aggregates.content_gaps()),
    ("completion-genre", "Completion by genre", lambda r: aggregates.completion("genre")),
    ("completion-kind", "Completion by kind", lambda r: aggregates.completion("kind")),
    ("dropoff", "Series drop-off", lambda r: aggregates.drop_off()),
    ("rows", "Home rows", lambda r: aggregates.row_performance(r.now)),
    ("combo_audiences", "Genre and tag audiences", lambda r: aggregates.combo_audiences(r.engagement())),
    ("clusters", "Audience clusters", lambda r: clusters.compute(r.engagement())),
]


def _progress(snapshot_id: int, pct: int, step: str) -> None:
    InsightsSnapshot.objects.filter(pk=snapshot_id).update(progress=pct, step=step)


def snapshot_compute(snapshot_id: int, *, steps: list[Step] | None = None) -> bool:
    """Compute every aggregate into the snapshot. False when another run owns it or it failed."""
    now = timezone.now()
    claimed = InsightsSnapshot.objects.filter(pk=snapshot_id, status=SnapshotStatus.PENDING).update(
        status=SnapshotStatus.RUNNING, started_at=now, heartbeat_at=now, progress=1, step="Starting"
    )
    if not claimed:
        return False
    with job_heartbeat(InsightsSnapshot.objects.filter(pk=snapshot_id, status=SnapshotStatus.RUNNING)):
        return _compute(snapshot_id, STEPS if steps is None else steps)


def _compute(snapshot_id: int, steps: list[Step]) -> bool:
    t0 = time.perf_counter()
    run = Run(timezone.now())
    data: dict = {
        "generated_at": run.now.isoformat(),
        "min_group": aggregates.min_group(),
        "sections": {},
        "timings": {},
    }
    try:
        for i, (key, label, fn) in enumerate(steps):
            _progress(snapshot_id, int(100 * i / len(steps)) or 1, label)
            s0 = time.perf_counter()
            result = fn(run)
            data["timings"][key] = round(time.perf_counter() - s0, 3)
            if key in DATA_KEYS:
                data[key] = result
            elif isinstance(result, dict) and "columns" in result:
                data["sections"][key] = result
        data["consenting_profiles"] = aggregates.consented().count()
    except Exception as exc:
        log.exception("insights aggregation %s failed", snapshot_id)
        InsightsSnapshot.objects.filter(pk=snapshot_id).update(
            status=SnapshotStatus.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return False
    finally:
        run.engaged = None  # the per-profile sets are not kept anywhere
    InsightsSnapshot.objects.filter(pk=snapshot_id).update(
        status=SnapshotStatus.READY,
        progress=100,
        step="Done",
        finished_at=timezone.now(),
        duration_seconds=round(time.perf_counter() - t0, 3),
        data=data,
    )
    return True
