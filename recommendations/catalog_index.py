"""A per-process index of which genres each title has (for reasons, genre rows and onboarding).

Genres change rarely, so the index is rebuilt at most every INDEX_SECONDS, in two queries. A
leaf module (catalog models only), so serving, rows and selectors can all use it.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

from catalog.models import Genre, Title

INDEX_SECONDS = 300.0


@dataclass
class CatalogIndex:
    built_at: float
    genre_names: dict[str, str]  # slug -> name
    title_genres: dict[int, list[str]]  # title id -> genre slugs


_index: CatalogIndex | None = None


def catalog_index() -> CatalogIndex:
    global _index
    now = time.monotonic()
    if _index is None or now - _index.built_at > INDEX_SECONDS:
        names = dict(Genre.objects.values_list("slug", "name"))
        pairs: dict[int, list[str]] = defaultdict(list)
        for tid, slug in Title.genres.through.objects.values_list("title_id", "genre__slug").order_by("id"):
            pairs[tid].append(slug)
        _index = CatalogIndex(built_at=now, genre_names=names, title_genres=dict(pairs))
    return _index


def reset_index() -> None:
    """Forget the index (tests; after a bulk change of genres)."""
    global _index
    _index = None
