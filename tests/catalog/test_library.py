"""The profile's own pages: My List, viewing history (with removal), ratings."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.maturity import MaturityRating
from catalog.models import ListEntry, Rating, ViewingActivity
from privacy import consent
from tests.support.accounts import make_account, signed_in_client
from tests.support.factories import (
    EpisodeFactory,
    ListEntryFactory,
    ProfileFactory,
    RatingFactory,
    SeasonFactory,
    TitleFactory,
    ViewingFactory,
)

pytestmark = pytest.mark.django_db

PAGES = ["my-list", "history", "my-ratings"]


def title_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'data-title-id="(\d+)"', response.content.decode())]


def ago(minutes: int):
    return timezone.now() - timedelta(minutes=minutes)


# --- Access: owner / other account / anonymous / another profile of the same account ------------


@pytest.mark.parametrize("name", PAGES)
def test_pages_need_login_and_a_profile(client, owner, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
    response = signed_in_client(owner[0]).get(reverse(name))
    assert response["Location"] == reverse("profile-picker")


def test_pages_show_only_the_active_profiles_data(owner, other, owner_client):
    user, profile = owner
    sibling = ProfileFactory(account=user, name="Sibling")
    mine, siblings, others = TitleFactory(), TitleFactory(), TitleFactory()
    for p, t in [(profile, mine), (sibling, siblings), (other[1], others)]:
        ListEntryFactory(profile=p, title=t)
        ViewingFactory(profile=p, title=t)
        RatingFactory(profile=p, title=t)
    for name in PAGES:
        response = owner_client.get(reverse(name))
        assert response.status_code == 200
        assert set(title_ids(response)) == {mine.pk}, name
    sibling_client = signed_in_client(user, sibling)
    for name in PAGES:
        assert set(title_ids(sibling_client.get(reverse(name)))) == {siblings.pk}, name


def test_pages_hide_titles_the_profile_may_no_longer_see(db):
    user, teen = make_account("teen", maturity_limit=3)
    ok = TitleFactory(maturity_rating=MaturityRating.PG_13)
    too_old = TitleFactory(maturity_rating=MaturityRating.R)
    gone = TitleFactory(is_published=False)
    for t in (ok, too_old, gone):
        ListEntryFactory(profile=teen, title=t)
        ViewingFactory(profile=teen, title=t)
        RatingFactory(profile=teen, title=t)
    client = signed_in_client(user, teen)
    for name in PAGES:
        assert title_ids(client.get(reverse(name))) == [ok.pk], name


# --- My List ------------------------------------------------------------------------------------


def test_my_list_newest_first_with_remove_buttons(owner, owner_client):
    _, profile = owner
    older = ListEntryFactory(profile=profile, added_at=ago(60)).title
    newer = ListEntryFactory(profile=profile, added_at=ago(1)).title
    response = owner_client.get(reverse("my-list"))
    assert title_ids(response) == [newer.pk, older.pk]
    html = response.content.decode()
    for title in (newer, older):
        assert f'action="{reverse("title-list", args=[title.slug])}"' in html
    assert html.count('name="action" value="remove"') == 2


def test_my_list_empty_state(owner_client):
    response = owner_client.get(reverse("my-list"))
    assert response.status_code == 200
    assert "Your list is empty" in response.content.decode()


def test_my_list_pagination(owner, owner_client):
    _, profile = owner
    entries = [ListEntryFactory(profile=profile, added_at=ago(i)) for i in range(30)]
    first = owner_client.get(reverse("my-list"))
    assert title_ids(first) == [e.title_id for e in entries[:24]]
    assert title_ids(owner_client.get(reverse("my-list"), {"page": 2})) == [e.title_id for e in entries[24:]]
    assert owner_client.get(reverse("my-list"), {"page": "x"}).status_code == 200


# --- History ------------------------------------------------------------------------------------


def test_history_groups_by_title_most_recent_first(owner, owner_client):
    _, profile = owner
    film = TitleFactory(name="A Film")
    ViewingFactory(profile=profile, title=film, position_seconds=3000, duration_seconds=6000, last_watched_at=ago(30))
    season = SeasonFactory(title=TitleFactory(name="A Series", kind="series"))
    e1, e2 = EpisodeFactory(season=season, number=1), EpisodeFactory(season=season, number=2)
    series = season.title
    ViewingFactory(profile=profile, title=series, episode=e1, completed=True, last_watched_at=ago(120))
    ViewingFactory(profile=profile, title=series, episode=e2, position_seconds=900, duration_seconds=1800,
                   last_watched_at=ago(5))  # fmt: skip
    response = owner_client.get(reverse("history"))
    assert response.status_code == 200
    assert title_ids(response) == [series.pk, film.pk]  # one row per title, by last watched
    items = response.context["items"]
    assert items[0]["entries"] == 2
    assert items[0]["latest"].episode == e2  # progress of the latest episode
    assert items[1]["latest"].progress == 0.5
    html = response.content.decode()
    assert 'value="50"' in html  # both at 50%
    assert "2 episodes watched" in html
    assert reverse("history-remove", args=[film.slug]) in html
    assert reverse("history-clear") in html
    assert "Viewing history is off" not in html


def test_history_says_when_consent_is_off(db):
    user, profile = make_account("quiet", consents=False)
    consent.consents_set(account_id=user.pk, choices={"viewing_history": False}, method="settings")
    response = signed_in_client(user, profile).get(reverse("history"))
    html = response.content.decode()
    assert "Viewing history is off" in html
    assert f'href="{reverse("privacy-settings")}"' in html


def test_remove_one_title_from_history(owner, other, owner_client):
    _, profile = owner
    season = SeasonFactory(title=TitleFactory(kind="series"))
    series = season.title
    ViewingFactory(profile=profile, title=series, episode=EpisodeFactory(season=season))
    ViewingFactory(profile=profile, title=series, episode=EpisodeFactory(season=season))
    keep = ViewingFactory(profile=profile).title
    others = ViewingFactory(profile=other[1], title=series)
    stamp = profile.engagement_stamp
    response = owner_client.post(reverse("history-remove", args=[series.slug]))
    assert response.status_code == 302
    assert response["Location"] == reverse("history")
    assert not ViewingActivity.objects.filter(profile=profile, title=series).exists()
    assert ViewingActivity.objects.filter(profile=profile, title=keep).exists()
    assert ViewingActivity.objects.filter(pk=others.pk).exists()  # another account's row: untouched
    profile.refresh_from_db()
    assert profile.engagement_stamp == stamp + 1  # through the service: the recommender notices


def test_remove_from_history_of_a_title_since_hidden(db):
    user, teen = make_account("teen", maturity_limit=5)
    title = TitleFactory(maturity_rating=MaturityRating.R)
    ViewingFactory(profile=teen, title=title)
    teen.maturity_limit = 3
    teen.save()
    # Own history stays removable even though the title is no longer visible to the profile.
    response = signed_in_client(user, teen).post(reverse("history-remove", args=[title.slug]))
    assert response.status_code == 302
    assert not ViewingActivity.objects.filter(profile=teen).exists()


def test_remove_from_history_bad_requests(owner, other, owner_client, client):
    _, profile = owner
    mine = ViewingFactory(profile=profile)
    # A hidden title the profile never watched: 404, as if it did not exist.
    hidden = TitleFactory(is_published=False)
    ViewingFactory(profile=other[1], title=hidden)
    assert owner_client.post(reverse("history-remove", args=[hidden.slug])).status_code == 404
    assert owner_client.post(reverse("history-remove", args=["no-such-title"])).status_code == 404
    assert owner_client.get(reverse("history-remove", args=[mine.title.slug])).status_code == 405
    response = client.post(reverse("history-remove", args=[mine.title.slug]))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert ViewingActivity.objects.count() == 2


def test_clear_all_history_needs_confirmation(owner, other, owner_client):
    _, profile = owner
    ViewingFactory(profile=profile)
    ViewingFactory(profile=profile)
    sibling = ProfileFactory(account=owner[0])
    ViewingFactory(profile=sibling)
    ViewingFactory(profile=other[1])
    response = owner_client.post(reverse("history-clear"))
    assert response.status_code == 302
    assert ViewingActivity.objects.filter(profile=profile).count() == 2  # not confirmed: nothing
    response = owner_client.post(reverse("history-clear"), {"confirm": "yes"})
    assert response.status_code == 302
    assert not ViewingActivity.objects.filter(profile=profile).exists()
    # Only the active profile's history: the sibling profile and the other account keep theirs.
    assert ViewingActivity.objects.filter(profile=sibling).count() == 1
    assert ViewingActivity.objects.filter(profile=other[1]).count() == 1
    assert owner_client.get(reverse("history-clear")).status_code == 405


def test_history_page_confirmation_form(owner, owner_client):
    ViewingFactory(profile=owner[1])
    html = owner_client.get(reverse("history")).content.decode()
    assert 'name="confirm" value="yes"' in html
    assert "cannot be undone" in html


# --- Ratings ------------------------------------------------------------------------------------


def test_ratings_page_lists_and_filters_by_value(owner, owner_client):
    _, profile = owner
    loved = RatingFactory(profile=profile, value="love", updated_at=ago(1)).title
    liked = RatingFactory(profile=profile, value="up", updated_at=ago(2)).title
    disliked = RatingFactory(profile=profile, value="down", updated_at=ago(3)).title
    response = owner_client.get(reverse("my-ratings"))
    assert title_ids(response) == [loved.pk, liked.pk, disliked.pk]
    assert title_ids(owner_client.get(reverse("my-ratings"), {"value": "love"})) == [loved.pk]
    assert title_ids(owner_client.get(reverse("my-ratings"), {"value": "down"})) == [disliked.pk]
    html = response.content.decode()
    # Change/remove through title-rate: the current value's button clears it.
    assert f'action="{reverse("title-rate", args=[loved.slug])}"' in html
    assert html.count('name="value" value="clear"') == 3
    assert html.count('aria-pressed="true"') == 3


def test_ratings_invalid_filter_is_a_form_error(owner, owner_client):
    rated = RatingFactory(profile=owner[1]).title
    response = owner_client.get(reverse("my-ratings"), {"value": "meh"})
    assert response.status_code == 200
    assert "value" in response.context["form"].errors
    assert 'class="field-errors"' in response.content.decode()
    assert title_ids(response) == [rated.pk]


# --- Query counts: flat with 5 and with 50 items ------------------------------------------------


@pytest.mark.parametrize("count", [5, 50])
def test_query_counts_are_flat(owner, owner_client, django_assert_max_num_queries, count):
    _, profile = owner
    for i in range(count):
        title = TitleFactory()
        ListEntryFactory(profile=profile, title=title, added_at=ago(i))
        RatingFactory(profile=profile, title=title)
        if i % 2:
            season = SeasonFactory(title=TitleFactory(kind="series"))
            ViewingFactory(profile=profile, title=season.title, episode=EpisodeFactory(season=season))
            ViewingFactory(profile=profile, title=season.title, episode=EpisodeFactory(season=season))
        else:
            ViewingFactory(profile=profile, title=title)
    # Every page: session, user, profile (middleware); the layout's policy banner (2 queries).
    # My List: count, the page of entries with their titles (joined).
    with django_assert_max_num_queries(7):
        response = owner_client.get(reverse("my-list"))
    assert len(title_ids(response)) == min(count, 24)
    # History: count, the page of grouped rows, their titles, their latest viewings; consent.
    with django_assert_max_num_queries(10):
        response = owner_client.get(reverse("history"))
    assert len(title_ids(response)) == min(count, 24)
    # Ratings: count, the page of ratings with their titles (joined), the "Not for me" list.
    with django_assert_max_num_queries(8):
        response = owner_client.get(reverse("my-ratings"), {"value": "up"})
    assert len(title_ids(response)) == min(count, 24)


def test_nothing_written_by_viewing_pages(owner, owner_client):
    ListEntryFactory(profile=owner[1])
    RatingFactory(profile=owner[1])
    for name in PAGES:
        owner_client.get(reverse(name))
    assert ListEntry.objects.count() == 1 and Rating.objects.count() == 1
