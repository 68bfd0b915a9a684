"""Building blocks of the personas: accounts with a profile and consents, and signed-in clients."""

import time

from django.test import Client

from accounts.active import SESSION_KEY
from common.sudo import KIDS_LOCK_KEY, SUDO_PROFILE_KEY, SUDO_SESSION_KEY
from privacy import consent
from tests.support.factories import PASSWORD, ProfileFactory, UserFactory

__all__ = ["PASSWORD", "make_account", "signed_in_client"]


def make_account(username: str, *, consents: bool = True, **profile_kwargs):
    user = UserFactory(username=username)
    profile = ProfileFactory(account=user, name=username.title(), **profile_kwargs)
    if consents:
        consent.consents_set(account_id=user.pk, choices=dict.fromkeys(consent.PURPOSES, True), method="settings")
    return user, profile


def signed_in_client(user, profile=None, *, sudo: bool = True) -> Client:
    """A browser that has just signed in (so in sudo mode, as a real log-in is: common.sudo),
    with `profile` active. sudo=False: the password was entered longer ago than sudo mode lasts.
    A kids profile never carries sudo mode."""
    client = Client()
    client.force_login(user)
    session = client.session
    if profile is not None:
        session[SESSION_KEY] = profile.pk
    if sudo and not (profile is not None and profile.is_kids):
        session[SUDO_SESSION_KEY] = time.time() + 600
        session[SUDO_PROFILE_KEY] = profile.pk if profile is not None else None
    if profile is not None and profile.is_kids:
        session[KIDS_LOCK_KEY] = True
    session.save()
    return client
