"""Filters: the titles endpoint's, the browse page's (filters and their form) and the ratings
page's. They narrow a queryset that is already limited to what the caller may see
(catalog.selectors.visible_titles); they never widen it."""

import django_filters
from django import forms
from django.db.models import Case, F, IntegerField, When
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import NotFound

from accounts.maturity import MaturityLevel

from .models import Genre, RatingValue, Title, TitleKind
from .search import normalize_query, search_titles
from .selectors import titles_with_popularity

# Ranked search results taken into account; enough for any client that pages through them.
SEARCH_LIMIT = 500


def search_ids(*, profile, query: str) -> list[int]:
    """Ids of the matching titles, best first."""
    return [title.pk for title in search_titles(profile=profile, query=query, limit=SEARCH_LIMIT)]


# The titles endpoint's year bounds: wide enough for any catalog, narrow enough to be a year.
API_YEAR_MIN, API_YEAR_MAX = 1800, 3000


class YearFilter(django_filters.NumberFilter):
    # An integer field with bounds: a decimal or a 30-digit "year" is a form error, not a
    # database overflow.
    field_class = forms.IntegerField


class TitleFilterForm(forms.Form):
    """The titles endpoint's parameters. One sent empty (`?kind=`) is refused when its schema
    type has no empty value (an enum, an integer): django-filter would read it as "no filter"
    and answer every title to a client that asked for something it did not get."""

    TYPED = ("kind", "year")

    def clean(self):
        cleaned = super().clean()
        for name in self.TYPED:
            if self.data.get(name) == "":
                self.add_error(name, "Give a value or leave the parameter out.")
        return cleaned


def _documented(filter_, **schema):
    """`filter_`, with the whole schema of its query parameter: drf-spectacular types a filter
    but does not read the bounds its form field enforces (min/max values, max length), and a
    schema without them calls valid what the server refuses."""
    return extend_schema_field(schema)(filter_)


class TitleFilter(django_filters.FilterSet):
    search = _documented(
        django_filters.CharFilter(method="filter_search", max_length=1000),
        type="string",
        maxLength=1000,
        description="Words to search in names, synopses, people and genres (ranked best first; "
        "only the first 200 characters count).",
    )
    genre = django_filters.CharFilter(method="filter_genre", help_text="A genre's slug (an unknown one is a 404).")
    kind = django_filters.ChoiceFilter(choices=TitleKind.choices)
    year = _documented(
        YearFilter(field_name="year", min_value=API_YEAR_MIN, max_value=API_YEAR_MAX),
        type="integer",
        minimum=API_YEAR_MIN,
        maximum=API_YEAR_MAX,
    )
    external_id = _documented(
        django_filters.CharFilter(field_name="external_id", max_length=64),
        type="string",
        maxLength=64,
        description="e.g. ml:1",
    )

    class Meta:
        model = Title
        form = TitleFilterForm
        fields = ["search", "genre", "kind", "year", "external_id"]

    def __init__(self, *args, profile=None, **kwargs):
        self.profile = profile
        super().__init__(*args, **kwargs)

    def filter_genre(self, queryset, name, value):
        genre = Genre.objects.filter(slug=value).first()
        if genre is None:
            # Not a 400: the schema cannot list the slugs (they are data), so this is a well-formed
            # request for something that does not exist, like an unknown title id. Not an empty
            # page either: a mistyped genre would look like a genre without titles.
            raise NotFound("No genre has this slug.")
        return queryset.filter(genres=genre)

    def filter_search(self, queryset, name, value):
        query = normalize_query(value)
        if not query:
            return queryset
        ids = search_ids(profile=self.profile, query=query)
        if not ids:
            return queryset.none()
        rank = Case(*[When(pk=pk, then=position) for position, pk in enumerate(ids)], output_field=IntegerField())
        return queryset.filter(pk__in=ids).annotate(search_rank=rank).order_by("search_rank")


# --- The browse page ----------------------------------------------------------------------

YEAR_MIN, YEAR_MAX = 1870, 2100


class BrowseForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("year_from"), cleaned.get("year_to")
        if start is not None and end is not None and start > end:
            self.add_error("year_to", "“To” must not be before “From”.")
        return cleaned


SORTS = {
    "popular": ("Most popular", [F("popularity").desc(), "name", "pk"]),
    "newest": ("Newest added", [F("date_added").desc(), "-pk"]),
    "year": ("Release year (newest)", [F("year").desc(nulls_last=True), "name", "pk"]),
    "name": ("Name A–Z", ["name", "pk"]),
}
DEFAULT_SORT = "popular"


class BrowseFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=TitleKind.choices, empty_label="Films and series", label="Type")
    year_from = YearFilter(
        field_name="year", lookup_expr="gte", label="From year", min_value=YEAR_MIN, max_value=YEAR_MAX
    )
    year_to = YearFilter(field_name="year", lookup_expr="lte", label="To year", min_value=YEAR_MIN, max_value=YEAR_MAX)
    maturity = django_filters.ChoiceFilter(
        field_name="maturity_level",
        lookup_expr="lte",
        choices=MaturityLevel.choices,
        empty_label="Any maturity",
        label="Maturity up to",
    )
    sort = django_filters.ChoiceFilter(
        choices=[(key, label) for key, (label, _) in SORTS.items()],
        empty_label=None,
        label="Sort by",
        method="sort_by",
    )

    class Meta:
        form = BrowseForm
        fields: list[str] = []

    def __init__(self, *args, profile=None, **kwargs):
        super().__init__(*args, **kwargs)
        if profile is not None:
            # Only the levels this profile may reach; the queryset is already capped anyway.
            self.filters["maturity"].extra["choices"] = [
                (value, label) for value, label in MaturityLevel.choices if value <= profile.maturity_limit
            ]

    def sort_by(self, queryset, name, value):
        return queryset  # applied in filter_queryset, after the filters, with a default

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        sort = self.form.cleaned_data.get("sort") or DEFAULT_SORT
        if sort == "popular":
            queryset = titles_with_popularity(queryset)
        return queryset.order_by(*SORTS[sort][1])


# --- The ratings page ---------------------------------------------------------------------


class RatingFilterForm(forms.Form):
    value = forms.ChoiceField(
        choices=[("", "All ratings"), *RatingValue.choices, ("excluded", "Not used to recommend")],
        required=False,
        label="Show",
    )
