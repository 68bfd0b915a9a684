"""A title's generated artwork: the facts a poster variant draws on, read in two queries.

Drawing lives in catalog.posters (pure functions of plain values); this module reads what it
needs from the database: genre names, tag names by weight, and the top-billed actor.
"""

from __future__ import annotations

from .models import CreditRole, Title
from .posters import DEFAULT_VARIANT, VARIANTS, poster_svg

__all__ = ["DEFAULT_VARIANT", "VARIANTS", "is_variant", "title_artwork_svg"]


def is_variant(value: str) -> bool:
    return value in VARIANTS


def title_artwork_svg(title: Title, variant: str = DEFAULT_VARIANT) -> str:
    """The generated SVG of `title` in `variant` (one of VARIANTS). Up to three small queries:
    genres always, tags for "setting" (and the default, whose setting label is embedded), the
    lead for "cast"."""
    genres = sorted(title.genres.values_list("name", flat=True))
    tags = list(title.title_tags.order_by("-weight", "tag__name").values_list("tag__name", flat=True)[:12])
    lead = None
    if variant == "cast":
        lead = (
            title.credits.filter(role=CreditRole.ACTOR)
            .order_by("order", "pk")
            .values_list("person__name", flat=True)
            .first()
        )
    return poster_svg(
        title_id=title.pk, name=title.name, year=title.year, genres=genres, tags=tags, lead=lead, variant=variant
    )
