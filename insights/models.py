"""Insights: raw impressions and clicks (personal, short-lived), their daily aggregates, the
precomputed snapshot the dashboard reads, per-title performance, and the preview audit log.

The dashboard never scans raw engagement per request: everything it shows comes from
`InsightsSnapshot.data` (one row) or the small aggregate tables, rebuilt by `tasks.py`.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Profile
from catalog.models import Title


class Impression(models.Model):
    """A title shown in a home row to a profile. Written only with analytics consent."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="+")
    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="+")
    row_key = models.CharField(max_length=80)
    shown_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["profile", "title", "shown_at"], name="impression_profile_title_idx")]

    def __str__(self) -> str:
        return f"{self.row_key}: title {self.title_id} to profile {self.profile_id}"


class Click(models.Model):
    """A title detail page opened from a home row (`?row=` on the card link)."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="+")
    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="+")
    row_key = models.CharField(max_length=80)
    clicked_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.row_key}: title {self.title_id} opened by profile {self.profile_id}"


class ImpressionDaily(models.Model):
    """Per day, row and title: no profile in it, so it may outlive the raw rows."""

    date = models.DateField()
    row_key = models.CharField(max_length=80)
    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="+")
    impressions = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    # Impressions followed by the same profile starting the title within PLAY_WINDOW_HOURS.
    plays = models.PositiveIntegerField(default=0)
    profiles = models.PositiveIntegerField(default=0, help_text="Distinct profiles shown it that day")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["date", "row_key", "title"], name="unique_impression_daily")]
        indexes = [models.Index(fields=["title", "date"], name="impression_daily_title_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.row_key} title {self.title_id}"


class TitleStats(models.Model):
    """Per-title performance over consenting profiles, rebuilt by each aggregation run."""

    title = models.OneToOneField(Title, on_delete=models.CASCADE, primary_key=True, related_name="+")
    viewers = models.PositiveIntegerField(default=0)
    plays = models.PositiveIntegerField(default=0)
    completions = models.PositiveIntegerField(default=0, help_text="Completed viewing rows (films, episodes)")
    # Profiles who finished it: a film watched to the end, a series' last episode completed.
    finished = models.PositiveIntegerField(default=0)
    # Profiles who watched it or rated it up/love: the audience the clusters count with.
    engaged = models.PositiveIntegerField(default=0)
    viewing_seconds = models.PositiveBigIntegerField(default=0)
    raters = models.PositiveIntegerField(default=0)
    down = models.PositiveIntegerField(default=0)
    up = models.PositiveIntegerField(default=0)
    love = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"stats of title {self.title_id}"

    @property
    def audience(self) -> int:
        # A lower bound of distinct profiles behind the numbers (viewers and raters overlap).
        return max(self.viewers, self.raters, self.engaged)

    @property
    def completion_rate(self) -> float:
        """Share of its viewers who finished it (one definition with the dashboard's)."""
        return self.finished / self.viewers if self.viewers else 0.0


class SnapshotStatus(models.TextChoices):
    PENDING = "pending", "Queued"
    RUNNING = "running", "Running"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class InsightsSnapshot(models.Model):
    status = models.CharField(max_length=10, choices=SnapshotStatus.choices, default=SnapshotStatus.PENDING)
    trigger = models.CharField(max_length=20, default="manual")
    progress = models.PositiveSmallIntegerField(default=0, help_text="0..100")
    step = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    # Renewed while a worker runs the job: a stale one means that worker died (ops.heartbeat).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-finished_at"], name="insights_snapshot_status_idx")]

    def __str__(self) -> str:
        return f"insights run {self.pk} ({self.status})"


class PreviewAudit(models.Model):
    """Who previewed whose home, when. Kept for accountability; holds no engagement."""

    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    staff_username = models.CharField(max_length=150)
    profile = models.ForeignKey(Profile, on_delete=models.SET_NULL, null=True, related_name="+")
    profile_label = models.CharField(max_length=120)
    viewed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-viewed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.staff_username} previewed {self.profile_label}"
