"""Shared helpers for the API tests (no tests here): token clients and a small world of data."""

from dataclasses import dataclass

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.maturity import MaturityRating
from accounts.models import Profile, User
from catalog import services
from catalog.models import Title

from .conftest import PASSWORD
from .factories import EpisodeFactory, GenreFactory, ProfileFactory, TitleFactory

__all__ = ["PASSWORD", "World", "token_client", "world"]


def token_client(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@dataclass
class World:
    owner: User
    owner_profile: Profile
    owner_second: Profile
    other: User
    other_profile: Profile
    family_title: Title  # PG: visible to everyone, anonymous included
    teen_title: Title  # PG-13: adults only
    mature_title: Title  # R
    unrated_title: Title
    unpublished_title: Title
    series: Title

    def owner_rows(self) -> tuple:
        """What the owner has, to check that another persona's request changed none of it."""
        profile = Profile.objects.get(pk=self.owner_profile.pk)
        return (
            profile.engagement_stamp,
            profile.name,
            profile.is_kids,
            profile.maturity_limit,
            Profile.objects.filter(account=self.owner).count(),
            sorted(profile.ratings.values_list("title_id", "value", "exclude_from_recommendations")),
            sorted(profile.list_entries.values_list("title_id", flat=True)),
            sorted(profile.viewing.values_list("title_id", "position_seconds", "exclude_from_recommendations")),
            sorted(profile.hidden_titles.values_list("title_id", flat=True)),
        )


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
