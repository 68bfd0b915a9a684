"""Helpers for the API tests: token clients, and the shape of the small world of data that
tests/api/conftest.py builds (the `world` fixture)."""

from dataclasses import dataclass

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Profile, ProfileToken, User
from catalog.models import Title


def token_client(user: User | None, *, password: str | None = None) -> APIClient:
    """An API client with the account's token; `password` also sends it in X-Marquee-Password
    on every call (what account-level calls need)."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        headers = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
        if password is not None:
            headers["HTTP_X_MARQUEE_PASSWORD"] = password
        client.credentials(**headers)
    return client


def bound_token_client(profile: Profile) -> APIClient:
    """An API client with a token bound to this profile (a TV, a tablet)."""
    client = APIClient()
    token = ProfileToken.objects.create(profile=profile)
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
