"""The recommender's own tables: the model-version registry and onboarding genre choices."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Profile
from catalog.models import Genre


class ModelStatus(models.TextChoices):
    TRAINING = "training", "Training"
    READY = "ready", "Ready (not serving)"
    SERVING = "serving", "Serving"
    REJECTED = "rejected", "Rejected by the promotion gate"
    FAILED = "failed", "Failed"
    RETIRED = "retired", "Retired"


class ModelVersion(models.Model):
    """One trained (or attempted) model. `version` is also the artifact folder's name.

    Invariant: at most one row has status `serving` (a partial unique constraint backs the
    promotion code in `recommendations.model_registry`, which retires the previous one in the same
    transaction).
    """

    version = models.CharField(max_length=40, unique=True)
    status = models.CharField(max_length=10, choices=ModelStatus.choices, default=ModelStatus.TRAINING, db_index=True)
    trigger = models.CharField(max_length=40, blank=True, help_text="What started the training")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    params = models.JSONField(default=dict, blank=True)
    # profiles, titles, interactions, features ...
    data_counts = models.JSONField(default=dict, blank=True)
    # The model's offline metrics on the temporal held-out split: p@10, r@10, ndcg@10, auc, coverage.
    metrics = models.JSONField(default=dict, blank=True)
    # Popularity's metrics on the same split in the same run (the bar the model must clear).
    baseline_metrics = models.JSONField(default=dict, blank=True)
    # Total engagement interactions when the training data was read: the "enough new
    # interactions" trigger compares the current total against the serving version's.
    interactions_at_training = models.BigIntegerField(default=0)
    gate = models.CharField(max_length=300, blank=True, help_text="Why it was (not) promoted")
    error = models.TextField(blank=True)
    # Where a training stands (0-100 and a short step such as "Fitting: epoch 7 of 30"), written
    # by the training itself at most about once a second and shown by the admin's status panel.
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="serving"), name="one_serving_model"),
        ]

    def __str__(self) -> str:
        return f"{self.version} ({self.status})"

    def metric(self, name: str) -> float | None:
        value = (self.metrics or {}).get(name)
        return float(value) if value is not None else None


class OnboardingGenre(models.Model):
    """A genre a profile picked on the onboarding screen (written by the serving side).

    Read by training as a user feature ("genre:<slug>"), so a new profile's taste reaches the
    model through features it shares with everybody who picked the same genre.
    """

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="onboarding_genres")
    genre = models.ForeignKey(Genre, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["profile", "genre"], name="unique_onboarding_genre")]

    def __str__(self) -> str:
        return f"{self.profile_id}: {self.genre_id}"


# The artwork bandit's aggregate counters live in their own module (recommendations.artwork).
from .artwork_models import ArtworkStat  # noqa: E402,F401
