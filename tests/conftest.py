"""Shared fixtures: the personas every permission test uses, and signed-in clients.

- `owner`: an account with one adult profile and every consent granted.
- `other`: a second, unrelated account (its objects must be 404 to the owner).
- `staff`: a staff superuser with no viewing profile (the admin, the insights pages and the
  model registry are theirs; nothing they do counts as audience data). `staff_client` is signed in.
- anonymous: the plain `client` fixture.

Fixtures of one area live in that area's conftest.py (tests/api, tests/recommendations,
tests/insights, tests/browser); helpers to import live in tests/support.
"""

import pytest

from tests.support.accounts import make_account, signed_in_client
from tests.support.factories import UserFactory


@pytest.fixture
def owner(db):
    return make_account("owner")


@pytest.fixture
def other(db):
    return make_account("other")


@pytest.fixture
def staff(db):
    return UserFactory(username="staff", is_staff=True, is_superuser=True)


@pytest.fixture
def owner_client(owner):
    user, profile = owner
    return signed_in_client(user, profile)


@pytest.fixture
def other_client(other):
    user, profile = other
    return signed_in_client(user, profile)


@pytest.fixture
def staff_client(staff):
    return signed_in_client(staff)


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
