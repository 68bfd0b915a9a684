"""Composes a profile's home page: which rows, in which order, and whether it is personal.

The recommender owns this module; catalog supplies the non-personalized rows
(`catalog.rows`), and this module adds the personalized ones when it can.
"""

from dataclasses import dataclass, field

from accounts.models import Profile
from catalog.rows import Row, non_personalized_rows


@dataclass
class Home:
    personalized: bool
    rows: list[Row]
    model_version: str | None = None
    # Why the home is not personalized, in words a person can read (None when it is).
    notice: str | None = None
    extra: dict = field(default_factory=dict)


def build_home(*, profile: Profile) -> Home:
    return Home(
        personalized=False,
        rows=non_personalized_rows(profile=profile),
        notice="Personalized rows arrive once the recommender has been trained.",
    )
