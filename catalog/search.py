"""Title search behind one function, `search_titles`, which picks the engine by database vendor.

- PostgreSQL: full-text search (name weighted A, synopsis B, websearch syntax, ranked) plus
  trigram similarity on the name so typos still find the title, plus people and genre names.
  The text-search expression is built exactly like the GIN index of migration 0002
  (`catalog_title_fts`), so the planner can use that index; the trigram match uses
  `catalog_title_name_trgm`.
- Anything else (SQLite, the embedded default): LIKE matching, name prefix ranked first.

Results are always within `visible_titles(profile)`. Search terms are personal data (see the
privacy notes): nothing in here logs them, and callers must not either.
"""

import re

from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    TrigramSimilarity,
    TrigramWordSimilarity,
)
from django.db import connection
from django.db.models import Case, F, FloatField, Q, QuerySet, Value, When
from django.db.models.functions import Greatest

from accounts.models import Profile

from .models import SEARCH_QUERY_MAX_LENGTH, Credit, Genre, Title
from .selectors import titles_with_popularity, visible_titles

# As long as a stored search may be (SearchQuery.query).
MAX_QUERY_LENGTH = SEARCH_QUERY_MAX_LENGTH
# Suggestions start at this many characters: one letter matches half the catalog.
SUGGEST_MIN_LENGTH = 2
# A query is cut to this many words for the LIKE fallback, which adds one clause per word.
MAX_WORDS = 8
FTS_CONFIG = "english"
# Typo tolerance (trigrams) for queries up to this long.
FUZZY_MAX_LENGTH = 60

# websearch_to_tsquery operators that make a query precise: "a phrase", -excluded.
_OPERATORS = re.compile(r'"|(?:^|\s)-\w')
# Control characters (NUL above all: PostgreSQL refuses it in a string) never belong in a query.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normalize_query(raw: str | None) -> str:
    """The query as searched and recorded: control characters dropped, spaces collapsed, <= 200 chars."""
    if not raw:
        return ""
    # Cut first so a megabyte of input costs no more than a few hundred characters of work.
    text = _CONTROL.sub(" ", raw[: MAX_QUERY_LENGTH * 4])
    return " ".join(text.split())[:MAX_QUERY_LENGTH].strip()


def query_truncated(raw: str | None) -> bool:
    """Whether `normalize_query` had to cut the query (not merely tidy its spaces)."""
    return bool(raw) and len(" ".join(_CONTROL.sub(" ", raw).split())) > MAX_QUERY_LENGTH


def search_titles(*, profile: Profile | None, query: str, limit: int | None = None) -> QuerySet[Title]:
    """Titles this profile may see that match `query`, best first (an empty queryset for no query)."""
    query = normalize_query(query)
    if not query:
        return Title.objects.none()
    base = visible_titles(profile)
    engine = _postgres_search if connection.vendor == "postgresql" else _fallback_search
    qs = engine(base, query)
    return qs[:limit] if limit else qs


def _genre_ids(query: str) -> QuerySet:
    # A genre matches when the query is its name or one of the query's words is ("war",
    # "romantic comedy"); plain substring matching would make "the warriors" a war film.
    words = [w for w in query.split()[:MAX_WORDS] if len(w) >= 3]
    match = Q(name__iexact=query)
    for word in words:
        match |= Q(name__iexact=word)
    return Genre.objects.filter(match).values("titles")


def _postgres_search(base: QuerySet[Title], query: str) -> QuerySet[Title]:
    # Must stay identical to the index expression in migration 0002 for the index to be used.
    document = SearchVector("name", weight="A", config=FTS_CONFIG) + SearchVector(
        "synopsis", weight="B", config=FTS_CONFIG
    )
    tsquery = SearchQuery(query, search_type="websearch", config=FTS_CONFIG)

    # Each way of matching is its own id subquery, so each can use its own index (an OR over
    # joins would force a scan of everything); PostgreSQL runs each once as a hashed subplan.
    fts_ids = Title.objects.annotate(document=document).filter(document=tsquery).values("pk")
    person_match = Q(person__name__icontains=query)
    if len(query) <= FUZZY_MAX_LENGTH:
        # Word similarity (`name %> query`) alone: it already finds a misspelt whole name, and
        # one trigram operator is one index scan (two OR'ed ones cost twice for nothing new).
        name_ids = Title.objects.filter(name__trigram_word_similar=query).values("pk")
        person_match |= Q(person__name__trigram_word_similar=query)
    else:
        # Nobody misspells a paragraph, and trigram work grows with the query: skip it.
        name_ids = Title.objects.none().values("pk")
    person_ids = Credit.objects.filter(person_match).values("title_id")
    genre_ids = _genre_ids(query)

    if _OPERATORS.search(query):
        # A quoted phrase or an excluded -word asks for precision: fuzzy matches would bring
        # back exactly what was excluded, so only the full-text match counts.
        matches = base.filter(pk__in=fts_ids)
    else:
        matches = base.filter(Q(pk__in=fts_ids) | Q(pk__in=name_ids) | Q(pk__in=person_ids) | Q(pk__in=genre_ids))
    score = (
        # An exact name beats everything, then a name that starts with the query.
        Case(When(name__iexact=query, then=Value(4.0)), default=Value(0.0), output_field=FloatField())
        + Case(When(name__istartswith=query, then=Value(1.0)), default=Value(0.0), output_field=FloatField())
        + SearchRank(document, tsquery)
        # The better of whole-name and best-word similarity: "godfater" ~ "The Godfather".
        + Greatest(TrigramSimilarity("name", query), _word_similarity(query))
        + Case(When(pk__in=person_ids, then=Value(0.5)), default=Value(0.0), output_field=FloatField())
        + Case(When(pk__in=genre_ids, then=Value(0.2)), default=Value(0.0), output_field=FloatField())
    )
    return (
        titles_with_popularity(matches)
        .annotate(score=score)
        .order_by(F("score").desc(), F("popularity").desc(), "name", "pk")
    )


def _word_similarity(query: str):
    return TrigramWordSimilarity(query, "name")


def _fallback_search(base: QuerySet[Title], query: str) -> QuerySet[Title]:
    words = query.split()[:MAX_WORDS]
    every_word = Q()
    for word in words:
        every_word &= Q(name__icontains=word) | Q(synopsis__icontains=word)
    person_ids = Credit.objects.filter(person__name__icontains=query).values("title_id")
    genre_ids = _genre_ids(query)
    matches = base.filter(Q(name__icontains=query) | every_word | Q(pk__in=person_ids) | Q(pk__in=genre_ids))
    every_word_in_name = Q()
    for word in words:
        every_word_in_name &= Q(name__icontains=word)
    score = Case(
        When(name__iexact=query, then=Value(10)),
        When(name__istartswith=query, then=Value(8)),
        When(name__icontains=query, then=Value(6)),
        When(every_word_in_name, then=Value(5)),
        When(pk__in=person_ids, then=Value(4)),
        When(every_word, then=Value(2)),
        default=Value(1),
    )
    return (
        titles_with_popularity(matches)
        .annotate(score=score)
        .order_by(F("score").desc(), F("popularity").desc(), "name", "pk")
    )
