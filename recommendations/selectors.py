"""Reads of the recommender's registry (the serving side imports these)."""

from __future__ import annotations

from .models import ModelStatus, ModelVersion


def serving_version() -> ModelVersion | None:
    """The one version that serves now, or None before the first promotion."""
    return ModelVersion.objects.filter(status=ModelStatus.SERVING).first()


def model_versions():
    return ModelVersion.objects.order_by("-created_at", "-id")
