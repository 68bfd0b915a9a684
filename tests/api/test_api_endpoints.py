"""Behaviour of the accounts and catalog endpoints: writes through the services, bad input, scoping,
the maturity rule, mass assignment and query counts."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Profile, User
from catalog.models import ListEntry, Rating, SearchQuery, ViewingActivity
from privacy import consent
from privacy.models import ConsentEvent
from tests.support.accounts import PASSWORD, make_account, signed_in_client
from tests.support.api import bound_token_client, token_client
from tests.support.factories import EpisodeFactory, GenreFactory, ProfileFactory, TitleFactory

pytestmark = pytest.mark.django_db


def _names(response) -> set[str]:
    return {t["name"] for t in response.json()["results"]}


# --- Sign-up and tokens ----------------------------------------------------------------------


def test_signup_creates_account_profile_consents_and_token():
    body = {
        "username": "newbie",
        "email": "newbie@example.com",
        "password": "a-long-new-passphrase",
        "consents": {"personalization": True, "analytics": False},
    }
    response = APIClient().post("/api/v1/auth/signup/", body, format="json")

    assert response.status_code == 201, response.content
    user = User.objects.get(username="newbie")
    assert list(response.json()) == ["token"]
    assert Token.objects.get(user=user).key == response.json()["token"]
    assert Profile.objects.filter(account=user).count() == 1
    events = {e.purpose: (e.granted, e.method) for e in ConsentEvent.objects.filter(account=user)}
    assert events == {
        "personalization": (True, "api"),
        "viewing_history": (False, "api"),
        "search_history": (False, "api"),
        "analytics": (False, "api"),
    }
    assert user.check_password("a-long-new-passphrase")
    me = token_client(user).get("/api/v1/profiles/")
    assert me.status_code == 200 and me.json()["count"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "owner", "email": "x@example.com", "password": "a-long-new-passphrase"}, "username"),
        ({"username": "weak", "email": "weak@example.com", "password": "123"}, "password"),
        ({"username": "weak", "email": "weak@example.com", "password": "weak@example.com"}, "password"),
        ({"username": "bad", "email": "not-an-email", "password": "a-long-new-passphrase"}, "email"),
        ({"username": "bad user!", "email": "b@example.com", "password": "a-long-new-passphrase"}, "username"),
        (
            {"username": "c", "email": "c@example.com", "password": "a-long-new-passphrase", "consents": "yes"},
            "consents",
        ),
        ({"email": "d@example.com", "password": "a-long-new-passphrase"}, "username"),
    ],
)
def test_signup_bad_input_is_400_with_field_errors_and_writes_nothing(owner, body, field):
    users_before = User.objects.count()
    response = APIClient().post("/api/v1/auth/signup/", body, format="json")

    assert response.status_code == 400
    data = response.json()
    assert data["detail"] == "Invalid input."
    assert field in data["errors"], data
    assert User.objects.count() == users_before


def test_token_for_right_password_wrong_password_and_unknown_user(owner):
    user, _ = owner
    client = APIClient()

    ok = client.post("/api/v1/auth/token/", {"username": "owner", "password": PASSWORD}, format="json")
    again = client.post("/api/v1/auth/token/", {"username": "owner", "password": PASSWORD}, format="json")
    wrong = client.post("/api/v1/auth/token/", {"username": "owner", "password": "nope"}, format="json")
    unknown = client.post("/api/v1/auth/token/", {"username": "ghost", "password": "nope"}, format="json")

    assert ok.status_code == 200 and ok.json()["token"] == again.json()["token"]
    assert Token.objects.get(user=user).key == ok.json()["token"]
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert response.json()["errors"] == {"non_field_errors": ["Invalid username or password."]}
    assert token_client(user).get("/api/v1/profiles/").status_code == 200
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert bad.get("/api/v1/profiles/").status_code == 401


def test_non_json_bodies_are_refused_cleanly(owner):
    response = APIClient().post(
        "/api/v1/auth/token/", "username=owner", content_type="application/x-www-form-urlencoded"
    )
    broken = APIClient().post("/api/v1/auth/token/", "{not json", content_type="application/json")

    assert response.status_code == 415 and "detail" in response.json()
    assert broken.status_code == 400 and "detail" in broken.json()


# --- Profiles --------------------------------------------------------------------------------


def test_profiles_create_kids_default_limit_and_limits(owner):
    user, _ = owner
    client = token_client(user, password=PASSWORD)

    kids = client.post("/api/v1/profiles/", {"name": "Kiddo", "is_kids": True}, format="json")
    assert kids.status_code == 201
    assert kids.json() == {
        "id": kids.json()["id"],
        "name": "Kiddo",
        "is_kids": True,
        "maturity_limit": 2,
        "avatar_color": kids.json()["avatar_color"],
        "has_pin": False,
    }
    # A kids profile asked for "all titles" gets the family maximum instead of an error.
    too_mature = client.post("/api/v1/profiles/", {"name": "Kid2", "is_kids": True, "maturity_limit": 5}, format="json")
    assert too_mature.status_code == 201 and too_mature.json()["maturity_limit"] == 2
    duplicate = client.post("/api/v1/profiles/", {"name": "Kiddo"}, format="json")
    assert duplicate.status_code == 400 and "name" in duplicate.json()["errors"]
    blank = client.post("/api/v1/profiles/", {"name": "   "}, format="json")
    assert blank.status_code == 400 and "name" in blank.json()["errors"]

    for name in ("A", "B"):
        assert client.post("/api/v1/profiles/", {"name": name}, format="json").status_code == 201
    sixth = client.post("/api/v1/profiles/", {"name": "Sixth"}, format="json")
    assert sixth.status_code == 409 and "5" in sixth.json()["detail"]
    assert Profile.objects.filter(account=user).count() == 5


def test_deleting_the_last_profile_is_a_conflict(owner):
    user, profile = owner
    response = token_client(user, password=PASSWORD).delete(f"/api/v1/profiles/{profile.pk}/")

    assert response.status_code == 409
    assert Profile.objects.filter(pk=profile.pk).exists()


def test_profile_mass_assignment_has_no_effect(owner, other):
    user, profile = owner
    other_user, _ = other
    client = token_client(user, password=PASSWORD)

    response = client.patch(
        f"/api/v1/profiles/{profile.pk}/",
        {"account": other_user.pk, "id": 999, "engagement_stamp": 5, "avatar_color": "#000000", "name": "Mine"},
        format="json",
    )
    created = client.post(
        "/api/v1/profiles/",
        {"name": "Fresh", "account": other_user.pk, "id": 4242, "engagement_stamp": 9},
        format="json",
    )

    assert response.status_code == 200 and response.json()["id"] == profile.pk
    fresh_profile = Profile.objects.get(pk=profile.pk)
    assert (fresh_profile.account_id, fresh_profile.name, fresh_profile.engagement_stamp) == (user.pk, "Mine", 0)
    assert fresh_profile.avatar_color != "#000000"
    assert not Profile.objects.filter(pk=999).exists()
    assert created.status_code == 201 and created.json()["id"] != 4242
    fresh = Profile.objects.get(pk=created.json()["id"])
    assert (fresh.account_id, fresh.engagement_stamp) == (user.pk, 0)
    assert Profile.objects.filter(account=other_user).count() == 1


def test_profile_patch_kids_cap_and_bad_values(owner):
    user, profile = owner
    client = token_client(user, password=PASSWORD)

    kids = client.patch(f"/api/v1/profiles/{profile.pk}/", {"is_kids": True}, format="json")
    # Asking a kids profile for more than family lowers it to family rather than failing.
    capped = client.patch(f"/api/v1/profiles/{profile.pk}/", {"maturity_limit": 5}, format="json")
    garbage = client.patch(
        f"/api/v1/profiles/{profile.pk}/", {"maturity_limit": "lots", "is_kids": "maybe"}, format="json"
    )

    assert kids.status_code == 200 and kids.json()["maturity_limit"] == 2
    assert capped.status_code == 200 and capped.json()["maturity_limit"] == 2
    assert garbage.status_code == 400 and set(garbage.json()["errors"]) == {"maturity_limit", "is_kids"}
    assert Profile.objects.get(pk=profile.pk).maturity_limit == 2


def test_profiles_list_query_count(owner, django_assert_max_num_queries):
    user, _ = owner
    for n in range(3):
        ProfileFactory(account=user, name=f"P{n}")
    client = token_client(user)
    # token lookup (with its user), count, one page of profiles
    with django_assert_max_num_queries(3):
        response = client.get("/api/v1/profiles/")
    assert response.json()["count"] == 4


# --- Titles: visibility, filters, search -------------------------------------------------------


def test_titles_visibility_by_caller(world):
    anonymous = APIClient().get("/api/v1/titles/")
    token_only = token_client(world.owner).get("/api/v1/titles/")
    as_owner = token_client(world.owner).get(f"/api/v1/titles/?profile={world.owner_profile.pk}")

    family_only = {"Family Picnic", world.series.name}
    assert _names(anonymous) == family_only
    # A token without a profile context gets the strictest rule too.
    assert _names(token_only) == family_only
    assert _names(as_owner) == family_only | {"Teen Heist", "Night Crime", "Unrated Oddity"}
    assert "Secret Cut" not in _names(as_owner)


def test_session_caller_sees_through_the_active_profile(world):
    client = signed_in_client(world.owner, world.owner_profile)
    response = client.get("/api/v1/titles/")
    assert "Night Crime" in _names(response)


def test_kids_profile_limit_applies_to_the_api(world):
    kids = ProfileFactory(account=world.owner, name="Kids", is_kids=True, maturity_limit=2)
    client = token_client(world.owner)

    listed = client.get(f"/api/v1/titles/?profile={kids.pk}")
    detail = client.get(f"/api/v1/titles/{world.teen_title.pk}/?profile={kids.pk}")
    unrated = client.get(f"/api/v1/titles/{world.unrated_title.pk}/?profile={kids.pk}")
    rate = client.put(f"/api/v1/profiles/{kids.pk}/ratings/{world.teen_title.pk}/", {"value": "up"}, format="json")
    add = client.put(f"/api/v1/profiles/{kids.pk}/my-list/{world.mature_title.pk}/")
    watch = client.post(
        f"/api/v1/profiles/{kids.pk}/viewing/",
        {"title": world.mature_title.pk, "position_seconds": 1, "duration_seconds": 10},
        format="json",
    )

    assert _names(listed) == {"Family Picnic", world.series.name}
    assert detail.status_code == unrated.status_code == rate.status_code == 404
    assert add.status_code == watch.status_code == 404
    assert not Rating.objects.filter(profile=kids).exists()
    assert not ListEntry.objects.filter(profile=kids).exists()
    assert not ViewingActivity.objects.filter(profile=kids).exists()


def test_title_detail_unknown_unpublished_and_series(world):
    client = token_client(world.owner)
    pid = world.owner_profile.pk

    assert client.get(f"/api/v1/titles/{world.unpublished_title.pk}/?profile={pid}").status_code == 404
    assert client.get(f"/api/v1/titles/999999/?profile={pid}").json() == {"detail": "Not found."}
    series = client.get(f"/api/v1/titles/{world.series.pk}/").json()
    assert series["kind"] == "series"
    assert series["seasons"][0]["episodes"][0]["id"] == world.series.episodes.first().pk


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("genre=drama", {"Family Picnic"}),
        ("kind=series", {"Family Series"}),
        ("year=2010", {"Teen Heist"}),
        ("search=heist", {"Teen Heist"}),
        ("search=heist&kind=series", set()),
    ],
)
def test_title_filters(world, query, expected):
    world.series.name = "Family Series"
    world.series.save()
    client = token_client(world.owner)
    response = client.get(f"/api/v1/titles/?profile={world.owner_profile.pk}&{query}")
    assert response.status_code == 200
    assert _names(response) == expected


def test_title_filter_external_id(world):
    response = APIClient().get(f"/api/v1/titles/?external_id={world.family_title.external_id}")
    assert [t["id"] for t in response.json()["results"]] == [world.family_title.pk]
    assert response.json()["results"][0]["genres"] == [{"slug": "drama", "name": "Drama"}]


@pytest.mark.parametrize(
    "query",
    ["genre=no-such-genre", "kind=opera", "year=abc", "year=99999", "profile=abc", "page=0", "page=99"],
)
def test_title_bad_query_params_are_clean_4xx(world, query):
    response = token_client(world.owner).get(f"/api/v1/titles/?{query}")
    assert response.status_code in (400, 404)
    assert isinstance(response.json()["detail"], str)


def test_title_search_is_recorded_for_a_profile_on_page_one_only(world):
    client = token_client(world.owner)
    pid = world.owner_profile.pk
    client.get(f"/api/v1/titles/?profile={pid}&search=heist")
    client.get(f"/api/v1/titles/?profile={pid}&search=heist&page=2")
    client.get("/api/v1/titles/?search=heist")  # no profile: nothing to record against
    long = client.get(f"/api/v1/titles/?profile={pid}&search={'x' * 1000}")

    assert long.status_code == 200
    queries = list(SearchQuery.objects.filter(profile=world.owner_profile).values_list("query", flat=True))
    assert sorted(queries) == sorted(["heist", "x" * 200])


def test_titles_list_query_count(world, django_assert_max_num_queries):
    for n in range(15):
        TitleFactory(name=f"Bulk {n}", maturity_rating="PG", genres=[GenreFactory(name=f"G{n}")])
    client = token_client(world.owner)
    # token+user, the profile, count, one page of titles, their genres (prefetch)
    with django_assert_max_num_queries(5):
        response = client.get(f"/api/v1/titles/?profile={world.owner_profile.pk}")
    assert response.json()["count"] >= 15


def test_title_detail_query_count(world, django_assert_max_num_queries):
    client = APIClient()
    # the title, genres, seasons, their episodes, credits with people
    with django_assert_max_num_queries(5):
        response = client.get(f"/api/v1/titles/{world.series.pk}/")
    assert response.status_code == 200


# --- Ratings, My List, viewing -------------------------------------------------------------------


def test_rating_put_create_change_delete(world):
    client = token_client(world.owner)
    url = f"/api/v1/profiles/{world.owner_profile.pk}/ratings/{world.teen_title.pk}/"
    stamp = Profile.objects.get(pk=world.owner_profile.pk).engagement_stamp

    created = client.put(url, {"value": "up"}, format="json")
    changed = client.put(url, {"value": "love"}, format="json")
    bad = client.put(url, {"value": "meh"}, format="json")
    missing = client.put(url, {}, format="json")

    assert created.status_code == 201 and created.json()["value"] == "up"
    assert created.json()["title"]["id"] == world.teen_title.pk
    assert changed.status_code == 200 and changed.json()["value"] == "love"
    assert bad.status_code == 400 and "value" in bad.json()["errors"]
    assert missing.status_code == 400
    assert Rating.objects.get(profile=world.owner_profile, title=world.teen_title).value == "love"
    assert Profile.objects.get(pk=world.owner_profile.pk).engagement_stamp == stamp + 2

    assert client.delete(url).status_code == 204
    assert not Rating.objects.filter(profile=world.owner_profile, title=world.teen_title).exists()
    assert client.delete(url).status_code == 204  # idempotent


def test_ratings_list_and_query_count(world, django_assert_max_num_queries):
    for n in range(10):
        Rating.objects.create(profile=world.owner_profile, title=TitleFactory(name=f"R{n}"), value="down")
    client = token_client(world.owner)
    # token+user, the profile, count, one page of ratings joined with their titles
    with django_assert_max_num_queries(4):
        response = client.get(f"/api/v1/profiles/{world.owner_profile.pk}/ratings/")
    assert response.json()["count"] == 11


def test_my_list_add_twice_list_and_remove(world, django_assert_max_num_queries):
    client = token_client(world.owner)
    base = f"/api/v1/profiles/{world.owner_profile.pk}/my-list/"

    first = client.put(f"{base}{world.teen_title.pk}/")
    second = client.put(f"{base}{world.teen_title.pk}/")
    # token+user, the profile, count, one page of entries joined with their titles
    with django_assert_max_num_queries(4):
        listed = client.get(base)
    removed = client.delete(f"{base}{world.teen_title.pk}/")

    assert (first.status_code, second.status_code, removed.status_code) == (201, 200, 204)
    assert [e["title"]["id"] for e in listed.json()["results"]] == [world.teen_title.pk, world.family_title.pk]
    assert list(ListEntry.objects.filter(profile=world.owner_profile).values_list("title_id", flat=True)) == [
        world.family_title.pk
    ]


def test_viewing_heartbeat_records_with_consent(world, django_assert_max_num_queries):
    # The profile's own token (a TV): its own history needs no password.
    client = bound_token_client(world.owner_profile)
    url = f"/api/v1/profiles/{world.owner_profile.pk}/viewing/"

    response = client.post(url, {"title": world.teen_title.pk, "position_seconds": 5900, "duration_seconds": 6000})
    # token+profile+user, the profile, count, one page of activity joined with titles
    with django_assert_max_num_queries(4):
        listed = client.get(url)

    assert response.status_code == 202 and response.json() == {"recorded": True}
    row = ViewingActivity.objects.get(profile=world.owner_profile, title=world.teen_title)
    assert (row.position_seconds, row.completed) == (5900, True)
    assert listed.json()["results"][0]["title"]["id"] == world.teen_title.pk


def test_viewing_without_consent_records_nothing(db):
    user, profile = make_account("shy", consents=False)
    title = TitleFactory(maturity_rating="PG")
    response = token_client(user).post(
        f"/api/v1/profiles/{profile.pk}/viewing/",
        {"title": title.pk, "episode": None, "position_seconds": 10, "duration_seconds": 100},
        format="json",
    )
    assert response.status_code == 202 and response.json() == {"recorded": False}
    assert not ViewingActivity.objects.filter(profile=profile).exists()
    assert not consent.allows(user.pk, "viewing_history")


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (
            {"title": "{series}", "episode": "{foreign_episode}", "position_seconds": 1, "duration_seconds": 9},
            400,
            "episode",
        ),
        ({"title": "{family}", "position_seconds": -1, "duration_seconds": 9}, 400, "position_seconds"),
        ({"title": "{family}", "position_seconds": 1, "duration_seconds": 0}, 400, "duration_seconds"),
        ({"title": "{family}", "position_seconds": 1, "duration_seconds": 10**12}, 400, "duration_seconds"),
        ({"title": "abc", "position_seconds": 1, "duration_seconds": 9}, 400, "title"),
        ({"title": 99999999, "position_seconds": 1, "duration_seconds": 9}, 404, None),
        ({"title": "{unpublished}", "position_seconds": 1, "duration_seconds": 9}, 404, None),
    ],
)
def test_viewing_bad_input(world, body, status, field):
    foreign_episode = EpisodeFactory()
    ids = {
        "{series}": world.series.pk,
        "{foreign_episode}": foreign_episode.pk,
        "{family}": world.family_title.pk,
        "{unpublished}": world.unpublished_title.pk,
    }
    body = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    before = ViewingActivity.objects.count()

    response = token_client(world.owner).post(
        f"/api/v1/profiles/{world.owner_profile.pk}/viewing/", body, format="json"
    )

    assert response.status_code == status, response.content
    if field:
        assert field in response.json()["errors"]
    assert ViewingActivity.objects.count() == before


def test_episode_heartbeat(world):
    episode = world.series.episodes.first()
    response = token_client(world.owner).post(
        f"/api/v1/profiles/{world.owner_profile.pk}/viewing/",
        {"title": world.series.pk, "episode": episode.pk, "position_seconds": 30, "duration_seconds": 1800},
        format="json",
    )
    assert response.status_code == 202
    assert ViewingActivity.objects.filter(profile=world.owner_profile, episode=episode).exists()


# --- Session authentication --------------------------------------------------------------------


def test_session_auth_works_and_enforces_csrf(owner):
    user, _ = owner
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    listed = client.get("/api/v1/profiles/")
    posted = client.post("/api/v1/profiles/", {"name": "NoCsrf"}, content_type="application/json")

    assert listed.status_code == 200
    assert posted.status_code == 403 and "CSRF" in posted.json()["detail"]
    assert not Profile.objects.filter(name="NoCsrf").exists()
