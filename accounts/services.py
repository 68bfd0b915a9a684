"""Writes for accounts and profiles. Keyword-only, atomic; views and APIs stay thin."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from privacy import consent

from .maturity import ADULT_DEFAULT_LEVEL, KIDS_DEFAULT_LEVEL, KIDS_MAX_LEVEL
from .models import AVATAR_COLORS, Profile, User


class ProfileLimitReached(ValidationError):
    pass


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
def profile_create(*, account: User, name: str, is_kids: bool = False, maturity_limit: int | None = None) -> Profile:
    # Lock the account row so two concurrent requests cannot both create the sixth profile.
    User.objects.select_for_update().filter(pk=account.pk).first()
    count = Profile.objects.filter(account=account).count()
    if count >= settings.MAX_PROFILES_PER_ACCOUNT:
        raise ProfileLimitReached(f"An account can have at most {settings.MAX_PROFILES_PER_ACCOUNT} profiles.")
    if maturity_limit is None:
        maturity_limit = KIDS_DEFAULT_LEVEL if is_kids else ADULT_DEFAULT_LEVEL
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
        if is_kids and maturity_limit is None and profile.maturity_limit > KIDS_MAX_LEVEL:
            profile.maturity_limit = KIDS_DEFAULT_LEVEL
    if maturity_limit is not None:
        profile.maturity_limit = maturity_limit
    profile.full_clean()
    profile.save()
    return profile


@transaction.atomic
def profile_delete(*, profile: Profile) -> None:
    if Profile.objects.filter(account_id=profile.account_id).count() <= 1:
        raise ValidationError("An account needs at least one profile.")
    profile.delete()


def profile_engagement_touch(*, profile_ids) -> int:
    """Move the engagement stamp of these profiles (ids, or a values() subquery): whatever taste
    was derived from their signals (the recommender's cached taste and vector) is stale now.

    The one way to say "this profile's signals changed": every write of a signal calls it.
    """
    return Profile.objects.filter(pk__in=profile_ids).update(engagement_stamp=F("engagement_stamp") + 1)
