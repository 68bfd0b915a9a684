import binascii
import os

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
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
    # Profile lock: a 4-digit PIN, hashed like a password ("" = no PIN). Wrong PINs are counted
    # here, and after PROFILE_PIN_FAILURE_LIMIT of them selection is locked until pin_locked_until.
    pin_hash = models.CharField(max_length=128, blank=True, default="")
    pin_failures = models.PositiveSmallIntegerField(default=0)
    pin_locked_until = models.DateTimeField(null=True, blank=True)

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

    @property
    def has_pin(self) -> bool:
        return bool(self.pin_hash)

    def set_pin(self, pin: str | None) -> None:
        self.pin_hash = make_password(pin) if pin else ""

    def pin_matches(self, pin: str) -> bool:
        return bool(self.pin_hash) and check_password(pin, self.pin_hash)


# Profile-bound token keys start with this letter (never a hex digit, unlike DRF's account
# tokens), so authentication knows which table to look in: one query per request.
PROFILE_TOKEN_PREFIX = "p"


def _token_key() -> str:
    return PROFILE_TOKEN_PREFIX + binascii.hexlify(os.urandom(20)).decode()[1:]


class ProfileToken(models.Model):
    """An API token bound to one profile (a TV, a tablet): it sees only that profile's data,
    within its limits, and can do nothing account-level (common.sudo). Deleted with the profile."""

    key = models.CharField(max_length=40, primary_key=True, default=_token_key)
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="tokens")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"token for {self.profile}"
