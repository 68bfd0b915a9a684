"""The catalog admin (Django admin, staff only): curate titles, people, collections.

Engagement (ratings, viewing, My List, searches) is personal data written only through
`catalog.services`; here it is read-only, for support and moderation. Changing or erasing it
goes through the product's own flows (the services, the privacy dashboard), which keep the
recommender's cache stamp and the consent rules right.

What deleting means here (the delete pages say it too):
- a title that anyone rated, played, saved, hid, blocked or opened from search is protected
  (the engagement rows PROTECT it): the refusal page offers "Unpublish instead", which hides
  it everywhere and writes the title's history entry; a title without engagement is deleted
  with its seasons, episodes, credits, tags and collection places;
- seasons and episodes follow their title, but one whose episodes were played is protected
  like a title;
- collections and their items are curation only and delete freely (the titles stay).
"""

from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from common.admin import ReadOnlyAdmin
from common.ids import parse_id

from . import selectors, services
from .models import (
    Collection,
    CollectionItem,
    Credit,
    Episode,
    Genre,
    ListEntry,
    Person,
    Rating,
    SearchQuery,
    Season,
    Tag,
    Title,
    TitleKind,
    TitleTag,
    ViewingActivity,
)
from .shelves import ROW_LENGTH

# --- Deleting: what protects a row ----------------------------------------------------------

# The engagement tables (by verbose_name_plural) in words a curator reads on a refusal page.
ENGAGEMENT_WORDS = {
    "ratings": ("rating", "ratings"),
    "viewing activity": ("play", "plays"),
    "list entries": ("My List entry", "My List entries"),
    "hidden titles": ("“Not for me”", "“Not for me”s"),
    "blocked titles": ("viewing restriction", "viewing restrictions"),
    "search clicks": ("open from search", "opens from search"),
}


def _engagement_words(counts: dict[str, int]) -> str:
    parts = []
    for kind, n in sorted(counts.items()):
        one, many = ENGAGEMENT_WORDS.get(kind, (kind, kind))
        parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts)


@dataclass
class Protected:
    """One row the admin refuses to delete, and why (rendered by the delete pages)."""

    pk: int
    label: str
    is_published: bool | None = None

    def __str__(self) -> str:
        return self.label


class ProtectedList(list):
    """The refused rows; the page offers "Unpublish instead" only when one is still published."""

    @property
    def any_published(self) -> bool:
        return any(p.is_published for p in self)


class EngagementProtectedAdmin(admin.ModelAdmin):
    """Refuses, with a readable summary, to delete rows that engagement protects.

    Django's own check would list every rating and play (thousands, and behind the read-only
    engagement admins as "no permission"); this counts them per row in a few grouped queries
    and leaves the normal cascade page for rows nobody engaged with.
    """

    def protected_rows(self, objs) -> list[Protected]:
        raise NotImplementedError

    def get_deleted_objects(self, objs, request):
        protected = ProtectedList(self.protected_rows(list(objs)))
        if protected:
            return [], {}, set(), protected
        return super().get_deleted_objects(objs, request)


class ProtectedInlineMixin:
    """An inline's DELETE box refuses a row that engagement protects, in the same words as the
    model's delete page (Django's own check would list every protected play)."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        owner = self.admin_site._registry.get(self.model)
        if not isinstance(owner, EngagementProtectedAdmin):
            return formset

        class ReadableProtectionForm(formset.form):
            def hand_clean_DELETE(self):
                if self.cleaned_data.get("DELETE") and not self.instance._state.adding:
                    rows = owner.protected_rows([self.instance])
                    if rows:
                        raise ValidationError(
                            f"Cannot delete {rows[0]}: viewers' history points at it.", code="deleting_protected"
                        )
                super().hand_clean_DELETE()

        formset.form = ReadableProtectionForm
        return formset


# --- Catalog --------------------------------------------------------------------------------


class NamedWithTitlesAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "title_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_titles=Count("titles", distinct=True))

    @admin.display(description="titles", ordering="_titles")
    def title_count(self, obj):
        return obj._titles


@admin.register(Genre)
class GenreAdmin(NamedWithTitlesAdmin):
    pass


@admin.register(Tag)
class TagAdmin(NamedWithTitlesAdmin):
    pass


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    # No per-row title count: thousands of people joined to every credit make the list slow.
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class TitleTagInline(admin.TabularInline):
    model = TitleTag
    autocomplete_fields = ["tag"]
    extra = 0


class CreditInline(admin.TabularInline):
    model = Credit
    autocomplete_fields = ["person"]
    fields = ["person", "role", "order", "character"]
    extra = 0


class SeasonFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        # The per-form error (Season.clean) sits on the hidden parent link, which the inline
        # does not show: say it above the inline.
        adding = any(f.has_changed() and not self._should_delete_form(f) for f in self.forms)
        if adding and self.instance.kind != TitleKind.SERIES:
            raise ValidationError("A film has no seasons: set the title's kind to Series to add seasons.")


class SeasonInline(ProtectedInlineMixin, admin.TabularInline):
    model = Season
    formset = SeasonFormSet
    fields = ["number", "name"]
    show_change_link = True
    extra = 0


class AddToCollectionForm(forms.Form):
    collection = forms.ModelChoiceField(queryset=Collection.objects.all(), empty_label=None)
    where = forms.ChoiceField(
        choices=[("start", "At the start of the row"), ("end", "At the end of the row")],
        # Offered at the start, so what a curator adds is seen on the row; a post without a
        # choice (the older form) appends at the end, as it always did.
        initial="start",
        required=False,
        widget=forms.RadioSelect,
        help_text=f"A home row shows a collection's first {ROW_LENGTH} titles (those a profile may see).",
    )


@admin.register(Title)
class TitleAdmin(EngagementProtectedAdmin):
    list_display = ["name", "kind", "year", "maturity_rating", "is_published", "date_added", "external_id"]
    list_filter = ["is_published", "kind", "maturity_rating", "genres", "date_added"]
    search_fields = ["name", "external_id", "imdb_id", "slug"]
    date_hierarchy = "date_added"
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["genres"]
    readonly_fields = ["maturity_level"]
    inlines = [TitleTagInline, CreditInline, SeasonInline]
    actions = ["publish", "unpublish", "add_to_collection"]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["kind", "name", "slug", "synopsis", "year", "runtime_minutes", "artwork"]}),
        ("Availability", {"fields": ["is_published", "date_added", "maturity_rating", "maturity_level"]}),
        ("Classification", {"fields": ["genres"]}),
        ("Identifiers", {"fields": ["external_id", "imdb_id", "tmdb_id"]}),
    ]

    @admin.action(description="Publish the selected titles", permissions=["change"])
    def publish(self, request, queryset):
        changed = services.titles_set_published(titles=queryset, published=True, user=request.user)
        self.message_user(request, f"{changed} title(s) published (each title's History records it).", messages.SUCCESS)

    @admin.action(description="Unpublish the selected titles", permissions=["change"])
    def unpublish(self, request, queryset):
        # The delete refusal page's "Unpublish instead" posts here with `instead_of_delete`.
        how = "instead of deleted" if "instead_of_delete" in request.POST else "with the bulk action"
        changed = services.titles_set_published(titles=queryset, published=False, user=request.user, how=how)
        self.message_user(
            request, f"{changed} title(s) unpublished (each title's History records it).", messages.SUCCESS
        )

    @admin.action(description="Add the selected titles to a collection…", permissions=["change"])
    def add_to_collection(self, request, queryset):
        """First call shows a page to choose the collection; its submit ("apply") adds them."""
        if "apply" in request.POST:
            form = AddToCollectionForm(request.POST)
            if form.is_valid():
                collection = form.cleaned_data["collection"]
                at_start = form.cleaned_data["where"] == "start"
                result = services.collection_add_titles(
                    collection=collection, titles=queryset.order_by("name", "id"), at_start=at_start
                )
                self._report_collection_add(request, collection, result, at_start)
                return None  # back to the change list
        else:
            form = AddToCollectionForm()
        context = {
            **self.admin_site.each_context(request),
            "title": "Add titles to a collection",
            "opts": self.model._meta,
            "form": form,
            "titles": queryset.order_by("name", "id"),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "has_collections": Collection.objects.exists(),
            "row_length": ROW_LENGTH,
        }
        return TemplateResponse(request, "admin/catalog/title/add_to_collection.html", context)

    def _report_collection_add(self, request, collection, result, at_start: bool) -> None:
        link = reverse("admin:catalog_collection_change", args=[collection.pk])
        where = "at the start" if at_start else "at the end"
        self.message_user(
            request,
            format_html(
                '{} title(s) added {} of <a href="{}">“{}”</a> ({} already there); it now has {} title(s).',
                result.added,
                where,
                link,
                collection,
                result.skipped,
                result.total,
            ),
            messages.SUCCESS,
        )
        if result.total > ROW_LENGTH:
            hidden = "the ones at the end" if at_start else "some of the titles just added"
            self.message_user(
                request,
                format_html(
                    "“{}” now has {} titles, but its home row shows only the first {}: {} are not shown. "
                    '<a href="{}">Reorder or remove items</a> on the collection’s page.',
                    collection,
                    result.total,
                    ROW_LENGTH,
                    hidden,
                    link,
                ),
                messages.WARNING,
            )
        if result.unpublished:
            self.message_user(
                request,
                f"Not shown on any row until published: {', '.join(result.unpublished)}.",
                messages.WARNING,
            )

    def protected_rows(self, objs) -> list[Protected]:
        counts = selectors.engagement_counts(Title, [o.pk for o in objs])
        return [
            Protected(o.pk, f"“{o}”: {_engagement_words(counts[o.pk])}", o.is_published) for o in objs if o.pk in counts
        ]


class EpisodeFormSet(BaseInlineFormSet):
    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        # Episodes repeat their season's title (so lookups need no join): a new one takes it
        # before validation, so Episode.clean checks the real pair.
        if form.instance.pk is None:
            form.instance.title_id = self.instance.title_id
        return form

    def save_new(self, form, commit=True):
        # On a new season the title is known only now (the parent form chose it).
        form.instance.title_id = self.instance.title_id
        return super().save_new(form, commit=commit)

    def clean(self):
        super().clean()
        # Episode.clean's error sits on the hidden parent link here: say it above the inline.
        adding = any(f.has_changed() and not self._should_delete_form(f) for f in self.forms)
        title = self.instance.title if self.instance.title_id else None
        if adding and title is not None and not title.is_series:
            raise ValidationError(f"“{title}” is a film, and a film has no episodes.")


class EpisodeInline(ProtectedInlineMixin, admin.TabularInline):
    model = Episode
    formset = EpisodeFormSet
    # The intro marker (seconds from the start, both or neither) gives the player "Skip intro".
    fields = ["number", "name", "runtime_minutes", "intro_start_seconds", "intro_end_seconds", "synopsis"]
    extra = 0


@admin.register(Season)
class SeasonAdmin(EngagementProtectedAdmin):
    list_display = ["__str__", "title", "number", "episode_count"]
    list_select_related = ["title"]
    search_fields = ["title__name", "name"]
    autocomplete_fields = ["title"]
    inlines = [EpisodeInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_episodes=Count("episodes"))

    @admin.display(description="episodes", ordering="_episodes")
    def episode_count(self, obj):
        return obj._episodes

    def protected_rows(self, objs) -> list[Protected]:
        episodes = list(Episode.objects.filter(season__in=objs).select_related("season"))
        counts = selectors.engagement_counts(Episode, [e.pk for e in episodes])
        played: dict[int, list[str]] = {}
        for e in episodes:
            if e.pk in counts:
                played.setdefault(e.season_id, []).append(f"{e} ({_engagement_words(counts[e.pk])})")
        return [
            Protected(o.pk, f"{o} of “{o.title}”: episodes with plays: {'; '.join(played[o.pk])}")
            for o in objs
            if o.pk in played
        ]


@admin.register(Episode)
class EpisodeAdmin(EngagementProtectedAdmin):
    list_display = ["name", "title", "season", "number", "runtime_minutes"]
    list_select_related = ["title", "season"]
    search_fields = ["name", "title__name"]
    autocomplete_fields = ["title", "season"]

    def protected_rows(self, objs) -> list[Protected]:
        counts = selectors.engagement_counts(Episode, [o.pk for o in objs])
        return [
            Protected(o.pk, f"{o} of “{o.title}”: {_engagement_words(counts[o.pk])}") for o in objs if o.pk in counts
        ]


class CollectionItemInline(admin.TabularInline):
    model = CollectionItem
    autocomplete_fields = ["title"]
    fields = ["title", "position"]
    extra = 0


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "is_active", "audience", "starts_at", "ends_at", "is_live", "item_count"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", "audience"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [CollectionItemInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_items=Count("items"))

    @admin.display(description="titles", ordering="_items")
    def item_count(self, obj):
        return obj._items

    @admin.display(description="live now", boolean=True)
    def is_live(self, obj):
        return obj.is_live()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The change page says how much of the collection its home row shows.
        pk = parse_id(object_id)  # the admin answers a non-id itself; only count for a real one
        count = CollectionItem.objects.filter(collection_id=pk).count() if pk is not None else 0
        extra_context = {
            **(extra_context or {}),
            "row_length": ROW_LENGTH,
            "item_count": count,
            "beyond_row": max(0, count - ROW_LENGTH),
        }
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(CollectionItem)
class CollectionItemAdmin(admin.ModelAdmin):
    list_display = ["collection", "position", "title"]
    list_select_related = ["collection", "title"]
    list_filter = ["collection"]
    search_fields = ["title__name", "collection__name"]
    autocomplete_fields = ["collection", "title"]


@admin.register(TitleTag)
class TitleTagAdmin(admin.ModelAdmin):
    list_display = ["title", "tag", "weight"]
    list_select_related = ["title", "tag"]
    search_fields = ["title__name", "tag__name"]
    autocomplete_fields = ["title", "tag"]


@admin.register(Credit)
class CreditAdmin(admin.ModelAdmin):
    list_display = ["person", "role", "title", "order", "character"]
    list_select_related = ["person", "title"]
    list_filter = ["role"]
    search_fields = ["person__name", "title__name", "character"]
    autocomplete_fields = ["person", "title"]


# --- Engagement: read-only ------------------------------------------------------------------


class EngagementAdmin(ReadOnlyAdmin):
    """Viewable by staff; written only through catalog.services (consent gate, cache stamp)."""

    list_select_related = ["profile__account", "title"]
    search_fields = ["profile__name", "profile__account__username", "title__name"]
    list_per_page = 50

    @admin.display(description="account", ordering="profile__account__username")
    def account(self, obj):
        return obj.profile.account.username


@admin.register(Rating)
class RatingAdmin(EngagementAdmin):
    list_display = ["profile", "account", "title", "value", "updated_at"]
    # No date_hierarchy on the big engagement tables: on SQLite it truncates every row's date in Python.
    list_filter = ["value", "updated_at"]


@admin.register(ViewingActivity)
class ViewingActivityAdmin(EngagementAdmin):
    list_display = ["profile", "account", "title", "episode", "position_seconds", "completed", "last_watched_at"]
    list_select_related = ["profile__account", "title", "episode__season"]
    list_filter = ["completed", "last_watched_at"]


@admin.register(ListEntry)
class ListEntryAdmin(EngagementAdmin):
    list_display = ["profile", "account", "title", "added_at"]
    list_filter = ["added_at"]


@admin.register(SearchQuery)
class SearchQueryAdmin(EngagementAdmin):
    list_display = ["query", "result_count", "profile", "account", "created_at"]
    list_select_related = ["profile__account"]
    search_fields = ["query", "profile__name", "profile__account__username"]
    list_filter = ["created_at"]
