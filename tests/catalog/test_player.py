"""The player page and its heartbeats."""

import pytest

from accounts.maturity import MaturityRating
from catalog import services
from catalog.models import ViewingActivity
from privacy import consent
from tests.support.accounts import make_account, signed_in_client
from tests.support.factories import EpisodeFactory, SeasonFactory, TitleFactory

pytestmark = pytest.mark.django_db


def beat(client, title, position, duration, episode=""):
    return client.post(
        f"/watch/{title.slug}/heartbeat/",
        {"episode": episode, "position_seconds": position, "duration_seconds": duration},
    )


def test_player_page_for_a_film_has_duration_from_runtime_and_controls(owner_client):
    title = TitleFactory(runtime_minutes=100)
    response = owner_client.get(f"/watch/{title.slug}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-duration="6000"' in html
    assert 'data-position="0"' in html
    assert f'data-heartbeat-url="/watch/{title.slug}/heartbeat/"' in html
    assert 'data-role="toggle"' in html and 'data-role="seek"' in html
    assert "js/player.js" in html
    assert "<script>" not in html and "style=" not in html


def test_player_without_runtime_uses_default(owner_client):
    title = TitleFactory(runtime_minutes=None)
    assert 'data-duration="5400"' in owner_client.get(f"/watch/{title.slug}/").content.decode()


def test_heartbeats_update_one_row_and_resume_from_last_position(owner_client, owner):
    _, profile = owner
    title = TitleFactory(runtime_minutes=100)
    for position in (5, 10, 15, 20):
        response = beat(owner_client, title, position, 6000)
        assert response.status_code == 200
        assert response.json() == {"recorded": True}
    row = ViewingActivity.objects.get(profile=profile)
    assert (row.position_seconds, row.duration_seconds, row.completed) == (20, 6000, False)
    html = owner_client.get(f"/watch/{title.slug}/").content.decode()
    assert 'data-position="20"' in html


def test_heartbeat_finishing_marks_completed_and_next_play_starts_over(owner_client, owner):
    _, profile = owner
    title = TitleFactory(runtime_minutes=100)
    beat(owner_client, title, 5990, 6000)
    assert ViewingActivity.objects.get(profile=profile).completed
    assert 'data-position="0"' in owner_client.get(f"/watch/{title.slug}/").content.decode()


def test_heartbeat_without_viewing_consent_is_not_recorded_and_player_says_so():
    user, profile = make_account("private", consents=False)
    client = signed_in_client(user, profile)
    title = TitleFactory()
    html = client.get(f"/watch/{title.slug}/").content.decode()
    assert 'data-history="off"' in html
    assert "Viewing history is off" in html
    response = beat(client, title, 30, 6000)
    assert response.status_code == 200
    assert response.json() == {"recorded": False}
    assert not ViewingActivity.objects.exists()


def test_consent_withdrawn_stops_recording(owner_client, owner):
    user, _ = owner
    title = TitleFactory()
    assert beat(owner_client, title, 30, 6000).json() == {"recorded": True}
    consent.consents_set(account_id=user.pk, choices={"viewing_history": False}, method="settings")
    assert beat(owner_client, title, 60, 6000).json() == {"recorded": False}
    assert ViewingActivity.objects.get().position_seconds == 30


@pytest.mark.parametrize(
    "data",
    [
        {"position_seconds": "abc", "duration_seconds": "6000"},
        {"position_seconds": "-5", "duration_seconds": "6000"},
        {"position_seconds": "5", "duration_seconds": "0"},
        {"position_seconds": "5", "duration_seconds": "999999999"},
        {"position_seconds": "1e400", "duration_seconds": "6000"},
        {"position_seconds": "nan", "duration_seconds": "6000"},
        {},
        {"position_seconds": "5", "duration_seconds": "6000", "episode": "7"},  # a film has no episodes
    ],
)
def test_heartbeat_bad_input_is_400_and_writes_nothing(owner_client, data):
    title = TitleFactory()
    response = owner_client.post(f"/watch/{title.slug}/heartbeat/", data)
    assert response.status_code == 400
    assert "detail" in response.json()
    assert not ViewingActivity.objects.exists()


def test_heartbeat_needs_post_and_a_profile(client, owner_client, owner):
    title = TitleFactory()
    assert owner_client.get(f"/watch/{title.slug}/heartbeat/").status_code == 405
    response = beat(client, title, 5, 6000)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not ViewingActivity.objects.exists()


def test_player_and_heartbeat_respect_visibility():
    user, kid = make_account("kid", is_kids=True, maturity_limit=2)
    client = signed_in_client(user, kid)
    mature = TitleFactory(maturity_rating=MaturityRating.R)
    assert client.get(f"/watch/{mature.slug}/").status_code == 404
    assert beat(client, mature, 5, 6000).status_code == 404
    assert not ViewingActivity.objects.exists()


# --- Series --------------------------------------------------------------------------------------


@pytest.fixture
def series():
    s1 = SeasonFactory(number=1)
    title = s1.title
    s2 = SeasonFactory(title=title, number=2)
    episodes = [
        EpisodeFactory(season=s1, number=1, runtime_minutes=30),
        EpisodeFactory(season=s1, number=2, runtime_minutes=40),
        EpisodeFactory(season=s2, number=1, runtime_minutes=50),
    ]
    return title, episodes


def test_series_defaults_to_first_episode_with_next_link(owner_client, series):
    title, (e1, e2, _) = series
    html = owner_client.get(f"/watch/{title.slug}/").content.decode()
    assert f'data-episode="{e1.pk}"' in html
    assert 'data-duration="1800"' in html
    assert f'data-next-url="/watch/{title.slug}/?episode={e2.pk}"' in html
    assert "Next episode: S1:E2" in html


def test_series_resumes_the_unfinished_episode_then_moves_to_the_next(owner_client, owner, series):
    _, profile = owner
    title, (_, e2, e3) = series
    assert beat(owner_client, title, 300, 2400, episode=e2.pk).json() == {"recorded": True}
    html = owner_client.get(f"/watch/{title.slug}/").content.decode()
    assert f'data-episode="{e2.pk}"' in html and 'data-position="300"' in html

    beat(owner_client, title, 2400, 2400, episode=e2.pk)  # finished
    html = owner_client.get(f"/watch/{title.slug}/").content.decode()
    assert f'data-episode="{e3.pk}"' in html and 'data-position="0"' in html
    assert "data-next-url" not in html  # the last episode
    assert ViewingActivity.objects.filter(profile=profile).count() == 1


def test_series_explicit_episode_and_its_own_resume(owner_client, owner, series):
    _, profile = owner
    title, (e1, e2, _) = series
    services.viewing_record(profile=profile, title=title, episode=e1, position_seconds=100, duration_seconds=1800)
    html = owner_client.get(f"/watch/{title.slug}/?episode={e2.pk}").content.decode()
    assert f'data-episode="{e2.pk}"' in html and 'data-position="0"' in html
    html = owner_client.get(f"/watch/{title.slug}/?episode={e1.pk}").content.decode()
    assert 'data-position="100"' in html


def test_episode_of_another_title_is_404_and_garbage_400(owner_client, series):
    title, _ = series
    foreign = EpisodeFactory()
    assert owner_client.get(f"/watch/{title.slug}/?episode={foreign.pk}").status_code == 404
    assert owner_client.get(f"/watch/{title.slug}/?episode=abc").status_code == 400
    assert owner_client.get(f"/watch/{title.slug}/?episode=99999999999999999999").status_code == 404
    assert owner_client.get(f"/watch/{title.slug}/?episode=").status_code == 200
    assert beat(owner_client, title, 5, 1800, episode="99999999999999999999").status_code == 404
    assert beat(owner_client, title, 5, 1800, episode=foreign.pk).status_code == 404
    assert beat(owner_client, title, 5, 1800, episode="").status_code == 400
    assert not ViewingActivity.objects.exists()


def test_series_heartbeats_are_one_row_per_episode(owner_client, owner, series):
    _, profile = owner
    title, (e1, e2, _) = series
    for position in (5, 10, 15):
        beat(owner_client, title, position, 1800, episode=e1.pk)
        beat(owner_client, title, position, 2400, episode=e2.pk)
    rows = ViewingActivity.objects.filter(profile=profile).order_by("episode__number")
    assert [(r.episode_id, r.position_seconds) for r in rows] == [(e1.pk, 15), (e2.pk, 15)]


def test_series_without_episodes_is_404_on_player(owner_client):
    from catalog.models import TitleKind

    title = TitleFactory(kind=TitleKind.SERIES)
    assert owner_client.get(f"/watch/{title.slug}/").status_code == 404
