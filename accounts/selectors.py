"""Reads for accounts. Ownership is part of every lookup: another account's profile is a 404."""

import hashlib

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from .models import Device, DeviceKind, EmailChange, Profile, User


def profiles_of(*, account: User):
    return Profile.objects.filter(account=account).order_by("created_at", "id")


def profile_get_for_account(*, account: User, profile_id) -> Profile:
    """The account's profile with this id, or Http404 (never a 403 that confirms it exists)."""
    profile = get_object_or_404(Profile, pk=profile_id, account=account)
    profile.account = account
    return profile


def devices_of(*, account: User):
    """Everything signed in to the account, most recently seen first (for "Sessions and
    devices"). A token's row shows the profile it is bound to."""
    # An expired session stays in django_session until it is cleared; it signs nobody in.
    return (
        Device.objects.filter(account=account)
        .exclude(kind=DeviceKind.SESSION, session__expire_date__lte=timezone.now())
        .select_related("profile_token__profile")
        .order_by("-last_seen_at", "-id")
    )


def device_get_for_account(*, account: User, device_id) -> Device:
    """The account's device with this id, or Http404 (another account's is a 404 too)."""
    return get_object_or_404(Device, pk=device_id, account=account)


def current_device_id(*, request) -> int | None:
    """The row of the session or token making this request ("this device")."""
    token = getattr(request, "auth", None)
    if token is not None:
        device = getattr(token, "device", None)
        return device.pk if device is not None else None
    key = getattr(getattr(request, "session", None), "session_key", None)
    if not key:
        return None
    return Device.objects.filter(session_id=key, account=request.user).values_list("pk", flat=True).first()


def email_change_pending(*, account: User) -> EmailChange | None:
    return (
        EmailChange.objects.filter(account=account, used_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-created_at")
        .first()
    )


class EmailChangeInvalid(Exception):
    """The confirmation link cannot be used (unknown, tampered, used, expired, or the address
    was taken meanwhile): a 400 with this message, and nothing changes."""


class EmailChangeNotYours(Exception):
    """A valid link of another account: a 404, as anything of another account is."""


def email_change_token_hash(token: str) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()


def email_taken(*, email: str, except_account_id: int) -> bool:
    return User.objects.filter(email__iexact=email).exclude(pk=except_account_id).exists()


def email_change_check(*, account: User, token: str, queryset=None) -> EmailChange:
    """The pending change this link names, if the signed-in `account` may apply it now; raises
    EmailChangeNotYours or EmailChangeInvalid otherwise. (The service calls it again under a lock.)"""
    rows = queryset if queryset is not None else EmailChange.objects.all()
    change = rows.filter(token_hash=email_change_token_hash(token)).first()
    if change is None:
        raise EmailChangeInvalid("This link is not valid. Ask for a new one from the account page.")
    if change.account_id != account.pk:
        raise EmailChangeNotYours()
    if change.used_at is not None:
        raise EmailChangeInvalid("This link has already been used.")
    if change.account_fingerprint and not constant_time_compare(
        change.account_fingerprint, account.get_session_auth_hash()
    ):
        # The password was changed or reset, or every device signed out, since the request: the
        # request may be the very reason (someone else had the password), so it does not survive.
        raise EmailChangeInvalid(
            "The account's password was changed, or its devices signed out, after this change was asked "
            "for, so this link no longer works. Ask again from the account page if you still want it."
        )
    if change.expires_at <= timezone.now():
        raise EmailChangeInvalid(
            "This link has expired, or a newer request replaced it. Ask for a new one from the account page."
        )
    if email_taken(email=change.new_email, except_account_id=account.pk):
        raise EmailChangeInvalid("This address now belongs to another account, so it cannot be used here.")
    return change
