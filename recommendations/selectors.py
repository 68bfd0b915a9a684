"""Reads of the recommender: its model registry, and what onboarding offers a new profile."""

from __future__ import annotations

from django.db.models import Count, Q

from catalog.selectors import visible_titles

from .catalog_index import catalog_index
from .models import ModelStatus, ModelVersion

ONBOARDING_TITLES = 24


def serving_version() -> ModelVersion | None:
    """The one version that serves now, or None before the first promotion."""
    return ModelVersion.objects.filter(status=ModelStatus.SERVING).first()


def model_versions():
    return ModelVersion.objects.order_by("-created_at", "-id")


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
