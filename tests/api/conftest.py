"""Fixtures of the API tests: `world`, a small world of data seen by every persona."""

import pytest

from accounts.maturity import MaturityRating
from catalog import services
from tests.support.api import World
from tests.support.factories import EpisodeFactory, GenreFactory, ProfileFactory, TitleFactory


@pytest.fixture
def world(owner, other) -> World:
    owner_user, owner_profile = owner
    other_user, other_profile = other
    drama = GenreFactory(name="Drama", slug="drama")
    family = TitleFactory(name="Family Picnic", maturity_rating=MaturityRating.PG, genres=[drama], year=1999)
    teen = TitleFactory(name="Teen Heist", maturity_rating=MaturityRating.PG_13, year=2010)
    mature = TitleFactory(name="Night Crime", maturity_rating=MaturityRating.R, year=2015)
    unrated = TitleFactory(name="Unrated Oddity", maturity_rating=MaturityRating.UNRATED)
    unpublished = TitleFactory(name="Secret Cut", maturity_rating=MaturityRating.PG, is_published=False)
    episode = EpisodeFactory(season__title__name="Family Series", season__title__maturity_rating=MaturityRating.TV_G)
    services.rating_set(profile=owner_profile, title=family, value="up")
    services.list_add(profile=owner_profile, title=family)
    services.viewing_record(
        profile=owner_profile, title=family, episode=None, position_seconds=60, duration_seconds=6000
    )
    second = ProfileFactory(account=owner_user, name="Second")
    return World(
        owner=owner_user,
        owner_profile=owner_profile,
        owner_second=second,
        other=other_user,
        other_profile=other_profile,
        family_title=family,
        teen_title=teen,
        mature_title=mature,
        unrated_title=unrated,
        unpublished_title=unpublished,
        series=episode.title,
    )
