"""Fixtures of the recommender tests: a private model folder (`rec_env`) and the taste-cluster
catalog (`cat`, see tests/support/recommender.py)."""

import pytest

from privacy import consent
from recommendations import catalog_index, serving
from tests.support.factories import ProfileFactory, UserFactory
from tests.support.recommender import Catalog


@pytest.fixture
def rec_env(db, settings, tmp_path):
    """A clean per-process serving state and a private model folder for each test."""
    settings.MODEL_ROOT = tmp_path / "models"
    serving.reset()
    catalog_index.reset_index()
    yield
    serving.reset()
    catalog_index.reset_index()


@pytest.fixture
def cat(db) -> Catalog:
    return Catalog()


# Fold-in seeds its WARP steps with the profile id (recommendations.foldin), so a profile's rows
# depend on its id. SQLite reuses ids after each test's rollback; PostgreSQL's sequences do not,
# so there the owner's id would depend on how many tests ran before. A fixed id keeps every
# recommender test's outcome the same on both stacks and in any order.
OWNER_PROFILE_ID = 700_001


@pytest.fixture
def owner(db):
    user = UserFactory(username="owner")
    profile = ProfileFactory(pk=OWNER_PROFILE_ID, account=user, name="Owner")
    consent.consents_set(account_id=user.pk, choices=dict.fromkeys(consent.PURPOSES, True), method="settings")
    return user, profile
