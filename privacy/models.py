import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Purpose(models.TextChoices):
    PERSONALIZATION = "personalization", "Personalized recommendations"
    VIEWING_HISTORY = "viewing_history", "Viewing history"
    SEARCH_HISTORY = "search_history", "Search history"
    ANALYTICS = "analytics", "Analytics"


PURPOSE_EXPLANATIONS = {
    Purpose.PERSONALIZATION: "Use what you rate, watch and add to My List to pick titles for you. "
    "Off: everyone sees the same popular, new and curated rows.",
    Purpose.VIEWING_HISTORY: "Remember where you stopped so you can resume and see Continue watching. "
    "Off: playback works, but nothing you watch is recorded.",
    Purpose.SEARCH_HISTORY: "Keep what you search for, to improve search and the catalog. "
    "Off: searches work, but are not recorded.",
    Purpose.ANALYTICS: "Count your activity, always aggregated and never alone, in reports that help us "
    "choose what to add to the catalog.",
}


class ConsentMethod(models.TextChoices):
    SIGNUP = "signup", "At sign-up"
    SETTINGS = "settings", "Privacy settings"
    API = "api", "API"
    IMPORT = "import", "Dataset import"
    SEED = "seed", "Demo data"


class ConsentEvent(models.Model):
    """Append-only log of every consent change. Never updated, never deleted while the account lives."""

    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consent_events")
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    granted = models.BooleanField()
    policy_version = models.CharField(max_length=32)
    method = models.CharField(max_length=16, choices=ConsentMethod.choices)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.purpose}={self.granted} ({self.method}, {self.policy_version})"


class ConsentState(models.Model):
    """The current choice per account and purpose: what the gates read (one indexed row)."""

    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    granted = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "purpose"], name="unique_consent_state")]

    def __str__(self) -> str:
        return f"{self.purpose}={self.granted}"


class PolicyReview(models.Model):
    """The privacy-policy version an account last reviewed its choices under.

    When settings.PRIVACY_POLICY_VERSION moves on (a material change), accounts whose row
    names an older version are asked to review their choices (see privacy/_policy_banner).
    """

    account = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="policy_review")
    version = models.CharField(max_length=32)
    reviewed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"reviewed {self.version}"


class ExportStatus(models.TextChoices):
    PENDING = "pending", "Waiting to start"
    RUNNING = "running", "Being prepared"
    READY = "ready", "Ready to download"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired (file deleted)"


class ExportRequest(models.Model):
    """One request for a copy of an account's data (GDPR Art. 15 and 20).

    The ZIP lives at EXPORT_ROOT/<id>.zip, outside anything served publicly; only the
    owner's authenticated download view reads it. The random UUID keeps ids unguessable.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports")
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="0-100")
    file_name = models.CharField(max_length=100, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    download_count = models.PositiveIntegerField(default=0)
    # Renewed while a worker runs the job: a stale one means that worker died (ops.heartbeat).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # When the owner was emailed the outcome ("your data is ready", or "could not be prepared").
    # Claimed with a conditional UPDATE before sending, so a task delivered twice mails once.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["account", "-created_at"], name="export_account_recent_idx")]
        # Staff exports hand a person's data to someone else: a permission of its own (privacy.staff).
        permissions = [("export_account", "Can export a user's data from the admin and download it")]

    def __str__(self) -> str:
        return f"export {self.id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (ExportStatus.PENDING, ExportStatus.RUNNING)


class DeletionStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    RUNNING = "running", "Erasing"
    DONE = "done", "Erased"
    FAILED = "failed", "Failed (will be retried)"


class DeletionRecord(models.Model):
    """The audit trail of an account deletion (GDPR Art. 17).

    Pseudonymous by construction: a random reference (also given in the receipt), the
    timestamps, and counts of what was erased. No username, no email, no hash of either.
    `account` links the live account only until the erasure job deletes it (SET_NULL).
    """

    reference = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="deletion_records"
    )
    status = models.CharField(
        max_length=10, choices=DeletionStatus.choices, default=DeletionStatus.REQUESTED, db_index=True
    )
    method = models.CharField(max_length=16, default="web")
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    erased_counts = models.JSONField(default=dict, blank=True)
    receipt_sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Renewed while a worker runs the job: a stale one means that worker died (ops.heartbeat).
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        # Irreversible: a permission of its own rather than "can delete user" (privacy.staff).
        permissions = [("erase_account", "Can erase a user's account from the admin")]

    def __str__(self) -> str:
        return f"deletion {self.reference} ({self.status})"


class AuditAction(models.TextChoices):
    EXPORT_REQUESTED = "export_requested", "Export requested"
    EXPORT_REFUSED = "export_refused", "Export refused (one per 24 hours)"
    EXPORT_READY = "export_ready", "Export ready"
    EXPORT_FAILED = "export_failed", "Export failed"
    EXPORT_DOWNLOADED = "export_downloaded", "Export downloaded"
    EXPORT_EXPIRED = "export_expired", "Export expired"
    COLLECTED_DELETED = "collected_deleted", "Collected data deleted after withdrawing consent"
    DELETION_REQUESTED = "deletion_requested", "Account deletion requested"
    DELETION_REFUSED = "deletion_refused", "Account deletion refused (wrong password)"
    STAFF_ERASURE = "staff_erasure", "Staff erased the account"
    STAFF_EXPORT = "staff_export", "Staff requested an export of the account"
    STAFF_EXPORT_DOWNLOADED = "staff_export_downloaded", "Staff downloaded an export of the account"


class AuditEvent(models.Model):
    """Audit log of privacy requests. Holds no personal content: an action, ids, numbers.

    When the account is erased, `account` is cleared and `subject` set to the deletion
    record's random reference, so the trail stays pseudonymous.
    """

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="privacy_audit"
    )
    subject = models.UUIDField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    object_id = models.CharField(max_length=64, blank=True)
    via = models.CharField(max_length=16, blank=True, help_text="web, api or system")
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Who acted, when staff acted on someone else's account from the admin (privacy.staff), and
    # why. The reason is written by staff for the record; the form asks them not to name the person.
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="privacy_staff_actions"
    )
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.object_id}"
