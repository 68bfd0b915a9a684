"""Non-personalized home rows, built from catalog data for one profile.

A Row is what the home page and the API render: a key (the HTML hook `data-row`), a
heading, a reason a person can read, and its titles, each with its own reason.
"""

from dataclasses import dataclass, field

from accounts.models import Profile

from .models import Title


@dataclass
class RowItem:
    title: Title
    reason: str = ""
    # Player progress 0..1 for Continue watching, else None.
    progress: float | None = None


@dataclass
class Row:
    key: str
    title: str
    reason: str
    items: list[RowItem] = field(default_factory=list)


def non_personalized_rows(*, profile: Profile) -> list[Row]:
    """Continue watching, My List, Trending now, New arrivals, Collections, genre rows."""
    return []
