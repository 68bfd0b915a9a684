"""Reads of the catalog, always through what the active profile may see.

`visible_titles(profile)` is the one definition of visibility: published, at or below the
profile's maturity limit, and never unrated for kids. Every surface (rows, search,
suggestions, browse, detail, player, API) starts from it.
"""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.maturity import MaturityRating
from accounts.models import Profile

from .models import Title


def visible_titles(profile: Profile | None) -> QuerySet[Title]:
    qs = Title.objects.filter(is_published=True)
    if profile is None:
        # Signed-out visitors (and API callers without a profile) see family titles only.
        from accounts.maturity import KIDS_MAX_LEVEL

        return qs.filter(maturity_level__lte=KIDS_MAX_LEVEL).exclude(maturity_rating=MaturityRating.UNRATED)
    qs = qs.filter(maturity_level__lte=profile.maturity_limit)
    if profile.is_kids:
        qs = qs.exclude(maturity_rating=MaturityRating.UNRATED)
    return qs


def title_get_for_profile(*, profile: Profile | None, slug: str | None = None, pk: int | None = None) -> Title:
    """The title if this profile may see it, else Http404 (unknown, unpublished, too mature)."""
    lookup = {"slug": slug} if slug is not None else {"pk": pk}
    return get_object_or_404(visible_titles(profile), **lookup)
