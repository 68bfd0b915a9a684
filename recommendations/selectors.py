"""Reads of the recommender: its model registry, and what onboarding offers a new profile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q

from catalog.selectors import visible_titles
from ops import leases
from ops.models import OutboxStatus, OutboxTask

from .catalog_index import catalog_index
from .models import ModelStatus, ModelVersion

ONBOARDING_TITLES = 24
# The training task's outbox name (recommendations.tasks uses it; defined here, below tasks,
# so the status reads need not import the task module).
TRAIN_TASK = "recommendations.tasks.model_train"
# The single-flight lease a running training holds and renews (ops.leases; recommendations.tasks).
TRAINING_LEASE = "recommendations:training"
METRICS_HISTORY = 30


def serving_version() -> ModelVersion | None:
    """The one version that serves now, or None before the first promotion."""
    return ModelVersion.objects.filter(status=ModelStatus.SERVING).first()


def model_versions():
    return ModelVersion.objects.order_by("-created_at", "-id")


@dataclass(frozen=True)
class TrainingActivity:
    """What the model registry's status panel shows.

    state: "training" (a version is being trained: `version` has its progress and step),
    "interrupted" (the latest version is still marked training but nobody holds the training
    lease: its process died; the next training marks it failed, so Retrain may start one),
    "starting" (a worker took the queued request; no version row yet), "queued" (in the
    outbox, no worker has it yet), or "idle" (`version` is the latest attempt, if any: the
    outcome of the last training).
    """

    state: str
    version: ModelVersion | None = None
    queued_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.state not in ("idle", "interrupted")


def training_activity() -> TrainingActivity:
    """Where training stands now, in at most two small queries.

    The latest version is read first: read the other way round, a training that starts
    between the reads would look finished (and the panel would stop polling)."""
    latest = ModelVersion.objects.order_by("-created_at", "-id").first()
    if latest is not None and latest.status == ModelStatus.TRAINING:
        # A live run holds the lease from before its version row exists until it ends; a row
        # left `training` without it belongs to a process that died (a restarted web process
        # on the embedded stack, where no sweeper re-sends its request).
        if leases.current(TRAINING_LEASE) is not None:
            return TrainingActivity("training", latest)
        return TrainingActivity("interrupted", latest)
    row = (
        OutboxTask.objects.filter(
            task=TRAIN_TASK, status__in=(OutboxStatus.PENDING, OutboxStatus.SENT, OutboxStatus.STARTED)
        )
        .order_by("created_at")
        .first()
    )
    # In-process (embedded) runs keep their row `sent` until the task returns: a version made
    # after the row was written is that request's outcome, so it is no longer queued.
    if row is not None and not (latest is not None and latest.created_at >= row.created_at):
        state = "starting" if row.status == OutboxStatus.STARTED else "queued"
        return TrainingActivity(state, latest, row.created_at)
    return TrainingActivity("idle", latest)


@dataclass(frozen=True)
class MetricsPoint:
    version: str
    created_at: datetime
    status: str
    ndcg: float | None
    popularity_ndcg: float | None
    coverage: float | None


def metrics_history(limit: int = METRICS_HISTORY) -> list[MetricsPoint]:
    """The last `limit` evaluated versions, oldest first (for the metrics-over-time chart)."""
    rows = (
        ModelVersion.objects.exclude(status__in=(ModelStatus.TRAINING, ModelStatus.FAILED))
        .order_by("-created_at", "-id")
        .only("version", "created_at", "status", "metrics", "baseline_metrics")[:limit]
    )
    points = []
    for mv in reversed(list(rows)):
        pop = (mv.baseline_metrics or {}).get("ndcg@10")
        point = MetricsPoint(
            version=mv.version,
            created_at=mv.created_at,
            status=mv.status,
            ndcg=mv.metric("ndcg@10"),
            popularity_ndcg=float(pop) if pop is not None else None,
            coverage=mv.metric("coverage"),
        )
        if point.ndcg is not None or point.coverage is not None:
            points.append(point)
    return points


def onboarding_choices(profile, *, limit: int = ONBOARDING_TITLES):
    """A diverse set to pick from: the most liked visible titles, taken round-robin by genre."""
    popular = list(
        visible_titles(profile)
        .annotate(likes=Count("ratings", filter=Q(ratings__value__in=("up", "love"))))
        .order_by("-likes", "-date_added", "id")[: limit * 8]
    )
    genres_of = catalog_index().title_genres
    buckets: dict[str, list] = {}
    for title in popular:
        first = (genres_of.get(title.pk) or [""])[0]
        buckets.setdefault(first, []).append(title)
    chosen: list = []
    while len(chosen) < limit and any(buckets.values()):
        for bucket in buckets.values():
            if bucket and len(chosen) < limit:
                chosen.append(bucket.pop(0))
    return chosen
