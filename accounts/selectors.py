"""Reads for accounts. Ownership is part of every lookup: another account's profile is a 404."""

from django.shortcuts import get_object_or_404

from .models import Profile, User


def profiles_of(*, account: User):
    return Profile.objects.filter(account=account).order_by("created_at", "id")


def profile_get_for_account(*, account: User, profile_id) -> Profile:
    """The account's profile with this id, or Http404 (never a 403 that confirms it exists)."""
    profile = get_object_or_404(Profile, pk=profile_id, account=account)
    profile.account = account
    return profile
