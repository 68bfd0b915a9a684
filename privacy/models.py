from django.conf import settings
from django.db import models


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


class ConsentState(models.Model):
    """The current choice per account and purpose: what the gates read (one indexed row)."""

    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    granted = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "purpose"], name="unique_consent_state")]
