from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models

from .maturity import ADULT_DEFAULT_LEVEL, KIDS_MAX_LEVEL, MaturityLevel

AVATAR_COLORS = ["#e50914", "#f5a623", "#2bb673", "#1f8fff", "#9b59b6", "#e84393", "#16a085"]


class User(AbstractUser):
    """The account. Deliberately minimal: no birth date, gender, address or phone."""

    email = models.EmailField("email address", blank=True)


class Profile(models.Model):
    """One viewer inside an account. All engagement hangs off a profile, not the account."""

    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profiles")
    name = models.CharField(max_length=40)
    is_kids = models.BooleanField(default=False)
    maturity_limit = models.PositiveSmallIntegerField(choices=MaturityLevel.choices, default=ADULT_DEFAULT_LEVEL)
    avatar_color = models.CharField(max_length=7, default=AVATAR_COLORS[0])
    created_at = models.DateTimeField(auto_now_add=True)
    # Moved by every engagement write; the recommender keys its per-profile cache on it.
    engagement_stamp = models.PositiveBigIntegerField(default=0)
    onboarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="unique_profile_name_per_account")]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if self.is_kids and self.maturity_limit > KIDS_MAX_LEVEL:
            raise ValidationError({"maturity_limit": "A kids profile can be limited to family titles at most."})

    @property
    def initial(self) -> str:
        return (self.name[:1] or "?").upper()
