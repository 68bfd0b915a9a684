"""The artwork bandit's counters (imported by recommendations.models so Django registers them).

Aggregate only: how often each artwork variant of a title was shown to, and taken (opened
from a home row) by, profiles of one taste context. No profile, account or time of a single
view is stored, so nothing here is personal data (nothing to export or erase per profile).
"""

from django.db import models
from django.utils import timezone

from catalog.models import Title


class ArtworkStat(models.Model):
    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="artwork_stats")
    # The viewers' taste context (a genre family of catalog.posters, or "new" without a taste yet).
    context = models.CharField(max_length=20)
    variant = models.CharField(max_length=20)
    impressions = models.PositiveIntegerField(default=0)
    takes = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["title", "context", "variant"], name="unique_artwork_stat"),
        ]
        indexes = [models.Index(fields=["context", "variant"], name="artwork_stat_context")]

    def __str__(self) -> str:
        return f"{self.title_id} {self.context}/{self.variant}: {self.takes}/{self.impressions}"
