"""The Django admin: staff only, every catalog changelist opens, bulk actions work, engagement is read-only."""

import pytest
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.urls import reverse

from catalog.models import Collection, CollectionItem, Episode, Rating, Season, Title
from tests.support.factories import (
    CollectionFactory,
    CreditFactory,
    EpisodeFactory,
    GenreFactory,
    ListEntryFactory,
    RatingFactory,
    TagFactory,
    TitleFactory,
    ViewingFactory,
)

CATALOG_MODELS = [m for m in admin.site._registry if m._meta.app_label in ("catalog", "accounts")]
SERIES_NAME = "Harbour Lights"


def _searches_title_name(model) -> bool:
    """Whether the model's admin search_fields reach Title.name (directly or through a relation)."""
    title_name = Title._meta.get_field("name")
    for lookup in admin.site._registry[model].search_fields:
        fields = get_fields_from_path(model, lookup.lstrip("^=@"))
        if fields[-1] == title_name:
            return True
    return False


TITLE_SEARCH_MODELS = [m for m in CATALOG_MODELS if _searches_title_name(m)]


@pytest.fixture
def catalog_data(owner):
    _, profile = owner
    genre = GenreFactory(name="Drama")
    title = TitleFactory(name="The Quiet River", genres=[genre])
    title.title_tags.create(tag=TagFactory(name="Slow burn"), weight=1.0)
    CreditFactory(title=title)
    episode = EpisodeFactory(season__title__name=SERIES_NAME)
    RatingFactory(profile=profile, title=title, value="love")
    ViewingFactory(profile=profile, title=title)
    ViewingFactory(profile=profile, title=episode.title, episode=episode)
    ListEntryFactory(profile=profile, title=title)
    collection = CollectionFactory(name="Staff picks")
    CollectionItem.objects.create(collection=collection, title=title)
    return title


def test_every_catalog_and_accounts_model_is_registered():
    names = {m.__name__ for m in CATALOG_MODELS}
    assert {
        "Genre", "Tag", "Person", "Title", "TitleTag", "Credit", "Season", "Episode", "Collection",
        "CollectionItem", "Rating", "ViewingActivity", "ListEntry", "SearchQuery", "User", "Profile",
    } <= names  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("model", CATALOG_MODELS, ids=lambda m: m.__name__)
def test_staff_opens_every_changelist(staff_client, catalog_data, model, django_assert_max_num_queries):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    # Session, user, then the changelist's count(s), page rows (related rows joined) and filter choices.
    with django_assert_max_num_queries(15):
        response = staff_client.get(url)
    assert response.status_code == 200
    searched = staff_client.get(url, {"q": "quiet"})  # every search runs; what it finds: the next tests
    assert searched.status_code == 200


def test_title_name_search_covers_the_title_and_what_hangs_off_it():
    assert {m.__name__ for m in TITLE_SEARCH_MODELS} == {
        "Title", "Season", "Episode", "CollectionItem", "TitleTag", "Credit", "Rating", "ViewingActivity", "ListEntry",
    }  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("model", TITLE_SEARCH_MODELS, ids=lambda m: m.__name__)
def test_changelist_search_finds_rows_by_title_name(staff_client, catalog_data, model):
    # Seasons and episodes belong to a series; everything else hangs off the film.
    name, query = (SERIES_NAME, "harbour") if model in (Season, Episode) else (catalog_data.name, "quiet")
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert name in staff_client.get(url).content.decode()  # listed at all, so its absence below means something
    found = staff_client.get(url, {"q": query})
    assert found.status_code == 200
    assert name in found.content.decode()
    missing = staff_client.get(url, {"q": "xyzzy"})
    assert missing.status_code == 200
    assert name not in missing.content.decode()


@pytest.mark.django_db
def test_title_pages_render_with_inlines(staff_client, catalog_data):
    change = staff_client.get(reverse("admin:catalog_title_change", args=[catalog_data.pk]))
    assert change.status_code == 200
    body = change.content.decode()
    assert "title_tags-TOTAL_FORMS" in body and "credits-TOTAL_FORMS" in body and "seasons-TOTAL_FORMS" in body
    assert staff_client.get(reverse("admin:catalog_title_add")).status_code == 200
    season = catalog_data.__class__.objects.get(kind="series").seasons.get()
    assert staff_client.get(reverse("admin:catalog_season_change", args=[season.pk])).status_code == 200
    collection = Collection.objects.get()
    assert staff_client.get(reverse("admin:catalog_collection_change", args=[collection.pk])).status_code == 200


@pytest.mark.django_db
def test_non_staff_and_anonymous_are_sent_to_the_admin_login(owner_client, client):
    url = reverse("admin:catalog_title_changelist")
    for c in (owner_client, client):
        response = c.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db
def test_publish_and_unpublish_actions(staff_client):
    titles = [TitleFactory(is_published=False) for _ in range(3)]
    untouched = TitleFactory(is_published=False)
    url = reverse("admin:catalog_title_changelist")
    ids = [t.pk for t in titles]
    response = staff_client.post(url, {"action": "publish", "_selected_action": ids}, follow=True)
    assert response.status_code == 200
    assert Title.objects.filter(pk__in=ids, is_published=True).count() == 3
    assert not Title.objects.get(pk=untouched.pk).is_published
    staff_client.post(url, {"action": "unpublish", "_selected_action": ids[:2]})
    assert list(Title.objects.filter(is_published=True).values_list("pk", flat=True)) == [ids[2]]


@pytest.mark.django_db
def test_add_to_collection_shows_a_choice_then_appends_without_duplicates(staff_client):
    collection = CollectionFactory(name="Award winners")
    CollectionFactory(name="Other")
    first = TitleFactory(name="Alpha")
    CollectionItem.objects.create(collection=collection, title=first, position=0)
    new = [TitleFactory(name="Beta"), TitleFactory(name="Gamma")]
    ids = [first.pk] + [t.pk for t in new]
    url = reverse("admin:catalog_title_changelist")

    page = staff_client.post(url, {"action": "add_to_collection", "_selected_action": ids})
    assert page.status_code == 200
    body = page.content.decode()
    assert "Award winners" in body and "Gamma" in body
    assert CollectionItem.objects.count() == 1  # nothing added before the choice

    done = staff_client.post(
        url, {"action": "add_to_collection", "_selected_action": ids, "apply": "1", "collection": collection.pk}
    )
    assert done.status_code == 302
    items = list(collection.items.order_by("position").values_list("title__name", "position"))
    assert items == [("Alpha", 0), ("Beta", 1), ("Gamma", 2)]

    # Garbage collection id: the form is shown again with an error, nothing written.
    bad = staff_client.post(
        url, {"action": "add_to_collection", "_selected_action": ids, "apply": "1", "collection": "999999"}
    )
    assert bad.status_code == 200
    assert CollectionItem.objects.count() == 3


@pytest.mark.django_db
def test_engagement_is_read_only_in_the_admin(staff_client, catalog_data):
    rating = Rating.objects.get()
    change_url = reverse("admin:catalog_rating_change", args=[rating.pk])
    assert staff_client.get(change_url).status_code == 200  # view only
    response = staff_client.post(change_url, {"value": "down"})
    assert response.status_code == 403
    assert Rating.objects.get().value == "love"
    assert staff_client.get(reverse("admin:catalog_rating_add")).status_code == 403
    assert staff_client.get(reverse("admin:catalog_rating_delete", args=[rating.pk])).status_code == 403
    # Search by profile (the owner persona's profile is called "Owner").
    found = staff_client.get(reverse("admin:catalog_rating_changelist"), {"q": "owner"})
    assert "The Quiet River" in found.content.decode()
    missing = staff_client.get(reverse("admin:catalog_rating_changelist"), {"q": "nobody"})
    assert "The Quiet River" not in missing.content.decode()


@pytest.mark.django_db
def test_autocomplete_for_big_foreign_keys(staff_client, catalog_data):
    response = staff_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "catalog", "model_name": "collectionitem", "field_name": "title", "term": "quiet"},
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == [str(catalog_data)]
