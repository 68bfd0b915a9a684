from django.apps import AppConfig


def model_readiness() -> dict:
    """/readyz `model`: what this process serves, without loading anything. Informational: with
    no model the home serves non-personal rows, so it never takes the process out of service."""
    from . import serving
    from .selectors import serving_version

    state = getattr(serving, "_state", None)
    loaded = getattr(state, "model", None)
    if loaded is not None:
        return {"ok": True, "state": f"serving {loaded.version}"}
    mv = serving_version()
    if mv is None:
        return {"ok": True, "state": "fallback: no model yet"}
    if getattr(state, "failed_version", None) == mv.version:
        return {"ok": True, "state": f"fallback: {serving.FILES_MISSING} ({mv.version})"}
    # Loaded on this process's first personal home, not by a probe.
    return {"ok": True, "state": f"serving {mv.version} (not loaded in this process yet)"}


def model_metric_families():
    """/metrics, read from the database at scrape time (right on every host and worker)."""
    from django.db.models import Count
    from prometheus_client.core import GaugeMetricFamily

    from .models import ModelVersion
    from .selectors import serving_version

    info = GaugeMetricFamily(
        "marquee_model_serving_info", "1 for the model version that serves (none before the first).", labels=["version"]
    )
    mv = serving_version()
    if mv is not None:
        info.add_metric([mv.version], 1)
    yield info
    runs = GaugeMetricFamily(
        "marquee_training_runs",
        "Model versions by outcome (training, ready, serving, rejected, failed, retired) and trigger.",
        labels=["status", "trigger"],
    )
    for row in ModelVersion.objects.values("status", "trigger").annotate(n=Count("pk")).order_by():
        runs.add_metric([row["status"], row["trigger"] or "unknown"], row["n"])
    yield runs
    last = (
        ModelVersion.objects.exclude(duration_seconds=None)
        .order_by("-created_at", "-id")
        .only("status", "duration_seconds", "created_at")
        .first()
    )
    duration = GaugeMetricFamily(
        "marquee_training_last_duration_seconds",
        "How long the latest finished training took, labelled with its outcome.",
        labels=["status"],
    )
    finished = GaugeMetricFamily(
        "marquee_training_last_started_timestamp_seconds",
        "When the latest finished training started (alert when it grows old).",
        labels=["status"],
    )
    if last is not None:
        duration.add_metric([last.status], last.duration_seconds)
        finished.add_metric([last.status], last.created_at.timestamp())
    yield duration
    yield finished


class RecommendationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "recommendations"

    def ready(self):
        # Declare this app's personal data to the privacy registry (privacy never imports us).
        from . import personal_data

        personal_data.register()

        # The serving version cannot be deleted; a deleted version's files go with it.
        from . import model_registry

        model_registry.connect_signals()

        # Tell operations what this app has (ops never imports us): the serving model's state
        # for /readyz and the registry's figures for /metrics.
        from ops import health, metrics

        health.register_check("model", model_readiness, required=False, needs="database")
        metrics.register_collector("recommendations", model_metric_families)

        # Personalized artwork learns from the home's impressions and card opens (catalog announces).
        from catalog import signals

        from . import artwork

        signals.rows_shown.connect(artwork.on_rows_shown, dispatch_uid="recommendations-artwork-impressions")
        signals.title_opened_from_row.connect(
            artwork.on_title_opened_from_row, dispatch_uid="recommendations-artwork-takes"
        )
        signals.demo_seeded.connect(artwork.on_demo_seeded, dispatch_uid="recommendations-artwork-demo")
