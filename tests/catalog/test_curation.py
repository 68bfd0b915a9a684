"""Curation in the admin (issue 15, requirement 5, and what deleting a catalog object means):
`Add to collection…` places titles where the curator sees them and warns past the row's length;
an episode belongs to a season of its own title; a schedule ends after it starts; staff preview
"as of" a moment; bulk publish / unpublish write each title's history; deleting protects what
subscribers engaged with and offers "Unpublish instead"."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from catalog.models import Collection, CollectionItem, Credit, Episode, Rating, Season, Title, TitleKind
from catalog.shelves import ROW_LENGTH, collection_specs, row_specs
from insights.models import PreviewAudit
from recommendations.home import build_home
from tests.support.factories import (
    CollectionFactory,
    CreditFactory,
    EpisodeFactory,
    ListEntryFactory,
    RatingFactory,
    SeasonFactory,
    TitleFactory,
    ViewingFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:catalog_title_changelist"


def _messages(response) -> list[tuple[str, str]]:
    """(level, text without its links) of each admin message the response carried."""
    return [(m.level_tag, strip_tags(str(m))) for m in get_messages(response.wsgi_request)]


def _collection_ids(profile, key: str, *, now=None) -> list[int]:
    spec = next((s for s in collection_specs(profile, now=now) if s.key == key), None)
    return [] if spec is None else [tid for tid, _, _ in spec.items]


# --- 1. Add to collection ------------------------------------------------------------------


@pytest.fixture
def full_collection():
    """A collection that already fills its home row (as the demo's "Staff picks" does)."""
    collection = CollectionFactory(name="Staff picks", slug="staff-picks")
    CollectionItem.objects.bulk_create(
        CollectionItem(collection=collection, title=TitleFactory(name=f"Old {i:02}"), position=i)
        for i in range(ROW_LENGTH)
    )
    return collection


def _add(staff_client, collection, titles, **extra):
    data = {"action": "add_to_collection", "apply": "1", "collection": collection.pk}
    data["_selected_action"] = [t.pk for t in titles]
    return staff_client.post(reverse(CHANGELIST), {**data, **extra}, follow=True)


def test_add_at_the_start_puts_the_titles_on_the_home_row(staff_client, owner, full_collection):
    _, profile = owner
    new = [TitleFactory(name="Zeta new"), TitleFactory(name="Alpha new")]
    assert not {t.pk for t in new} & set(_collection_ids(profile, "collection-staff-picks"))

    response = _add(staff_client, full_collection, new, where="start")

    assert response.status_code == 200
    # The new titles lead the collection, in name order; the old ones follow, renumbered.
    items = list(full_collection.items.order_by("position").values_list("title__name", "position"))
    assert items[:3] == [("Alpha new", 0), ("Zeta new", 1), ("Old 00", 2)]
    assert [p for _, p in items] == list(range(ROW_LENGTH + 2))
    row = _collection_ids(profile, "collection-staff-picks")
    assert row[:2] == [new[1].pk, new[0].pk] and len(row) == ROW_LENGTH
    # The collection's page lists them first in its inline.
    page = staff_client.get(reverse("admin:catalog_collection_change", args=[full_collection.pk])).content.decode()
    assert page.index(f'value="{new[1].pk}"') < page.index(f'value="{new[0].pk}"')
    assert 'data-beyond-row="2"' in page
    levels = _messages(response)
    assert levels[0] == (
        "success",
        "2 title(s) added at the start of “Staff picks” (0 already there); it now has 22 title(s).",
    )
    warning = [text for lvl, text in levels if lvl == "warning"]
    assert len(warning) == 1 and f"shows only the first {ROW_LENGTH}" in warning[0] and "22 titles" in warning[0]


def test_add_at_the_end_warns_that_the_row_does_not_show_them(staff_client, owner, full_collection):
    _, profile = owner
    new = TitleFactory(name="Late addition")
    response = _add(staff_client, full_collection, [new], where="end")
    assert full_collection.items.get(title=new).position == ROW_LENGTH
    assert new.pk not in _collection_ids(profile, "collection-staff-picks")
    warning = [text for lvl, text in _messages(response) if lvl == "warning"]
    assert len(warning) == 1 and "some of the titles just added" in warning[0]


def test_no_warning_while_the_row_shows_everything_and_duplicates_are_skipped(staff_client, owner):
    _, profile = owner
    collection = CollectionFactory(name="Small", slug="small")
    first = TitleFactory(name="First")
    CollectionItem.objects.create(collection=collection, title=first, position=0)
    new = TitleFactory(name="Second")
    response = _add(staff_client, collection, [first, new], where="end")
    assert list(collection.items.order_by("position").values_list("title__name", flat=True)) == ["First", "Second"]
    assert _collection_ids(profile, "collection-small") == [first.pk, new.pk]
    assert [lvl for lvl, _ in _messages(response)] == ["success"]
    assert "(1 already there)" in _messages(response)[0][1]


def test_adding_an_unpublished_title_says_no_row_shows_it(staff_client):
    collection = CollectionFactory(name="Drafts", slug="drafts")
    hidden = TitleFactory(name="Not yet out", is_published=False)
    response = _add(staff_client, collection, [hidden])
    warnings = [text for lvl, text in _messages(response) if lvl == "warning"]
    assert warnings == ["Not shown on any row until published: Not yet out (2020)."]
    assert collection.items.filter(title=hidden).exists()


def test_the_choice_page_offers_where_and_says_the_row_length(staff_client, full_collection):
    title = TitleFactory()
    page = staff_client.post(reverse(CHANGELIST), {"action": "add_to_collection", "_selected_action": [title.pk]})
    body = page.content.decode()
    assert page.status_code == 200
    assert 'name="where" value="start"' in body and "checked" in body
    assert f"first {ROW_LENGTH} titles" in body
    # A choice that is not one: the form again, nothing written.
    bad = staff_client.post(
        reverse(CHANGELIST),
        {"action": "add_to_collection", "apply": "1", "collection": full_collection.pk, "where": "middle",
         "_selected_action": [title.pk]},
    )  # fmt: skip
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    assert not full_collection.items.filter(title=title).exists()


# --- 2. An episode belongs to a season of its own title --------------------------------------


def _episode_post(title, season, **extra):
    return {"title": title.pk, "season": season.pk, "number": 1, "name": "Pilot", "synopsis": "",
            "runtime_minutes": 30, **extra}  # fmt: skip


def test_episode_of_a_film_in_another_series_season_is_refused(staff_client):
    film = TitleFactory(name="A Film", kind=TitleKind.FILM)
    other_season = SeasonFactory(title__name="Other Series", number=1)
    response = staff_client.post(reverse("admin:catalog_episode_add"), _episode_post(film, other_season))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "season" in errors
    assert "belongs to “Other Series (2020)”, not to “A Film (2020)” (a film" in errors["season"][0]
    assert not Episode.objects.exists()


def test_episode_in_another_series_season_is_refused_and_its_own_is_saved(staff_client):
    mine = SeasonFactory(title__name="Mine", number=1)
    theirs = SeasonFactory(title__name="Theirs", number=1)
    refused = staff_client.post(reverse("admin:catalog_episode_add"), _episode_post(mine.title, theirs))
    assert refused.status_code == 200 and "season" in refused.context["adminform"].form.errors
    saved = staff_client.post(reverse("admin:catalog_episode_add"), _episode_post(mine.title, mine))
    assert saved.status_code == 302
    assert Episode.objects.get().season == mine


def test_moving_an_episode_to_another_titles_season_is_refused(staff_client):
    episode = EpisodeFactory(season__title__name="Home Series")
    elsewhere = SeasonFactory(title__name="Away Series", number=9)
    url = reverse("admin:catalog_episode_change", args=[episode.pk])
    response = staff_client.post(url, _episode_post(episode.title, elsewhere, number=episode.number))
    assert response.status_code == 200 and "season" in response.context["adminform"].form.errors
    episode.refresh_from_db()
    assert episode.season_id != elsewhere.pk


def test_model_clean_refuses_the_mismatch_and_derives_a_missing_title():
    film = TitleFactory(kind=TitleKind.FILM)
    season = SeasonFactory()
    with pytest.raises(ValidationError) as err:
        Episode(title=film, season=season, number=1, name="x").full_clean()
    assert "season" in err.value.message_dict
    fresh = Episode(season=season, number=1, name="x")
    fresh.full_clean(exclude=["title"])
    assert fresh.title_id == season.title_id


def _season_post(series, *episodes, **extra):
    data = {"title": series.pk, "number": 1, "name": "", "episodes-TOTAL_FORMS": len(episodes),
            "episodes-INITIAL_FORMS": 0, "episodes-MIN_NUM_FORMS": 0, "episodes-MAX_NUM_FORMS": 1000}  # fmt: skip
    for i, name in enumerate(episodes):
        data.update({f"episodes-{i}-number": i + 1, f"episodes-{i}-name": name, f"episodes-{i}-runtime_minutes": 30})
    return {**data, **extra}


def test_a_new_season_with_inline_episodes_gives_them_its_title(staff_client):
    series = TitleFactory(kind=TitleKind.SERIES)
    response = staff_client.post(reverse("admin:catalog_season_add"), _season_post(series, "One", "Two"))
    assert response.status_code == 302
    assert list(Episode.objects.values_list("title_id", flat=True)) == [series.pk, series.pk]


def test_a_film_gets_no_season_from_the_season_page(staff_client):
    film = TitleFactory(name="Solo Film", kind=TitleKind.FILM)
    response = staff_client.post(reverse("admin:catalog_season_add"), _season_post(film, "One"))
    assert response.status_code == 200
    assert "a film has no seasons" in response.context["adminform"].form.errors["title"][0]
    assert not Season.objects.exists() and not Episode.objects.exists()


def test_the_inline_refuses_episodes_for_a_films_season(staff_client):
    film = TitleFactory(name="Old Film", kind=TitleKind.FILM)
    legacy = Season.objects.create(title=film, number=1)  # data from before the rule
    url = reverse("admin:catalog_season_change", args=[legacy.pk])
    response = staff_client.post(url, _season_post(film, "Stray", title=film.pk))
    assert response.status_code == 200
    assert "a film has no episodes" in response.content.decode()
    assert not Episode.objects.exists()


def test_a_season_with_episodes_cannot_move_to_another_title(staff_client):
    episode = EpisodeFactory()
    other = TitleFactory(kind=TitleKind.SERIES)
    url = reverse("admin:catalog_season_change", args=[episode.season.pk])
    data = _season_post(other, number=episode.season.number)
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "cannot move to another title" in response.context["adminform"].form.errors["title"][0]
    assert Season.objects.get(pk=episode.season.pk).title_id == episode.title_id


def _title_post(title, **extra):
    data = {
        "kind": title.kind, "name": title.name, "slug": title.slug, "synopsis": title.synopsis, "year": title.year,
        "runtime_minutes": title.runtime_minutes or "", "is_published": "on",
        "date_added_0": title.date_added.strftime("%Y-%m-%d"), "date_added_1": title.date_added.strftime("%H:%M:%S"),
        "maturity_rating": title.maturity_rating, "external_id": title.external_id, "imdb_id": "", "tmdb_id": "",
    }  # fmt: skip
    for prefix, n in (("title_tags", 0), ("credits", 0), ("seasons", title.seasons.count())):
        data.update({f"{prefix}-TOTAL_FORMS": n, f"{prefix}-INITIAL_FORMS": n, f"{prefix}-MIN_NUM_FORMS": 0,
                     f"{prefix}-MAX_NUM_FORMS": 1000})  # fmt: skip
    for i, season in enumerate(title.seasons.all()):
        data.update({f"seasons-{i}-id": season.pk, f"seasons-{i}-title": title.pk,
                     f"seasons-{i}-number": season.number, f"seasons-{i}-name": season.name})  # fmt: skip
    return {**data, **extra}


def test_a_series_with_seasons_cannot_become_a_film(staff_client):
    series = SeasonFactory().title
    url = reverse("admin:catalog_title_change", args=[series.pk])
    response = staff_client.post(url, _title_post(series, kind=TitleKind.FILM))
    assert response.status_code == 200
    assert "a film has none" in response.context["adminform"].form.errors["kind"][0]
    assert Title.objects.get(pk=series.pk).kind == TitleKind.SERIES


def test_a_film_gets_no_season_from_the_title_page(staff_client):
    film = TitleFactory(kind=TitleKind.FILM)
    data = _title_post(film)
    data.update({"seasons-TOTAL_FORMS": 1, "seasons-0-number": 1, "seasons-0-name": "S1"})
    response = staff_client.post(reverse("admin:catalog_title_change", args=[film.pk]), data)
    assert response.status_code == 200
    assert "A film has no seasons" in response.content.decode()
    assert not Season.objects.exists()
    # The same page saves a film without seasons (the helper's form is complete).
    assert (
        staff_client.post(reverse("admin:catalog_title_change", args=[film.pk]), _title_post(film)).status_code == 302
    )


# --- 3. A schedule ends after it starts ------------------------------------------------------


def _collection_post(starts, ends, **extra):
    data = {"name": "Festive", "slug": "festive", "description": "", "position": 0, "is_active": "on",
            "audience": "everyone", "items-TOTAL_FORMS": 0, "items-INITIAL_FORMS": 0, "items-MIN_NUM_FORMS": 0,
            "items-MAX_NUM_FORMS": 1000}  # fmt: skip
    for name, moment in (("starts_at", starts), ("ends_at", ends)):
        data[f"{name}_0"] = moment.strftime("%Y-%m-%d") if moment else ""
        data[f"{name}_1"] = moment.strftime("%H:%M:%S") if moment else ""
    return {**data, **extra}


@pytest.mark.parametrize("gap", [timedelta(days=-1), timedelta(0)], ids=["end-before-start", "end-equals-start"])
def test_admin_refuses_a_schedule_that_ends_before_it_starts(staff_client, gap):
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    response = staff_client.post(reverse("admin:catalog_collection_add"), _collection_post(start, start + gap))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["ends_at"] == [
        "The end of the schedule must come after its start."
    ]
    assert not Collection.objects.exists()


def test_admin_saves_open_and_well_ordered_schedules(staff_client):
    start = timezone.now().replace(microsecond=0)
    url = reverse("admin:catalog_collection_add")
    assert staff_client.post(url, _collection_post(start, start + timedelta(hours=1))).status_code == 302
    assert staff_client.post(url, _collection_post(None, start, slug="open-start")).status_code == 302
    assert staff_client.post(url, _collection_post(start, None, slug="open-end")).status_code == 302
    assert Collection.objects.count() == 3


def test_the_database_refuses_a_backwards_schedule():
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        Collection.objects.create(name="Bad", slug="bad", starts_at=now, ends_at=now - timedelta(minutes=1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Collection.objects.create(name="Bad", slug="bad", starts_at=now, ends_at=now)
    Collection.objects.create(name="Good", slug="good", starts_at=now, ends_at=now + timedelta(minutes=1))


# --- 4. Staff preview "as of" -----------------------------------------------------------------


@pytest.fixture
def tomorrows_row():
    start = timezone.now() + timedelta(days=1)
    collection = CollectionFactory(name="Tomorrow", slug="tomorrow", starts_at=start, ends_at=start + timedelta(days=7))
    title = TitleFactory(name="Coming soon")
    CollectionItem.objects.create(collection=collection, title=title)
    return collection


def test_preview_as_of_tomorrow_shows_the_scheduled_row(staff, staff_client, owner, tomorrows_row):
    _, profile = owner
    url = reverse("insights:preview")
    today = staff_client.get(url, {"id": profile.pk})
    assert today.status_code == 200
    assert b'data-row="collection-tomorrow"' not in today.content
    assert b'data-as-of="now"' in today.content

    moment = (tomorrows_row.starts_at + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    ahead = staff_client.get(url, {"id": profile.pk, "as_of": moment})
    assert ahead.status_code == 200
    body = ahead.content.decode()
    assert 'data-row="collection-tomorrow"' in body
    assert "collections live at that moment" in body and f'value="{moment}"' in body
    # Read-only and audited: one audit row per preview shown, nothing recorded for the profile.
    assert PreviewAudit.objects.filter(profile=profile, staff=staff).count() == 2
    assert not Rating.objects.exists()
    # The default is unchanged: the live home has no row from tomorrow.
    assert not any(r.key == "collection-tomorrow" for r in build_home(profile=profile).rows)


def test_row_specs_thread_the_moment(owner, tomorrows_row):
    _, profile = owner
    keys = lambda now: {s.key for s in row_specs(profile, now=now)}  # noqa: E731
    assert "collection-tomorrow" not in keys(None)
    assert "collection-tomorrow" in keys(tomorrows_row.starts_at)
    assert "collection-tomorrow" not in keys(tomorrows_row.ends_at)  # ends_at is exclusive


@pytest.mark.parametrize(
    "bad", ["tomorrow", "2026-02-30T10:00", "2026-12-08 10:00", "２０２６-12-08T10:00", "2026-12-08T25:00"]
)
def test_preview_refuses_a_bad_as_of_with_a_reason(staff_client, owner, bad):
    _, profile = owner
    response = staff_client.get(reverse("insights:preview"), {"id": profile.pk, "as_of": bad})
    assert response.status_code == 400
    assert b"Not a date and time" in response.content
    assert not PreviewAudit.objects.exists()


def test_preview_pick_carries_as_of_into_the_matches(staff_client, owner):
    _, profile = owner
    page = staff_client.get(reverse("insights:preview"), {"profile": "owner", "as_of": "2030-01-02T03:04"})
    assert page.status_code == 200
    assert f"?id={profile.pk}&amp;as_of=2030-01-02T03%3A04".encode() in page.content
    assert b'type="datetime-local"' in page.content


def test_preview_as_of_is_staff_only(owner_client, client, owner):
    _, profile = owner
    for c in (owner_client, client):
        response = c.get(reverse("insights:preview"), {"id": profile.pk, "as_of": "2030-01-02T03:04"})
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    assert not PreviewAudit.objects.exists()


# --- 5. Bulk publish / unpublish leave history -----------------------------------------------


def test_bulk_publish_and_unpublish_write_each_titles_history(staff, staff_client):
    drafts = [TitleFactory(name=f"Draft {i}", is_published=False) for i in range(2)]
    live = TitleFactory(name="Already live", is_published=True)
    ids = [t.pk for t in drafts] + [live.pk]
    staff_client.post(reverse(CHANGELIST), {"action": "publish", "_selected_action": ids})
    assert Title.objects.filter(pk__in=ids, is_published=True).count() == 3
    entries = LogEntry.objects.filter(action_flag=CHANGE)
    # Only the titles that changed get an entry, each naming who did it.
    assert sorted(int(e.object_id) for e in entries) == sorted(t.pk for t in drafts)
    assert {e.user_id for e in entries} == {staff.pk}
    assert {e.change_message for e in entries} == {"Published with the bulk action."}

    staff_client.post(reverse(CHANGELIST), {"action": "unpublish", "_selected_action": [drafts[0].pk]})
    history = staff_client.get(reverse("admin:catalog_title_history", args=[drafts[0].pk]))
    body = history.content.decode()
    assert history.status_code == 200
    assert "Unpublished with the bulk action." in body and "Published with the bulk action." in body
    assert staff.username in body
    assert LogEntry.objects.filter(object_id=str(live.pk)).count() == 0


# --- 6. What deleting means -------------------------------------------------------------------


@pytest.fixture
def engaged(owner):
    _, profile = owner
    title = TitleFactory(name="Much Loved")
    RatingFactory(profile=profile, title=title, value="love")
    ViewingFactory(profile=profile, title=title)
    ListEntryFactory(profile=profile, title=title)
    return title


def test_a_title_with_engagement_is_protected_and_offers_unpublish_instead(staff, staff_client, engaged):
    url = reverse("admin:catalog_title_delete", args=[engaged.pk])
    page = staff_client.get(url)
    body = page.content.decode()
    assert page.status_code == 200
    assert "This title cannot be deleted" in body and "Nothing was deleted" not in body  # only asked so far
    assert "“Much Loved (2020)”: 1 My List entry, 1 rating, 1 play" in body
    assert "data-unpublish-instead" in body and 'value="Unpublish instead"' in body
    assert "permission" not in body  # not Django's raw "no permission to delete ... rating" list

    refused = staff_client.post(url, {"post": "yes"})
    assert refused.status_code == 200 and Title.objects.filter(pk=engaged.pk).exists()

    done = staff_client.post(
        reverse(CHANGELIST), {"action": "unpublish", "instead_of_delete": "1", "_selected_action": [engaged.pk]}
    )
    assert done.status_code == 302
    engaged.refresh_from_db()
    assert not engaged.is_published
    entry = LogEntry.objects.get(object_id=str(engaged.pk))
    assert entry.user == staff and entry.change_message == "Unpublished instead of deleted."
    assert Rating.objects.filter(title=engaged).exists()  # the subscriber's history stays
    # Already unpublished: the page says so instead of offering the button.
    again = staff_client.get(url).content.decode()
    assert "already unpublished" in again and 'value="Unpublish instead"' not in again


def test_bulk_delete_with_an_engaged_title_deletes_nothing(staff_client, engaged):
    clean = TitleFactory(name="Nobody watched")
    response = staff_client.post(
        reverse(CHANGELIST), {"action": "delete_selected", "_selected_action": [engaged.pk, clean.pk], "post": "yes"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "This title cannot be deleted" in body and "Much Loved" in body and "Nothing was deleted" in body
    assert f'name="_selected_action" value="{engaged.pk}"' in body
    assert Title.objects.filter(pk__in=[engaged.pk, clean.pk]).count() == 2


def test_a_title_without_engagement_deletes_with_what_hangs_off_it(staff_client):
    series = EpisodeFactory(season__title__name="Unwatched").title
    CreditFactory(title=series)
    collection = CollectionFactory()
    CollectionItem.objects.create(collection=collection, title=series)
    url = reverse("admin:catalog_title_delete", args=[series.pk])
    page = staff_client.get(url).content.decode()
    assert "A title nobody has engaged with is deleted together with its seasons" in page
    assert "Yes, I’m sure" in page
    assert staff_client.post(url, {"post": "yes"}).status_code == 302
    assert not Title.objects.filter(pk=series.pk).exists()
    assert not (Season.objects.exists() or Episode.objects.exists() or Credit.objects.exists())
    assert Collection.objects.filter(pk=collection.pk).exists() and not collection.items.exists()


def test_an_episode_with_plays_is_protected_one_without_deletes(staff_client, owner):
    _, profile = owner
    played = EpisodeFactory(name="Played one")
    spare = EpisodeFactory(season=played.season, title=played.title, name="Spare one")
    ViewingFactory(profile=profile, title=played.title, episode=played)
    page = staff_client.get(reverse("admin:catalog_episode_delete", args=[played.pk])).content.decode()
    assert "This episode cannot be deleted" in page and "Played one" in page and "1 play" in page
    assert "Unpublish instead" not in page
    staff_client.post(reverse("admin:catalog_episode_delete", args=[played.pk]), {"post": "yes"})
    assert Episode.objects.filter(pk=played.pk).exists()
    assert (
        staff_client.post(reverse("admin:catalog_episode_delete", args=[spare.pk]), {"post": "yes"}).status_code == 302
    )
    assert not Episode.objects.filter(pk=spare.pk).exists()
    # A season follows its episodes: one with a played episode is protected too.
    season_page = staff_client.get(reverse("admin:catalog_season_delete", args=[played.season.pk])).content.decode()
    assert "This season cannot be deleted" in season_page and "Played one" in season_page
    with pytest.raises(ProtectedError):
        played.season.delete()


def test_collections_and_their_items_delete_freely(staff_client, engaged):
    collection = CollectionFactory(name="Seasonal")
    item = CollectionItem.objects.create(collection=collection, title=engaged)
    url = reverse("admin:catalog_collection_delete", args=[collection.pk])
    page = staff_client.get(url).content.decode()
    assert "Collections are curation only" in page and "Yes, I’m sure" in page
    assert staff_client.post(url, {"post": "yes"}).status_code == 302
    assert not Collection.objects.exists() and not CollectionItem.objects.filter(pk=item.pk).exists()
    assert Title.objects.filter(pk=engaged.pk, is_published=True).exists()


def test_engagement_protects_titles_everywhere_but_leaves_with_its_profile(owner, engaged):
    with pytest.raises(ProtectedError):
        engaged.delete()
    user, _ = owner
    user.delete()  # an account's own deletion still takes its engagement with it
    assert not Rating.objects.exists()
    engaged.delete()
    assert not Title.objects.filter(pk=engaged.pk).exists()


def test_inline_deletes_of_played_seasons_and_episodes_are_refused(staff_client, owner):
    _, profile = owner
    played = EpisodeFactory(name="Played one")
    ViewingFactory(profile=profile, title=played.title, episode=played)
    series = played.title
    # From the title's page: ticking the season's DELETE box.
    data = _title_post(series)
    data["seasons-0-DELETE"] = "on"
    response = staff_client.post(reverse("admin:catalog_title_change", args=[series.pk]), data)
    assert response.status_code == 200
    assert f"Cannot delete {played.season} of “{series}”: episodes with plays: {played} (1 play)" in (
        response.content.decode().replace("&#x27;", "'")
    )
    assert Season.objects.filter(pk=played.season_id).exists()
    # From the season's page: ticking the episode's DELETE box.
    season_data = _season_post(series, number=played.season.number)
    season_data.update({
        "episodes-TOTAL_FORMS": 1, "episodes-INITIAL_FORMS": 1, "episodes-0-id": played.pk,
        "episodes-0-season": played.season_id, "episodes-0-number": played.number, "episodes-0-name": played.name,
        "episodes-0-runtime_minutes": played.runtime_minutes, "episodes-0-DELETE": "on",
    })  # fmt: skip
    response = staff_client.post(reverse("admin:catalog_season_change", args=[played.season_id]), season_data)
    assert response.status_code == 200
    assert f"Cannot delete {played} of “{series}”: 1 play" in response.content.decode()
    assert Episode.objects.filter(pk=played.pk).exists()


def test_collection_page_with_a_non_id_is_the_admins_not_found(staff_client):
    for bad in ("²", "99999999999999999999999"):
        response = staff_client.get(f"/admin/catalog/collection/{bad}/change/")
        assert response.status_code == 302  # the admin's "doesn't exist" redirect, not a crash
