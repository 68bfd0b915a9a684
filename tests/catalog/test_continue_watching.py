"""Continue watching that continues (issue 14, requirement 2): cards that resume playback,
"Remove from row", watched / in-progress marks on a series' episodes, the next-episode
countdown and "Skip intro" hooks of the player, and the demo's intro markers."""

import re
from datetime import UTC, datetime
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.services import profile_delete
from catalog import shelves
from catalog.importing import demo
from catalog.importing.demo.plan import intro_marker
from catalog.models import ViewingActivity
from privacy import registry
from tests.support.factories import EpisodeFactory, ProfileFactory, SeasonFactory, TitleFactory

pytestmark = pytest.mark.django_db


def beat(client, title, position, duration, episode=""):
    response = client.post(
        reverse("watch-heartbeat", args=[title.slug]),
        {"episode": episode, "position_seconds": position, "duration_seconds": duration},
    )
    assert response.status_code == 200, response.content
    return response


def cw_ids(profile) -> list[int]:
    return [tid for tid, _, _ in shelves.continue_watching_spec(profile).items]


def card(html: str, title) -> str:
    """The poster card of `title` in a rendered page."""
    match = re.search(rf'<article class="poster-card" data-title-id="{title.pk}">.*?</article>', html, re.S)
    assert match, f"no card for {title.name}"
    return match.group(0)


def row(html: str, key: str) -> str:
    match = re.search(rf'<section class="row" data-row="{key}".*?</section>', html, re.S)
    assert match, f"no row {key}"
    return match.group(0)


@pytest.fixture
def series():
    """A series of two seasons: S1E1, S1E2 (with an intro 30-90 s), S2E1 (the last)."""
    title = TitleFactory(name="Harbour Lights", kind="series", runtime_minutes=30)
    s1 = SeasonFactory(title=title, number=1)
    s2 = SeasonFactory(title=title, number=2)
    e1 = EpisodeFactory(season=s1, title=title, number=1, name="Pilot")
    e2 = EpisodeFactory(season=s1, title=title, number=2, name="Tides", intro_start_seconds=30, intro_end_seconds=90)
    e3 = EpisodeFactory(season=s2, title=title, number=1, name="Return")
    return title, [e1, e2, e3]


# --- Cards resume playback ------------------------------------------------------------------


def test_a_card_plays_at_the_saved_position(owner_client, owner):
    film = TitleFactory(name="Long Film", runtime_minutes=100)
    beat(owner_client, film, 1234, 6000)
    html = owner_client.get("/").content.decode()
    cw = card(row(html, "continue-watching"), film)
    href = unescape(re.search(r'class="poster-link" href="([^"]+)"', cw).group(1))
    # (Further parameters, such as the artwork variant shown, may follow.)
    assert href.startswith(f"/watch/{film.slug}/?row=continue-watching")
    assert "Resume" in cw and "Remove from row" in cw
    # The same card elsewhere (another row) still opens the title page.
    assert f'href="/title/{film.slug}/?row=continue-watching"' in cw  # its "Details" link
    player = owner_client.get(href)
    assert player.status_code == 200
    assert 'data-position="1234"' in player.content.decode()


def test_a_card_of_a_series_resumes_its_episode_or_plays_the_next(owner_client, owner, series):
    title, (e1, e2, _) = series
    beat(owner_client, title, 600, 1800, episode=e1.pk)  # S1E1, 10 min in
    player = owner_client.get(f"/watch/{title.slug}/?row=continue-watching").content.decode()
    assert f'data-episode="{e1.pk}"' in player and 'data-position="600"' in player
    beat(owner_client, title, 1800, 1800, episode=e1.pk)  # S1E1 finished: the card offers S1E2
    _, profile = owner
    assert shelves.continue_watching_spec(profile).items == [(title.pk, "Next: S1:E2", None)]
    player = owner_client.get(f"/watch/{title.slug}/?row=continue-watching").content.decode()
    assert f'data-episode="{e2.pk}"' in player and 'data-position="0"' in player


def test_playing_from_the_row_counts_as_a_click_from_it(owner_client, owner):
    from insights.models import Click

    film = TitleFactory(runtime_minutes=100)
    beat(owner_client, film, 60, 6000)
    owner_client.get(f"/watch/{film.slug}/?row=continue-watching")
    owner_client.get(f"/watch/{film.slug}/?row=no-such-row")  # a forged key is not counted
    assert list(Click.objects.filter(title=film).values_list("row_key", flat=True)) == ["continue-watching"]


# --- Remove from row ------------------------------------------------------------------------


def remove_url(title) -> str:
    return reverse("continue-watching-remove", args=[title.slug])


def test_remove_hides_the_title_from_the_row_only_and_the_next_play_brings_it_back(owner_client, owner):
    _, profile = owner
    film, other_film = TitleFactory(runtime_minutes=100), TitleFactory(runtime_minutes=100)
    beat(owner_client, film, 600, 6000)
    beat(owner_client, other_film, 600, 6000)
    assert set(cw_ids(profile)) == {film.pk, other_film.pk}

    response = owner_client.post(remove_url(film), {"action": "remove", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert cw_ids(profile) == [other_film.pk]
    # The history stays, and so does Resume on the title page.
    viewing = ViewingActivity.objects.get(profile=profile, title=film)
    assert viewing.position_seconds == 600 and viewing.dismissed_at is not None
    assert 'data-position="600"' in owner_client.get(f"/watch/{film.slug}/").content.decode()
    assert 'data-row="continue-watching"' in owner_client.get("/").content.decode()
    assert f'data-title-id="{film.pk}"' not in row(owner_client.get("/").content.decode(), "continue-watching")

    beat(owner_client, film, 660, 6000)  # played again
    assert cw_ids(profile)[0] == film.pk


def test_remove_of_a_series_takes_every_episode_out_until_any_is_played(owner_client, owner, series):
    _, profile = owner
    title, (e1, e2, _) = series
    beat(owner_client, title, 1800, 1800, episode=e1.pk)
    beat(owner_client, title, 100, 1800, episode=e2.pk)
    owner_client.post(remove_url(title), {"action": "remove"})
    assert cw_ids(profile) == []
    assert ViewingActivity.objects.filter(profile=profile, title=title).count() == 2
    beat(owner_client, title, 200, 1800, episode=e2.pk)
    assert cw_ids(profile) == [title.pk]


def test_remove_with_htmx_swaps_the_card_for_a_note_with_an_undo(owner_client, owner):
    _, profile = owner
    film = TitleFactory(name="Swapped Film", runtime_minutes=100)
    beat(owner_client, film, 600, 6000)
    response = owner_client.post(remove_url(film), {"action": "remove"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert f'data-removed-title-id="{film.pk}"' in html and "removed from Continue watching" in html
    assert 'value="undo"' in html
    undo = owner_client.post(remove_url(film), {"action": "undo"}, HTTP_HX_REQUEST="true")
    assert undo.status_code == 200
    back = undo.content.decode()
    assert f'data-title-id="{film.pk}"' in back and "Remove from row" in back
    assert "min left" in back  # the card as the row shows it
    assert cw_ids(profile) == [film.pk]


def test_remove_refuses_a_bad_action_and_changes_nothing(owner_client, owner):
    _, profile = owner
    film = TitleFactory(runtime_minutes=100)
    beat(owner_client, film, 600, 6000)
    assert owner_client.post(remove_url(film), {"action": "delete"}, HTTP_HX_REQUEST="true").status_code == 400
    response = owner_client.post(remove_url(film), {"action": "delete"}, follow=True)
    assert "nothing was changed" in response.content.decode()
    assert cw_ids(profile) == [film.pk]
    assert owner_client.get(remove_url(film)).status_code == 405


def test_remove_permissions_owner_other_account_anonymous(client, owner_client, owner, other_client, other):
    _, profile = owner
    film = TitleFactory(runtime_minutes=100)
    beat(owner_client, film, 600, 6000)
    # Another account: its profile never watched the title, so there is nothing of its own to
    # remove (404), and the owner's row is untouched.
    assert other_client.post(remove_url(film), {"action": "remove"}).status_code == 404
    assert cw_ids(profile) == [film.pk]
    # Anonymous: to the login page, nothing changed.
    response = client.post(remove_url(film), {"action": "remove"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert cw_ids(profile) == [film.pk]
    # An unknown title is a 404 too.
    assert owner_client.post("/title/no-such-title/continue-watching/", {"action": "remove"}).status_code == 404
    # The owner may.
    assert owner_client.post(remove_url(film), {"action": "remove"}).status_code == 302
    assert cw_ids(profile) == []


def test_the_mark_is_in_the_export_and_erased_with_the_history_and_the_profile(owner_client, owner):
    user, profile = owner
    film = TitleFactory(runtime_minutes=100)
    beat(owner_client, film, 600, 6000)
    exported = registry.export_account(user)["viewing"]
    assert exported[0]["removed_from_continue_watching_at"] is None
    owner_client.post(remove_url(film), {"action": "remove"})
    exported = registry.export_account(user)["viewing"]
    mark = ViewingActivity.objects.get(profile=profile).dismissed_at
    assert exported[0]["removed_from_continue_watching_at"] == mark.isoformat()
    # Withdrawing viewing history erases the viewings, the mark with them.
    registry.collected_delete(user, "viewing_history")
    assert not ViewingActivity.objects.filter(profile=profile).exists()
    beat(owner_client, film, 600, 6000)
    owner_client.post(remove_url(film), {"action": "remove"})
    ProfileFactory(account=user)  # an account keeps at least one profile
    profile_delete(profile=profile)
    assert not ViewingActivity.objects.filter(title=film).exists()


# --- The episode list's marks -----------------------------------------------------------------


def test_episode_list_shows_watched_and_in_progress_as_text(owner_client, owner, series):
    title, (e1, e2, e3) = series
    beat(owner_client, title, 1800, 1800, episode=e1.pk)
    beat(owner_client, title, 720, 1800, episode=e2.pk)  # 40 %
    html = owner_client.get(f"/title/{title.slug}/").content.decode()

    def episode(ep) -> str:
        return re.search(rf'<li class="episode" data-episode-id="{ep.pk}">.*?</li>', html, re.S).group(0)

    assert "Watched" in episode(e1) and 'data-mark="watched"' in episode(e1)
    assert "In progress 40%" in episode(e2)
    assert "data-mark" not in episode(e3)


def test_episode_marks_are_the_profiles_own(owner_client, other_client, series):
    title, (e1, _, _) = series
    beat(owner_client, title, 1800, 1800, episode=e1.pk)
    assert "data-mark" not in other_client.get(f"/title/{title.slug}/").content.decode()


def test_episode_marks_cost_one_query(owner_client, series):
    title, (e1, _, _) = series
    beat(owner_client, title, 1800, 1800, episode=e1.pk)
    owner_client.get(f"/title/{title.slug}/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        owner_client.get(f"/title/{title.slug}/")
    viewing_queries = [q for q in ctx.captured_queries if "catalog_viewingactivity" in q["sql"]]
    # Play/Resume (the latest episode viewing) and the marks (every episode viewing).
    assert len(viewing_queries) == 2


# --- The player: countdown and Skip intro hooks -----------------------------------------------


def test_player_has_the_countdown_to_a_next_episode_and_none_after_the_last(owner_client, series):
    title, (e1, e2, e3) = series
    html = owner_client.get(f"/watch/{title.slug}/?episode={e1.pk}").content.decode()
    assert 'data-countdown="10"' in html
    assert f'data-next-url="/watch/{title.slug}/?episode={e2.pk}"' in html
    assert 'data-role="countdown"' in html and 'aria-live="polite"' in html
    assert 'data-role="countdown-cancel"' in html
    last = owner_client.get(f"/watch/{title.slug}/?episode={e3.pk}").content.decode()
    assert "data-next-url" not in last and 'data-role="countdown"' not in last


def test_player_offers_skip_intro_only_for_an_episode_with_a_marker(owner_client, series):
    title, (e1, e2, _) = series
    html = owner_client.get(f"/watch/{title.slug}/?episode={e2.pk}").content.decode()
    assert 'data-intro-start="30"' in html and 'data-intro-end="90"' in html
    assert 'data-role="skip-intro"' in html and "Skip intro" in html
    plain = owner_client.get(f"/watch/{title.slug}/?episode={e1.pk}").content.decode()
    assert "data-intro-start" not in plain and "Skip intro" not in plain
    film = owner_client.get(f"/watch/{TitleFactory().slug}/").content.decode()
    assert "Skip intro" not in film and "data-next-url" not in film


@pytest.mark.parametrize(("start", "end"), [(90, 30), (30, 30), (None, 30), (30, None)])
def test_an_intro_marker_starts_before_it_ends_or_is_absent(series, start, end):
    _, (e1, _, _) = series
    e1.intro_start_seconds, e1.intro_end_seconds = start, end
    with pytest.raises(IntegrityError), transaction.atomic():
        e1.save()


def test_a_bad_intro_marker_is_a_form_error_in_the_admin_model_validation(series):
    _, (e1, _, _) = series
    e1.intro_start_seconds, e1.intro_end_seconds = 90, 30
    with pytest.raises(ValidationError, match="start before its end"):
        e1.full_clean()
    e1.intro_start_seconds, e1.intro_end_seconds = 0, 45
    e1.full_clean()  # a marker from the very start is fine


# --- The demo seeds intro markers -----------------------------------------------------------


def test_the_demo_gives_a_share_of_series_intro_markers():
    plan = demo.generate(
        seed=5, now=datetime(2026, 11, 1, tzinfo=UTC), sizes=demo.Sizes(films=40, series=30, people=80, subscribers=4)
    )
    episodes = [(t, s, e) for t in plan.titles for s in t.seasons for e in s.episodes]
    marked = [e for _, _, e in episodes if e.intro]
    assert 0.2 * len(episodes) < len(marked) < 0.9 * len(episodes)
    assert all(0 <= e.intro[0] < e.intro[1] <= e.runtime * 60 for e in marked)
    # Never on a pilot; the same ids always get the same marker.
    assert not any(e.intro for _, s, e in episodes if (s.number, e.number) == (1, 1))
    assert all(intro_marker(t.key, s.number, e.number) == e.intro for t, s, e in episodes)
