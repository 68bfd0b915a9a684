"""Building blocks of the personas: accounts with a profile and consents, and signed-in clients."""

from django.test import Client

from accounts.active import SESSION_KEY
from privacy import consent
from tests.support.factories import PASSWORD, ProfileFactory, UserFactory

__all__ = ["PASSWORD", "make_account", "signed_in_client"]


def make_account(username: str, *, consents: bool = True, **profile_kwargs):
    user = UserFactory(username=username)
    profile = ProfileFactory(account=user, name=username.title(), **profile_kwargs)
    if consents:
        consent.consents_set(account_id=user.pk, choices=dict.fromkeys(consent.PURPOSES, True), method="settings")
    return user, profile


def signed_in_client(user, profile=None) -> Client:
    client = Client()
    client.force_login(user)
    if profile is not None:
        session = client.session
        session[SESSION_KEY] = profile.pk
        session.save()
    return client
