"""Shared fixtures: the personas every permission test uses, and signed-in clients.

- `owner`: an account with one adult profile and every consent granted.
- `other`: a second, unrelated account (its objects must be 404 to the owner).
- anonymous: the plain `client` fixture.
"""

import pytest
from django.test import Client

from accounts.active import SESSION_KEY
from privacy import consent

from .factories import ProfileFactory, UserFactory

PASSWORD = "correct-horse-battery"


def make_account(username: str, *, consents: bool = True, **profile_kwargs):
    user = UserFactory(username=username)
    profile = ProfileFactory(account=user, name=username.title(), **profile_kwargs)
    if consents:
        consent.consents_set(account_id=user.pk, choices=dict.fromkeys(consent.PURPOSES, True), method="settings")
    return user, profile


@pytest.fixture
def owner(db):
    return make_account("owner")


@pytest.fixture
def other(db):
    return make_account("other")


def signed_in_client(user, profile=None) -> Client:
    client = Client()
    client.force_login(user)
    if profile is not None:
        session = client.session
        session[SESSION_KEY] = profile.pk
        session.save()
    return client


@pytest.fixture
def owner_client(owner):
    user, profile = owner
    return signed_in_client(user, profile)


@pytest.fixture
def other_client(other):
    user, profile = other
    return signed_in_client(user, profile)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Every test starts cold: the shared cache and the recommender's per-process state
    (serving model, catalog index) would otherwise carry one test's model into the next."""
    from django.core.cache import cache

    from recommendations import catalog_index, serving

    cache.clear()
    serving.reset()
    catalog_index.reset_index()
    yield
    cache.clear()
    serving.reset()
    catalog_index.reset_index()


def require_postgres():
    """Skip unless this run's database is PostgreSQL (DATABASE_URL picks it, at run time)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
