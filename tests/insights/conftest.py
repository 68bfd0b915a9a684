"""Fixtures of the insights tests."""

import pytest


@pytest.fixture(autouse=True)
def k3(settings):
    """k-anonymity threshold 3: the tests' small groups (3 or 4 profiles) show, 1 or 2 are suppressed."""
    settings.INSIGHTS_MIN_GROUP_SIZE = 3
