"""Filters for the titles endpoint. They narrow a queryset that is already limited to what the
caller may see (catalog.selectors.visible_titles); they never widen it."""

import django_filters
from django.db.models import Case, IntegerField, Q, When

from .models import Genre, Title, TitleKind

SEARCH_MAX_LENGTH = 200
# Ranked search results taken into account; enough for any client that pages through them.
SEARCH_LIMIT = 500


def search_ids(*, profile, query: str) -> list[int]:
    """Ids of the matching titles, best first, through catalog.search when it exists."""
    try:
        from .search import search_titles
    except ImportError:  # the search module is optional; a plain name match stands in
        search_titles = None
    if search_titles is not None:
        return [title.pk for title in search_titles(profile=profile, query=query, limit=SEARCH_LIMIT)]
    from .selectors import visible_titles

    return list(
        visible_titles(profile)
        .filter(Q(name__icontains=query) | Q(synopsis__icontains=query))
        .values_list("pk", flat=True)[:SEARCH_LIMIT]
    )


class TitleFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=1000,
        help_text="Words to search in names, synopses, people and genres (ranked best first; "
        "only the first 200 characters count).",
    )
    genre = django_filters.ModelChoiceFilter(
        field_name="genres",
        to_field_name="slug",
        queryset=Genre.objects.all(),
        help_text="A genre's slug.",
    )
    kind = django_filters.ChoiceFilter(choices=TitleKind.choices)
    year = django_filters.NumberFilter(field_name="year", min_value=1800, max_value=3000)
    external_id = django_filters.CharFilter(field_name="external_id", max_length=64, help_text="e.g. ml:1")

    class Meta:
        model = Title
        fields = ["search", "genre", "kind", "year", "external_id"]

    def __init__(self, *args, profile=None, **kwargs):
        self.profile = profile
        super().__init__(*args, **kwargs)

    def filter_search(self, queryset, name, value):
        query = " ".join(value.split())[:SEARCH_MAX_LENGTH]
        if not query:
            return queryset
        ids = search_ids(profile=self.profile, query=query)
        if not ids:
            return queryset.none()
        rank = Case(*[When(pk=pk, then=position) for position, pk in enumerate(ids)], output_field=IntegerField())
        return queryset.filter(pk__in=ids).annotate(search_rank=rank).order_by("search_rank")
