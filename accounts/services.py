"""Writes for accounts and profiles. Keyword-only, atomic; views and APIs stay thin."""

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from privacy import consent

from .maturity import ADULT_DEFAULT_LEVEL, KIDS_DEFAULT_LEVEL, KIDS_MAX_LEVEL
from .models import AVATAR_COLORS, Profile, ProfileToken, User


class ProfileLimitReached(ValidationError):
    pass


class PinLockedOut(Exception):
    """Too many wrong PINs: this profile cannot be selected by PIN until `until`."""

    def __init__(self, until: datetime):
        super().__init__(f"Too many wrong PINs. Try again after {until:%H:%M} UTC.")
        self.until = until

    @property
    def retry_after_seconds(self) -> int:
        return max(1, int((self.until - timezone.now()).total_seconds()) + 1)


# ASCII digits only: str.isdigit() also accepts "²" and "①".
_PIN_PATTERN = re.compile(r"[0-9]{4}")
PIN_FORMAT_ERROR = "A PIN is exactly 4 digits (0-9)."


def is_pin_shaped(value) -> bool:
    return isinstance(value, str) and _PIN_PATTERN.fullmatch(value) is not None


@transaction.atomic
def user_create(*, username: str, email: str, password: str | None, first_profile_name: str | None = None) -> User:
    """Create an account with its first profile (every account has at least one)."""
    user = User(username=username, email=email)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    profile_create(account=user, name=first_profile_name or username[:40])
    return user


# Usernames that dataset imports and the demo generator own (`ml-<userId>`, `sub-0001`): a
# person signing up with one could otherwise receive an import's ratings.
RESERVED_USERNAME_PREFIXES = ("ml-", "sub-")


@transaction.atomic
def account_signup(*, username: str, email: str, password: str, consents: dict[str, bool], method: str) -> User:
    """Sign-up, from the form or the API: the account, its first profile and a recorded choice
    for every consent purpose (unticked ones as refusals). All of it or none of it."""
    if username.lower().startswith(RESERVED_USERNAME_PREFIXES):
        raise ValidationError({"username": "Usernames starting with ml- or sub- are reserved."})
    user = user_create(username=username, email=email, password=password)
    choices = {purpose: bool(consents.get(purpose, False)) for purpose in consent.PURPOSES}
    consent.consents_set(account_id=user.pk, choices=choices, method=method)
    return user


@transaction.atomic
def account_email_set(*, account: User, email: str) -> None:
    account.email = email
    account.full_clean(exclude=["password"])
    account.save(update_fields=["email"])


@transaction.atomic
def profile_create(*, account: User, name: str, is_kids: bool = False, maturity_limit: int | None = None) -> Profile:
    # Lock the account row so two concurrent requests cannot both create the sixth profile.
    User.objects.select_for_update().filter(pk=account.pk).first()
    count = Profile.objects.filter(account=account).count()
    if count >= settings.MAX_PROFILES_PER_ACCOUNT:
        raise ProfileLimitReached(f"An account can have at most {settings.MAX_PROFILES_PER_ACCOUNT} profiles.")
    if maturity_limit is None:
        maturity_limit = KIDS_DEFAULT_LEVEL if is_kids else ADULT_DEFAULT_LEVEL
    if is_kids:
        maturity_limit = min(maturity_limit, KIDS_MAX_LEVEL)
    profile = Profile(
        account=account,
        name=name.strip(),
        is_kids=is_kids,
        maturity_limit=maturity_limit,
        avatar_color=AVATAR_COLORS[count % len(AVATAR_COLORS)],
    )
    profile.full_clean()
    profile.save()
    return profile


@transaction.atomic
def profile_update(
    *, profile: Profile, name: str | None = None, is_kids: bool | None = None, maturity_limit: int | None = None
) -> Profile:
    if name is not None:
        profile.name = name.strip()
    if is_kids is not None:
        profile.is_kids = is_kids
    if maturity_limit is not None:
        profile.maturity_limit = maturity_limit
    if profile.is_kids and profile.maturity_limit > KIDS_MAX_LEVEL:
        # Ticking "Kids profile" lowers the limit to the family maximum rather than failing.
        profile.maturity_limit = KIDS_MAX_LEVEL
    profile.full_clean()
    profile.save()
    return profile


@transaction.atomic
def profile_delete(*, profile: Profile) -> None:
    # Lock the account row (as profile_create does) so that two concurrent deletes cannot both
    # see two profiles and leave the account with none.
    User.objects.select_for_update().filter(pk=profile.account_id).first()
    if Profile.objects.filter(account_id=profile.account_id).count() <= 1:
        raise ValidationError("An account needs at least one profile.")
    profile.delete()


def profile_engagement_touch(*, profile_ids) -> int:
    """Move the engagement stamp of these profiles (ids, or a values() subquery): whatever taste
    was derived from their signals (the recommender's cached taste and vector) is stale now.

    The one way to say "this profile's signals changed": every write of a signal calls it.
    """
    return Profile.objects.filter(pk__in=profile_ids).update(engagement_stamp=F("engagement_stamp") + 1)


# --- Profile lock (PIN) ----------------------------------------------------------------------


@transaction.atomic
def profile_pin_set(*, profile: Profile, pin: str) -> None:
    """Set or change the profile's PIN (hashed with the password hashers; never kept in clear).
    The caller has checked the account password."""
    if not is_pin_shaped(pin):
        raise ValidationError({"pin": PIN_FORMAT_ERROR})
    profile.set_pin(pin)
    profile.pin_failures = 0
    profile.pin_locked_until = None
    profile.save(update_fields=["pin_hash", "pin_failures", "pin_locked_until"])
    # A device that held the profile before it was locked (or with the old PIN) must ask again.
    ProfileToken.objects.filter(profile=profile).delete()


@transaction.atomic
def profile_pin_remove(*, profile: Profile) -> None:
    profile.set_pin(None)
    profile.pin_failures = 0
    profile.pin_locked_until = None
    profile.save(update_fields=["pin_hash", "pin_failures", "pin_locked_until"])


@sensitive_variables("pin")
def profile_pin_verify(*, profile: Profile, pin: str) -> bool:
    """Check a PIN for selecting the profile, counting wrong ones.

    After PROFILE_PIN_FAILURE_LIMIT wrong PINs in a row selection is locked for
    PROFILE_PIN_LOCKOUT_SECONDS (raises PinLockedOut, even for the right PIN, until then).
    The row is locked while counting, so parallel guesses cannot slip past the limit.
    Commits on a wrong PIN too (the count must survive the refusal).
    """
    with transaction.atomic():
        row = Profile.objects.select_for_update().get(pk=profile.pk)
        now = timezone.now()
        if row.pin_locked_until is not None and row.pin_locked_until > now:
            raise PinLockedOut(row.pin_locked_until)
        if is_pin_shaped(pin) and row.pin_matches(pin):
            if row.pin_failures or row.pin_locked_until:
                Profile.objects.filter(pk=row.pk).update(pin_failures=0, pin_locked_until=None)
            return True
        failures = row.pin_failures + 1
        locked_until = None
        if failures >= settings.PROFILE_PIN_FAILURE_LIMIT:
            failures = 0
            locked_until = now + timedelta(seconds=settings.PROFILE_PIN_LOCKOUT_SECONDS)
        Profile.objects.filter(pk=row.pk).update(pin_failures=failures, pin_locked_until=locked_until)
    if locked_until is not None:
        raise PinLockedOut(locked_until)
    return False


def profile_token_for(*, profile: Profile) -> ProfileToken:
    """The API token bound to this profile (created on first use)."""
    token = ProfileToken.objects.filter(profile=profile).first()
    return token or ProfileToken.objects.create(profile=profile)
