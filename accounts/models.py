import binascii
import os

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.crypto import salted_hmac

from .maturity import ADULT_DEFAULT_LEVEL, KIDS_MAX_LEVEL, MaturityLevel

AVATAR_COLORS = ["#e50914", "#f5a623", "#2bb673", "#1f8fff", "#9b59b6", "#e84393", "#16a085"]


class User(AbstractUser):
    """The account. Deliberately minimal: no birth date, gender, address or phone."""

    email = models.EmailField("email address", blank=True)
    # Moved by "Sign out of all devices": part of the session auth hash, so every session signed
    # in before it stops working at its next request (Django checks the hash on each), including
    # sessions no Device row knows of, without reading anyone else's session.
    session_epoch = models.PositiveIntegerField(default=0, editable=False)

    def _get_session_auth_hash(self, secret=None):
        # Django's own hash (the same value while the epoch is 0, so no session ends at deploy),
        # salted with the epoch once it moves.
        key_salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
        if self.session_epoch:
            key_salt = f"{key_salt}:{self.session_epoch}"
        return salted_hmac(key_salt, self.password, secret=secret, algorithm="sha256").hexdigest()


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


class DeviceKind(models.TextChoices):
    SESSION = "session", "Browser"
    TOKEN = "token", "API token"
    PROFILE_TOKEN = "profile_token", "Profile token"


class Device(models.Model):
    """One thing signed in to the account: a browser session, an account API token or a
    profile-bound token, with when it was last seen, from which network and with what software.

    It hangs off the credential it describes (CASCADE): deleting the session (signing out, the
    session expiring and being cleared) or the token removes the row, so the list never shows a
    sign-in that is gone. Minimized as the sign-in records are: the network is truncated
    (privacy.ip, "203.0.113.0/24") and the user agent is kept only as "Firefox on Linux".
    """

    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices")
    kind = models.CharField(max_length=16, choices=DeviceKind.choices)
    session = models.OneToOneField(
        "sessions.Session", on_delete=models.CASCADE, null=True, blank=True, related_name="device"
    )
    token = models.OneToOneField(
        "authtoken.Token", on_delete=models.CASCADE, null=True, blank=True, related_name="device"
    )
    profile_token = models.OneToOneField(
        ProfileToken, on_delete=models.CASCADE, null=True, blank=True, related_name="device"
    )
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    network = models.CharField(max_length=64, blank=True, default="")
    user_agent = models.CharField(max_length=80, blank=True, default="")

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            # Exactly the credential its kind names.
            models.CheckConstraint(
                condition=(
                    models.Q(kind="session", session__isnull=False, token__isnull=True, profile_token__isnull=True)
                    | models.Q(kind="token", session__isnull=True, token__isnull=False, profile_token__isnull=True)
                    | models.Q(
                        kind="profile_token", session__isnull=True, token__isnull=True, profile_token__isnull=False
                    )
                ),
                name="device_one_credential",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.account_id}: {self.user_agent or 'unknown'}"


class EmailChange(models.Model):
    """A requested change of the account's email address, waiting for the link sent to the new
    address. Only a hash of the link's secret is stored: a copy of the database cannot confirm
    anything. Single use (`used_at`), expiring (`expires_at`); a new request replaces the old."""

    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_changes")
    new_email = models.EmailField(max_length=254)
    token_hash = models.CharField(max_length=64, unique=True)
    # The account's session auth hash when the change was asked for: a password change or reset,
    # or "Sign out of all devices", since then voids the link (whoever asked may be the reason).
    account_fingerprint = models.CharField(max_length=128, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"email change of {self.account_id}"
