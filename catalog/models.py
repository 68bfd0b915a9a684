"""The catalog (titles and what describes them) and engagement (what profiles do with them)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.maturity import MaturityRating, level_of
from accounts.models import Profile


class Genre(models.Model):
    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=120, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.name


class TitleKind(models.TextChoices):
    FILM = "film", "Film"
    SERIES = "series", "Series"


class Title(models.Model):
    kind = models.CharField(max_length=10, choices=TitleKind.choices, default=TitleKind.FILM, db_index=True)
    name = models.CharField(max_length=300)
    slug = models.SlugField(max_length=320, unique=True)
    synopsis = models.TextField(blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    # Films: the running time. Series: a typical episode's.
    runtime_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    maturity_rating = models.CharField(max_length=8, choices=MaturityRating.choices, default=MaturityRating.UNRATED)
    # Denormalized from maturity_rating (see accounts.maturity) so one comparison filters.
    maturity_level = models.PositiveSmallIntegerField(default=5, editable=False, db_index=True)
    genres = models.ManyToManyField(Genre, related_name="titles", blank=True)
    tags = models.ManyToManyField(Tag, through="TitleTag", related_name="titles", blank=True)
    people = models.ManyToManyField(Person, through="Credit", related_name="titles", blank=True)
    external_id = models.CharField(max_length=64, unique=True, help_text="ml:<movieId> for MovieLens titles")
    imdb_id = models.CharField(max_length=16, blank=True)
    tmdb_id = models.CharField(max_length=16, blank=True)
    date_added = models.DateTimeField(default=timezone.now, db_index=True)
    is_published = models.BooleanField(default=True, db_index=True)
    artwork = models.ImageField(upload_to="artwork/", blank=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["is_published", "maturity_level"], name="title_visible_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.year})" if self.year else self.name

    def save(self, *args, **kwargs):
        self.maturity_level = level_of(self.maturity_rating)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("title-detail", kwargs={"slug": self.slug})

    @property
    def is_series(self) -> bool:
        return self.kind == TitleKind.SERIES

    def clean(self):
        # A film has no seasons or episodes (Season.clean, Episode.clean): a series that has
        # some cannot turn into a film, or its episodes would belong to a film.
        if self.kind != TitleKind.SERIES and self.pk and self.seasons.exists():
            raise ValidationError(
                {"kind": "This title has seasons, and a film has none: delete its seasons first, or keep it a series."}
            )


class TitleTag(models.Model):
    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="title_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="title_tags")
    weight = models.FloatField(default=1.0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["title", "tag"], name="unique_title_tag")]
        ordering = ["-weight"]

    def __str__(self) -> str:
        return f"{self.tag} ({self.weight:g})"


class CreditRole(models.TextChoices):
    ACTOR = "actor", "Actor"
    DIRECTOR = "director", "Director"
    WRITER = "writer", "Writer"
    CREATOR = "creator", "Creator"


class Credit(models.Model):
    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="credits")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="credits")
    role = models.CharField(max_length=10, choices=CreditRole.choices, default=CreditRole.ACTOR)
    order = models.PositiveSmallIntegerField(default=0, help_text="Billing order; 0 is top-billed")
    character = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["title", "person", "role"], name="unique_credit")]

    def __str__(self) -> str:
        return f"{self.person} as {self.get_role_display()}"


class Season(models.Model):
    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="seasons")
    number = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["title", "number"], name="unique_season")]

    def __str__(self) -> str:
        return self.name or f"Season {self.number}"

    def clean(self):
        """A season belongs to a series, and keeps it: its episodes (and their plays) name that title."""
        if self.title_id is None:
            return
        if not self.title.is_series:
            raise ValidationError({"title": f"“{self.title}” is a film, and a film has no seasons: choose a series."})
        if self.pk:
            before = Season.objects.filter(pk=self.pk).values_list("title_id", flat=True).first()
            if before is not None and before != self.title_id and self.episodes.exists():
                raise ValidationError(
                    {"title": "This season has episodes, which belong to its series: it cannot move to another title."}
                )


class Episode(models.Model):
    # `title` duplicates season.title so episode lookups and viewing rows need no join.
    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="episodes")
    season = models.ForeignKey(Season, on_delete=models.CASCADE, related_name="episodes")
    number = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    synopsis = models.TextField(blank=True)
    runtime_minutes = models.PositiveSmallIntegerField(default=30)
    # The intro, in seconds from the start (both or neither): the player offers "Skip intro" inside it.
    intro_start_seconds = models.PositiveIntegerField(null=True, blank=True)
    intro_end_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["season__number", "number"]
        constraints = [
            models.UniqueConstraint(fields=["season", "number"], name="unique_episode"),
            models.CheckConstraint(
                condition=(Q(intro_start_seconds__isnull=True) & Q(intro_end_seconds__isnull=True))
                | (
                    Q(intro_start_seconds__isnull=False, intro_end_seconds__isnull=False)
                    & Q(intro_start_seconds__lt=F("intro_end_seconds"))
                ),
                name="episode_intro_start_before_end",
                violation_error_message="An intro marker needs a start before its end (or neither).",
            ),
        ]

    def __str__(self) -> str:
        return f"S{self.season.number}E{self.number} {self.name}"

    def clean(self):
        """An episode belongs to a season of its own title, and that title is a series.

        Errors are keyed to `season` (the field that places the episode), which every admin
        form of an episode has: the episode page and the season page's inline (as its
        parent link). A new episode without a title takes its season's.
        """
        # On a new season's page the parent season is not saved yet: use it as assigned.
        if self.season_id is None and not Episode.season.is_cached(self):
            return
        if self.season.title_id is None:
            return  # the season's own form reports its missing title
        series = self.season.title
        if self.title_id is None:
            self.title_id = series.pk
        if not series.is_series:
            raise ValidationError(
                {"season": f"{self.season} belongs to “{series}”, which is a film, and a film has no episodes."}
            )
        if self.title_id != series.pk:
            title = self.title
            what = "a film, which has no episodes" if not title.is_series else "a series"
            raise ValidationError(
                {
                    "season": f"{self.season} belongs to “{series}”, not to “{title}” ({what}): "
                    f"an episode must be in a season of its own title."
                }
            )


class Collection(models.Model):
    """An admin-curated, ordered row on the home page."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(
        default=0,
        help_text="Where the row sits on a personalized home: this many rows below Continue watching, Top picks "
        "and My List (0 = right after them). Lower comes first.",
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    audience = models.CharField(
        max_length=10,
        choices=[("everyone", "Everyone"), ("kids", "Kids profiles only"), ("adults", "Adult profiles only")],
        default="everyone",
    )
    titles = models.ManyToManyField(Title, through="CollectionItem", related_name="collections")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            # A schedule's end comes after its start (either may be open); an end at or before
            # the start would be a row that is never live.
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="collection_ends_after_start",
                violation_error_message="The end of the schedule must come after its start.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The end of the schedule must come after its start."})

    def is_live(self, now=None) -> bool:
        """The same rule as `live_q`, for one loaded collection."""
        now = now or timezone.now()
        return (
            self.is_active
            and (self.starts_at is None or self.starts_at <= now)
            and (self.ends_at is None or self.ends_at > now)
        )

    @staticmethod
    def live_q(now=None) -> Q:
        now = now or timezone.now()
        return (
            Q(is_active=True)
            & (Q(starts_at__isnull=True) | Q(starts_at__lte=now))
            & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        )


class CollectionItem(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="items")
    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="collection_items")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["collection", "title"], name="unique_collection_item")]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


# --- Engagement: personal data of a profile --------------------------------------------------
#
# Engagement rows point at their title (and episode) with PROTECT: a title or episode that
# someone rated, played, saved, hid, blocked or opened from search cannot be deleted, since
# that would silently erase people's history (and their export) as a side effect of curation.
# The admin offers "Unpublish instead" (catalog.admin.TitleAdmin). The rows leave with their
# profile (CASCADE on `profile`), which is how erasure works.


class RatingValue(models.TextChoices):
    DOWN = "down", "Didn't like this"
    UP = "up", "I like this"
    LOVE = "love", "Love this!"


class Rating(models.Model):
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="ratings")
    title = models.ForeignKey(Title, on_delete=models.PROTECT, related_name="ratings")
    value = models.CharField(max_length=4, choices=RatingValue.choices)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    # "Don't use this to recommend": kept in history and the export, ignored by training and serving.
    exclude_from_recommendations = models.BooleanField(default=False, db_default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["profile", "title"], name="unique_rating")]
        indexes = [models.Index(fields=["profile", "-updated_at"], name="rating_profile_recent_idx")]

    def __str__(self) -> str:
        return f"{self.get_value_display()}: {self.title}"


class ViewingActivity(models.Model):
    """One row per profile and title (and episode), updated in place by the player's heartbeats."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="viewing")
    title = models.ForeignKey(Title, on_delete=models.PROTECT, related_name="viewing")
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, null=True, blank=True, related_name="viewing")
    position_seconds = models.PositiveIntegerField(default=0)
    duration_seconds = models.PositiveIntegerField(default=0)
    completed = models.BooleanField(default=False)
    started_at = models.DateTimeField(default=timezone.now)
    last_watched_at = models.DateTimeField(default=timezone.now, db_index=True)
    # "Don't use this to recommend" (see Rating): set on every row of the title at once.
    exclude_from_recommendations = models.BooleanField(default=False, db_default=False)
    # "Remove from row" on Continue watching (every row of the title at once): the title leaves
    # that row while no viewing is newer than this; the next play brings it back. History stays.
    dismissed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "viewing activity"
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "title"], condition=Q(episode__isnull=True), name="unique_viewing_film"
            ),
            models.UniqueConstraint(
                fields=["profile", "episode"], condition=Q(episode__isnull=False), name="unique_viewing_episode"
            ),
        ]
        indexes = [models.Index(fields=["profile", "-last_watched_at"], name="viewing_profile_recent_idx")]

    def __str__(self) -> str:
        return f"{self.title} at {self.position_seconds}s"

    @property
    def progress(self) -> float:
        return min(1.0, self.position_seconds / self.duration_seconds) if self.duration_seconds else 0.0


class ListEntry(models.Model):
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="list_entries")
    title = models.ForeignKey(Title, on_delete=models.PROTECT, related_name="list_entries")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "list entries"
        ordering = ["-added_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["profile", "title"], name="unique_list_entry")]

    def __str__(self) -> str:
        return str(self.title)


class HiddenTitle(models.Model):
    """ "Not for me": the title leaves every row, "More like this" and suggestions for the profile,
    and counts as a negative like a down rating. Undone by deleting the row."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="hidden_titles")
    title = models.ForeignKey(Title, on_delete=models.PROTECT, related_name="hidden_by")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["profile", "title"], name="unique_hidden_title")]

    def __str__(self) -> str:
        return f"hidden: {self.title}"


class BlockedTitle(models.Model):
    """A viewing restriction: the title is invisible to the profile everywhere (rows, search,
    browse, its page, the API), whatever its maturity rating. Set and lifted by the account
    holder with the account password (common.sudo), never by the profile itself."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="blocked_titles")
    title = models.ForeignKey(Title, on_delete=models.PROTECT, related_name="blocked_by")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["profile", "title"], name="unique_blocked_title")]

    def __str__(self) -> str:
        return f"blocked: {self.title}"


class SearchClick(models.Model):
    """A title the profile opened or played from search results: a weak taste signal.

    Written only with search-history consent, and erased with the search history.
    """

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="search_clicks")
    title = models.ForeignKey(Title, on_delete=models.PROTECT, related_name="search_clicks")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["profile", "title"], name="unique_search_click")]

    def __str__(self) -> str:
        return f"from search: {self.title}"


# The longest search kept (and searched: catalog.search.normalize_query cuts there).
SEARCH_QUERY_MAX_LENGTH = 200


class SearchQuery(models.Model):
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="searches")
    query = models.CharField(max_length=SEARCH_QUERY_MAX_LENGTH)
    result_count = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name_plural = "search queries"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"search ({self.result_count} results)"
