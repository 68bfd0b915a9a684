"""The catalog admin (Django admin, staff only): curate titles, people, collections.

Engagement (ratings, viewing, My List, searches) is personal data written only through
`catalog.services`; here it is read-only, for support and moderation. Changing or erasing it
goes through the product's own flows (the services, the privacy dashboard), which keep the
recommender's cache stamp and the consent rules right.
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.utils import timezone

from common.admin import ReadOnlyAdmin

from . import services
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
    TitleTag,
    ViewingActivity,
)

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


class SeasonInline(admin.TabularInline):
    model = Season
    fields = ["number", "name"]
    show_change_link = True
    extra = 0


class AddToCollectionForm(forms.Form):
    collection = forms.ModelChoiceField(queryset=Collection.objects.all(), empty_label=None)


@admin.register(Title)
class TitleAdmin(admin.ModelAdmin):
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
        updated = queryset.update(is_published=True)
        self.message_user(request, f"{updated} title(s) published.", messages.SUCCESS)

    @admin.action(description="Unpublish the selected titles", permissions=["change"])
    def unpublish(self, request, queryset):
        updated = queryset.update(is_published=False)
        self.message_user(request, f"{updated} title(s) unpublished.", messages.SUCCESS)

    @admin.action(description="Add the selected titles to a collection…", permissions=["change"])
    def add_to_collection(self, request, queryset):
        """First call shows a page to choose the collection; its submit ("apply") adds them."""
        if "apply" in request.POST:
            form = AddToCollectionForm(request.POST)
            if form.is_valid():
                collection = form.cleaned_data["collection"]
                added = services.collection_add_titles(collection=collection, titles=queryset.order_by("name", "id"))
                self.message_user(
                    request,
                    f"{added} title(s) added to “{collection}” ({queryset.count() - added} already there).",
                    messages.SUCCESS,
                )
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
        }
        return TemplateResponse(request, "admin/catalog/title/add_to_collection.html", context)


class EpisodeFormSet(BaseInlineFormSet):
    def save_new(self, form, commit=True):
        # Episodes repeat their season's title (so lookups need no join): keep it in step.
        form.instance.title_id = self.instance.title_id
        return super().save_new(form, commit=commit)


class EpisodeInline(admin.TabularInline):
    model = Episode
    formset = EpisodeFormSet
    fields = ["number", "name", "runtime_minutes", "synopsis"]
    extra = 0


@admin.register(Season)
class SeasonAdmin(admin.ModelAdmin):
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


@admin.register(Episode)
class EpisodeAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "season", "number", "runtime_minutes"]
    list_select_related = ["title", "season"]
    search_fields = ["name", "title__name"]
    autocomplete_fields = ["title", "season"]


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
        now = timezone.now()
        return (
            obj.is_active
            and (obj.starts_at is None or obj.starts_at <= now)
            and (obj.ends_at is None or obj.ends_at > now)
        )


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
