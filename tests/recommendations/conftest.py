"""Fixtures of the recommender tests: a private model folder (`rec_env`) and the taste-cluster
catalog (`cat`, see tests/support/recommender.py)."""

import pytest

from recommendations import catalog_index, serving
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
