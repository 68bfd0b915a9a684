"""Reads of the catalog, always through what the active profile may see.

`visible_titles(profile)` is the one definition of visibility: published, at or below the
profile's maturity limit, never unrated for kids, and never a title the account holder blocked
for this profile (viewing restrictions). Every surface (rows, search, suggestions, browse,
detail, player, API) starts from it.
"""

from django.core.exceptions import ValidationError
from django.db.models import (
    PROTECT,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.maturity import KIDS_MAX_LEVEL, MaturityRating
from accounts.models import Profile

from .models import (
    BlockedTitle,
    Credit,
    CreditRole,
    Episode,
    Genre,
    HiddenTitle,
    ListEntry,
    Person,
    Rating,
    SearchQuery,
    Title,
    TitleTag,
    ViewingActivity,
)


def visible_titles(profile: Profile | None) -> QuerySet[Title]:
    """What this profile may see (see the module docstring); None: a signed-out visitor."""
    qs = maturity_visible_titles(profile)
    if profile is None:
        return qs
    # NOT EXISTS rather than a join: no extra query, and the planner uses the unique index.
    return qs.filter(~Exists(BlockedTitle.objects.filter(profile_id=profile.pk, title=OuterRef("pk"))))


def maturity_visible_titles(profile: Profile | None) -> QuerySet[Title]:
    """Visibility by maturity setting alone: the same for every profile with that setting.

    Only for what is shared by all profiles at one setting (the cached home shelves, the
    recommender's memoized mask); what is finally shown to a profile must go through
    `visible_titles`, which also takes out the titles blocked for it.
    """
    qs = Title.objects.filter(is_published=True)
    if profile is None:
        # Signed-out visitors (and API callers without a profile) see family titles only.

        return qs.filter(maturity_level__lte=KIDS_MAX_LEVEL).exclude(maturity_rating=MaturityRating.UNRATED)
    qs = qs.filter(maturity_level__lte=profile.maturity_limit)
    if profile.is_kids:
        qs = qs.exclude(maturity_rating=MaturityRating.UNRATED)
    return qs


def title_get_for_profile(*, profile: Profile | None, slug: str | None = None, pk: int | None = None) -> Title:
    """The title if this profile may see it, else Http404 (unknown, unpublished, too mature)."""
    lookup = {"slug": slug} if slug is not None else {"pk": pk}
    return get_object_or_404(visible_titles(profile), **lookup)


# --- Browse, search and the profile's own pages ----------------------------------------------


def titles_with_popularity(qs: QuerySet[Title]) -> QuerySet[Title]:
    """Annotate `popularity`: how many ratings plus viewings a title has (all profiles).

    Correlated counts rather than two joins: joining ratings and viewings together would
    multiply them (a title with 300 of each would become 90,000 rows before counting).
    """

    def count_of(model):
        counted = model.objects.filter(title=OuterRef("pk")).order_by().values("title").annotate(n=Count("*"))
        return Coalesce(Subquery(counted.values("n"), output_field=IntegerField()), Value(0))

    return qs.annotate(popularity=count_of(Rating) + count_of(ViewingActivity))


def genres_for_nav(profile: Profile | None) -> QuerySet:
    """Genres holding at least one title this profile may see (a kids profile gets no empty Horror)."""

    return Genre.objects.filter(Exists(visible_titles(profile).filter(genres=OuterRef("pk")))).order_by("name")


def list_entries_for_profile(profile: Profile) -> QuerySet:
    """The profile's My List, newest first, only titles it may (still) see."""

    return (
        ListEntry.objects.filter(profile=profile, title__in=visible_titles(profile))
        .select_related("title")
        .order_by("-added_at", "-id")
    )


def ratings_for_profile(profile: Profile, *, value: str | None = None) -> QuerySet:
    """The profile's ratings, most recently changed first, only titles it may (still) see.

    `value` filters by rating; "excluded" keeps those marked "Don't use this to recommend".
    """

    qs = Rating.objects.filter(profile=profile, title__in=visible_titles(profile))
    if value == "excluded":
        qs = qs.filter(exclude_from_recommendations=True)
    elif value:
        qs = qs.filter(value=value)
    return qs.select_related("title").order_by("-updated_at", "-id")


def rejected_title_ids(profile: Profile) -> QuerySet:
    """A subquery of the titles the profile rated down or marked "Not for me"."""

    return Title.objects.filter(
        Q(pk__in=Rating.objects.filter(profile=profile, value="down").values("title_id"))
        | Q(pk__in=HiddenTitle.objects.filter(profile=profile).values("title_id"))
    ).values("pk")


def search_interests(profile: Profile, *, since, limit: int = 3) -> list[dict]:
    """What the profile's recent searches (since `since`) name in the catalog: a genre, a tag or a
    person, matched by name regardless of case. At most 4 queries (1 when there are no searches).

    Returns [{query, kind (genre/tag/person), slug, name, title_ids}], latest search first.
    """

    queries: list[str] = []
    for query in (
        SearchQuery.objects.filter(profile=profile, created_at__gte=since)
        .order_by("-created_at", "-id")
        .values_list("query", flat=True)[: limit * 5]
    ):
        if query.lower() not in queries:
            queries.append(query.lower())
        if len(queries) == limit:
            break
    if not queries:
        return []
    found: dict[str, dict] = {}
    # One query per kind: (lowered name, name, slug, title id) for names among the queries.
    matches = (
        (
            "genre",
            Title.objects.annotate(lowered=Lower("genres__name"))
            .filter(lowered__in=queries)
            .values_list("lowered", "genres__name", "genres__slug", "pk"),
        ),
        (
            "tag",
            TitleTag.objects.annotate(lowered=Lower("tag__name"))
            .filter(lowered__in=queries)
            .values_list("lowered", "tag__name", "tag__slug", "title_id"),
        ),
        (
            "person",
            Credit.objects.annotate(lowered=Lower("person__name"))
            .filter(lowered__in=queries)
            .values_list("lowered", "person__name", "person__slug", "title_id"),
        ),
    )
    for kind, rows in matches:
        for lowered, name, slug, title_id in rows:
            entry = found.setdefault(lowered, {"kind": kind, "slug": slug, "name": name, "title_ids": set()})
            if entry["kind"] == kind and entry["slug"] == slug:
                entry["title_ids"].add(title_id)
    return [{"query": q, **found[q], "title_ids": sorted(found[q]["title_ids"])} for q in queries if q in found]


def hidden_title_ids(profile: Profile) -> QuerySet:
    """A subquery of the titles the profile marked "Not for me"."""
    return HiddenTitle.objects.filter(profile=profile).values("title_id")


def hidden_titles_for_profile(profile: Profile) -> QuerySet:
    """Titles the profile marked "Not for me", newest first, only titles it may (still) see: a
    title above its limit now is hidden from it anyway, and its name must not show either."""

    return (
        HiddenTitle.objects.filter(profile=profile, title__in=visible_titles(profile))
        .select_related("title")
        .order_by("-created_at", "-id")
    )


# --- Viewing restrictions (managed by the account holder, not the profile) ------------------

RESTRICTION_SEARCH_LIMIT = 20


def blocked_titles_for_profile(profile: Profile) -> QuerySet:
    """The titles blocked for the profile, newest first, whatever their maturity or publication:
    the account holder manages the whole list, including titles the profile could not see anyway."""

    return BlockedTitle.objects.filter(profile=profile).select_related("title").order_by("-created_at", "-id")


def blocked_title_ids(profile: Profile) -> QuerySet:
    """A subquery of the titles blocked for the profile."""
    return BlockedTitle.objects.filter(profile=profile).values("title_id")


def restriction_candidates(*, profile: Profile, query: str, limit: int = RESTRICTION_SEARCH_LIMIT) -> list[Title]:
    """Published titles whose name contains `query` and that are not blocked for the profile yet.

    Deliberately not `visible_titles`: the account holder may block any published title, one
    above the profile's current limit included (so raising the limit later does not let it in).
    """
    if not query:
        return []
    return list(
        Title.objects.filter(is_published=True, name__icontains=query)
        .exclude(pk__in=blocked_title_ids(profile))
        .order_by("name", "pk")[:limit]
    )


def title_get_for_restriction(*, profile: Profile, pk: int, blocking: bool) -> Title:
    """The title a restriction change names, else Http404.

    Blocking takes any published title. Unblocking also takes a title blocked for the profile
    that has since been unpublished, so the list can always be emptied; an unpublished title
    that is not on the list stays a 404 (its existence is not confirmed).
    """
    published = Q(is_published=True)
    return get_object_or_404(
        Title.objects.filter(published if blocking else published | Q(pk__in=blocked_title_ids(profile))), pk=pk
    )


def viewing_history_for_profile(profile: Profile) -> QuerySet:
    """One row per title the profile watched: `title_id`, `last_watched_at`, `entries` (viewings).

    A dict queryset, most recent first; `viewing_history_details` fills in a page of it.
    """

    return (
        ViewingActivity.objects.filter(profile=profile, title__in=visible_titles(profile))
        .values("title_id")
        .annotate(last_watched_at=Max("last_watched_at"), entries=Count("id"))
        .order_by("-last_watched_at", "-title_id")
    )


def viewing_history_details(profile: Profile, rows: list[dict]) -> list[dict]:
    """Add `title` and `latest` (the most recent ViewingActivity) to history rows: two queries."""

    ids = [row["title_id"] for row in rows]
    titles = Title.objects.in_bulk(ids)
    latest: dict[int, ViewingActivity] = {}
    activities = (
        ViewingActivity.objects.filter(profile=profile, title_id__in=ids)
        .select_related("episode__season")
        .order_by("title_id", "-last_watched_at", "-id")
    )
    for activity in activities:
        latest.setdefault(activity.title_id, activity)
    return [
        {
            **row,
            "title": titles[row["title_id"]],
            "latest": latest.get(row["title_id"]),
            "excluded": bool(latest.get(row["title_id"]) and latest[row["title_id"]].exclude_from_recommendations),
        }
        for row in rows
        if row["title_id"] in titles
    ]


def title_get_for_history(*, profile: Profile, slug: str) -> Title:
    """A title the profile may see or has in its viewing history, else Http404.

    Removing one's own history must work even for a title since hidden from the profile
    (unpublished, or its maturity limit lowered); anything else stays a 404.
    """

    watched = ViewingActivity.objects.filter(profile=profile).values("title_id")
    return get_object_or_404(
        Title.objects.filter(Q(pk__in=visible_titles(profile).values("pk")) | Q(pk__in=watched)), slug=slug
    )


def recent_searches(profile: Profile, *, limit: int = 10) -> list[str]:
    """The profile's latest distinct search terms (its own history, shown to it only)."""

    seen: list[str] = []
    for query in (
        SearchQuery.objects.filter(profile=profile)
        .order_by("-created_at", "-id")
        .values_list("query", flat=True)[: limit * 5]
    ):
        if query.lower() not in (s.lower() for s in seen):
            seen.append(query)
        if len(seen) == limit:
            break
    return seen


# --- Title detail and player ---------------------------------------------------------------

MORE_LIKE_THIS_LIMIT = 12
# Only the title's strongest tags take part in "More like this" (bounds the query).
MORE_LIKE_THIS_TAGS = 20
# A film or episode without a runtime plays for this long.
DEFAULT_RUNTIME_MINUTES = 90


def more_like_this(*, profile: Profile | None, title: Title, limit: int = MORE_LIKE_THIS_LIMIT) -> list[Title]:
    """Visible titles sharing genres and tags with `title`, best first (two queries).

    Score: 1 per shared genre + sum over shared tags of (their weight there x weight here).
    """

    genre_ids = list(title.genres.values_list("pk", flat=True))
    tag_weights = dict(
        TitleTag.objects.filter(title=title).order_by("-weight").values_list("tag_id", "weight")[:MORE_LIKE_THIS_TAGS]
    )
    if not genre_ids and not tag_weights:
        return []
    link = Title.genres.through
    genre_score = link.objects.filter(title_id=OuterRef("pk"), genre_id__in=genre_ids).values(
        n=Func(F("id"), function="COUNT", output_field=FloatField())
    )
    here = Case(
        *[When(tag_id=tag_id, then=Value(weight)) for tag_id, weight in tag_weights.items()],
        default=Value(0.0),
        output_field=FloatField(),
    )
    tag_score = (
        TitleTag.objects.filter(title_id=OuterRef("pk"), tag_id__in=list(tag_weights))
        .order_by()
        .values("title_id")
        .annotate(s=Sum(F("weight") * here, output_field=FloatField()))
        .values("s")
    )
    candidates = Q(pk__in=link.objects.filter(genre_id__in=genre_ids).values("title_id")) | Q(
        pk__in=TitleTag.objects.filter(tag_id__in=list(tag_weights)).values("title_id")
    )
    qs = visible_titles(profile).filter(candidates).exclude(pk=title.pk)
    if profile is not None:
        # What the profile rejected (a down rating, "Not for me") is never offered again.
        qs = qs.exclude(pk__in=rejected_title_ids(profile))
    return list(
        qs.annotate(similarity=Coalesce(Subquery(genre_score), Value(0.0)) + Coalesce(Subquery(tag_score), Value(0.0)))
        .filter(similarity__gt=0)
        .order_by("-similarity", "-date_added", "-pk")[:limit]
    )


def runtime_seconds(title: Title, episode=None) -> int:
    minutes = (episode.runtime_minutes if episode is not None else title.runtime_minutes) or DEFAULT_RUNTIME_MINUTES
    return int(minutes) * 60


def _episodes(title: Title) -> list:
    return list(title.episodes.select_related("season").order_by("season__number", "number", "pk"))


def playback_for(*, profile: Profile, title: Title, episodes: list | None = None) -> dict:
    """Where Play starts: films resume an unfinished viewing; series go to the most recently
    watched episode if unfinished, else the one after it, else the first."""

    if title.is_series:
        episodes = _episodes(title) if episodes is None else episodes
        if not episodes:
            return {"episode": None, "position": 0, "resume": False}
        last = (
            ViewingActivity.objects.filter(profile=profile, title=title, episode__isnull=False)
            .order_by("-last_watched_at", "-pk")
            .first()
        )
        if last is None:
            return {"episode": episodes[0], "position": 0, "resume": False}
        index = next((i for i, e in enumerate(episodes) if e.pk == last.episode_id), 0)
        if not last.completed:
            return {"episode": episodes[index], "position": last.position_seconds, "resume": last.position_seconds > 0}
        following = episodes[index + 1] if index + 1 < len(episodes) else episodes[index]
        return {"episode": following, "position": 0, "resume": False}
    last = ViewingActivity.objects.filter(profile=profile, title=title, episode__isnull=True).first()
    if last is None or last.completed:
        return {"episode": None, "position": 0, "resume": False}
    return {"episode": None, "position": last.position_seconds, "resume": last.position_seconds > 0}


def _mark_episodes(profile: Profile, title: Title, episodes: list) -> None:
    """Set `watch_mark` on each episode: "watched", "progress" (with `watch_percent`) or "" (one
    query; only for a series, whose episode list shows them)."""
    if not episodes:
        return
    viewings = {
        episode_id: (completed, position, duration)
        for episode_id, completed, position, duration in ViewingActivity.objects.filter(
            profile=profile, title=title, episode__isnull=False
        ).values_list("episode_id", "completed", "position_seconds", "duration_seconds")
    }
    for episode in episodes:
        completed, position, duration = viewings.get(episode.pk, (False, 0, 0))
        # 1..99 while in progress: "In progress 0%" would read as not started, 100% as finished.
        episode.watch_percent = max(1, min(99, int(100 * position / duration))) if duration and not completed else 0
        episode.watch_mark = "watched" if completed else ("progress" if position > 0 else "")


def title_detail_extras(*, profile: Profile, title: Title) -> dict:
    """Everything the detail page shows besides the title itself, in a fixed number of queries."""

    credits = list(Credit.objects.filter(title=title).select_related("person").order_by("order", "pk"))
    seasons = list(
        title.seasons.prefetch_related(Prefetch("episodes", queryset=Episode.objects.order_by("number", "pk")))
    )
    episodes = []
    for season in seasons:
        for episode in season.episodes.all():
            # The season is already loaded; set it so `episode.season` costs no query.
            episode.season = season
            episodes.append(episode)
    _mark_episodes(profile, title, episodes)
    return {
        "genres": list(title.genres.all()),
        "tags": list(TitleTag.objects.filter(title=title).select_related("tag").order_by("-weight", "tag__name")),
        "cast": [c for c in credits if c.role == CreditRole.ACTOR],
        "directors": [c for c in credits if c.role == CreditRole.DIRECTOR],
        "writers": [c for c in credits if c.role in (CreditRole.WRITER, CreditRole.CREATOR)],
        "seasons": seasons,
        "rating": Rating.objects.filter(profile=profile, title=title).values_list("value", flat=True).first() or "",
        "in_list": ListEntry.objects.filter(profile=profile, title=title).exists(),
        "hidden": HiddenTitle.objects.filter(profile=profile, title=title).exists(),
        "playback": playback_for(profile=profile, title=title, episodes=episodes),
        "more_like_this": more_like_this(profile=profile, title=title),
    }


# --- People -----------------------------------------------------------------------------------

KNOWN_FOR_LIMIT = 6


def person_page(*, profile: Profile, slug: str) -> dict:
    """A person's page for this profile: `person`, `known_for` (their most watched and rated
    visible titles) and `filmography` (their credits on visible titles, newest first). Three
    queries.

    Http404 for an unknown person, and for one whose every title is invisible to the profile
    (too mature, blocked, unpublished): an empty page would still say who is in such a title.
    """
    person = get_object_or_404(Person, slug=slug)
    visible = visible_titles(profile)
    filmography = list(
        Credit.objects.filter(person=person, title__in=visible.values("pk"))
        .select_related("title")
        .order_by(F("title__year").desc(nulls_last=True), "title__name", "title_id", "order", "pk")
    )
    if not filmography:
        raise Http404("No such person.")
    known_for = list(
        titles_with_popularity(visible.filter(pk__in=[c.title_id for c in filmography]))
        .defer("synopsis", "artwork")
        .order_by(F("popularity").desc(), "-year", "name", "pk")[:KNOWN_FOR_LIMIT]
    )
    return {"person": person, "known_for": known_for, "filmography": filmography}


def person_initials(name: str) -> str:
    """Up to two initials for the generated avatar ("Ana María López" -> "AL")."""
    words = [w for w in name.replace("-", " ").split() if w[:1].isalpha()]
    if not words:
        return "?"
    return (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper()


def player_state(*, profile: Profile, title: Title, episode_id: int | None) -> dict:
    """What the player plays: the episode (asked for, or where Play starts), its start
    position (a resume), its duration, and the next episode. Another title's episode: 404."""

    episodes = _episodes(title) if title.is_series else []
    if episode_id is not None:
        episode = next((e for e in episodes if e.pk == episode_id), None)
        if episode is None:
            raise Http404("No such episode of this title.")
        last = ViewingActivity.objects.filter(profile=profile, episode=episode).first()
        position = last.position_seconds if last is not None and not last.completed else 0
    else:
        playback = playback_for(profile=profile, title=title, episodes=episodes)
        episode, position = playback["episode"], playback["position"]
    if title.is_series and episode is None:
        raise Http404("This series has no episodes yet.")
    duration = runtime_seconds(title, episode)
    next_episode = None
    if episode is not None:
        index = episodes.index(episode)
        next_episode = episodes[index + 1] if index + 1 < len(episodes) else None
    return {
        "episode": episode,
        "episodes": episodes,
        "position": min(position, duration),
        "duration": duration,
        "next_episode": next_episode,
    }


EPISODE_REQUIRED = "episode is required for a series"
FILM_HAS_NO_EPISODES = "a film has no episodes"


def episode_for_viewing(*, title: Title, episode_id: int | None, sent: bool) -> Episode | None:
    """What a viewing of `title` is about, by the one rule the player page and the API share:
    a series is watched an episode at a time (one of its own), a film has none.

    `episode_id`: the parsed id (None when missing or not an id); `sent`: whether the caller
    sent anything for it. Raises ValidationError on `episode` for a series without one or a
    film with one, and Episode.DoesNotExist for an id that is not an episode of this title.
    """
    if title.is_series:
        if episode_id is None:
            raise ValidationError({"episode": EPISODE_REQUIRED})
        return title.episodes.get(pk=episode_id)
    if sent:
        raise ValidationError({"episode": FILM_HAS_NO_EPISODES})
    return None


def _protecting_relations(model) -> list:
    """The reverse foreign keys that keep a `model` row from being deleted (on_delete=PROTECT):
    for titles and episodes, the engagement tables (see catalog.models)."""
    return [rel for rel in model._meta.related_objects if rel.one_to_many and rel.on_delete is PROTECT]


def engagement_counts(model, ids) -> dict[int, dict[str, int]]:
    """For titles (or episodes) `ids`: {id: {"ratings": 3, "viewing activity": 12, ...}}, only
    the ids that have any engagement and only the kinds they have. One grouped query per
    engagement table; what makes a row undeletable in the admin."""
    ids = list(ids)
    counts: dict[int, dict[str, int]] = {}
    if not ids:
        return counts
    for rel in _protecting_relations(model):
        related = rel.related_model
        fk = rel.field.name
        rows = (
            related.objects.filter(**{f"{fk}__in": ids})
            .order_by()
            .values_list(fk)
            .annotate(n=Count("pk"))
            .values_list(fk, "n")
        )
        for pk, n in rows:
            counts.setdefault(pk, {})[str(related._meta.verbose_name_plural)] = n
    return counts


def card_preview_state(*, profile: Profile, title: Title) -> dict:
    """What a card's preview shows besides the title: the profile's rating and whether the
    title is on its My List (one query)."""
    row = (
        Title.objects.filter(pk=title.pk)
        .annotate(
            in_list=Exists(ListEntry.objects.filter(profile=profile, title=OuterRef("pk"))),
            rating=Subquery(Rating.objects.filter(profile=profile, title=OuterRef("pk")).values("value")[:1]),
        )
        .values("in_list", "rating")
        .first()
    )
    state = dict(row) if row else {}
    return {"in_list": bool(state.get("in_list")), "rating": state.get("rating") or ""}
