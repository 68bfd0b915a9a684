"""Viewing restrictions (issue 10, requirement 4): titles blocked per profile by the account holder.

A blocked title is invisible to that profile everywhere (its page, browse, search, My List, the
API, the home rows, the recommender's rows and reasons) and stays visible to the account's other
profiles; managing the list is account-level (the account password; never a kids session or a
profile-bound token).
"""

import json

import jsonschema
import pytest
from django.urls import reverse

from accounts.active import SESSION_KEY
from accounts.maturity import MaturityLevel, MaturityRating
from accounts.models import Profile, ProfileToken
from api.permissions import BOUND_TOKEN_REFUSED, KIDS_SESSION_REFUSED, PASSWORD_NEEDED, PASSWORD_WRONG
from catalog import services
from catalog.models import BlockedTitle
from catalog.selectors import visible_titles
from privacy import erasure, exports, registry
from recommendations import foldin
from recommendations.home import build_home
from tests.support.accounts import PASSWORD, make_account, signed_in_client
from tests.support.api import token_client
from tests.support.factories import GenreFactory, ProfileFactory, TitleFactory
from tests.support.recommender import Catalog, fresh, ids_of, install_model, rate, row_by_key

BLOCKED_NAME = "Night Crime"


def browser(user, profile=None, *, sudo: bool):
    """A signed-in browser with `profile` active, whose account password was entered a moment ago
    (sudo) or longer ago than sudo mode lasts (set explicitly: force_login alone says nothing)."""
    return signed_in_client(user, profile, sudo=sudo)


def with_password(user, password=PASSWORD):
    """An account token client that sends this password with every call."""
    client = token_client(user)
    token = client._credentials["HTTP_AUTHORIZATION"]
    client.credentials(HTTP_AUTHORIZATION=token, HTTP_X_MARQUEE_PASSWORD=password)
    return client


@pytest.fixture
def household(owner):
    """The owner's account: its adult profile, a second adult profile, a kids profile; a few titles."""
    user, profile = owner
    drama = GenreFactory(name="Drama", slug="drama")
    titles = {
        "blocked": TitleFactory(name=BLOCKED_NAME, maturity_rating=MaturityRating.R, genres=[drama]),
        "family": TitleFactory(name="Family Picnic", maturity_rating=MaturityRating.PG, genres=[drama]),
        "teen": TitleFactory(name="Teen Heist", maturity_rating=MaturityRating.PG_13, genres=[drama]),
        "unpublished": TitleFactory(name="Secret Cut", maturity_rating=MaturityRating.PG, is_published=False),
    }
    second = ProfileFactory(account=user, name="Second")
    kids = ProfileFactory(account=user, name="Kid", is_kids=True, maturity_limit=MaturityLevel.FAMILY)
    return user, profile, second, kids, titles


def restriction_url(pid, title_id=None):
    if title_id is None:
        return f"/api/v1/profiles/{pid}/restrictions/"
    return f"/api/v1/profiles/{pid}/restrictions/{title_id}/"


def page_url(pid):
    return reverse("profile-restrictions", args=[pid])


# --- Invisible everywhere, to that profile only ---------------------------------------------


def _surfaces(client, profile, title) -> dict[str, bool]:
    """Where the profile sees the title: True per surface that shows it."""
    api = token_client(profile.account)
    titles_api = api.get("/api/v1/titles/", {"profile": profile.pk, "page_size": 100}).json()["results"]
    home = client.get(reverse("home"))
    home_ids = {item.title.pk for row in home.context["home"].rows for item in row.items}
    return {
        "page": client.get(title.get_absolute_url()).status_code == 200,
        "browse": title.name in client.get(reverse("browse")).content.decode(),
        "search": title.name in client.get(reverse("search"), {"q": "night"}).content.decode(),
        "my-list": title.name in client.get(reverse("my-list")).content.decode(),
        "api-list": title.pk in {t["id"] for t in titles_api},
        "api-detail": api.get(f"/api/v1/titles/{title.pk}/", {"profile": profile.pk}).status_code == 200,
        "home": title.pk in home_ids,
        "selector": visible_titles(profile).filter(pk=title.pk).exists(),
    }


def test_a_blocked_title_disappears_everywhere_for_that_profile_and_comes_back_after_unblock(household):
    user, profile, second, _, titles = household
    title = titles["blocked"]
    client, second_client = signed_in_client(user, profile), signed_in_client(user, second)
    for p in (profile, second):
        services.list_add(profile=p, title=title)
    everywhere = dict.fromkeys(_surfaces(client, profile, title), True)
    assert _surfaces(client, profile, title) == everywhere  # new arrivals, My List... all show it

    services.title_block(profile=profile, title=title)

    assert _surfaces(client, profile, title) == dict.fromkeys(everywhere, False)
    # The account's other profile (same maturity setting, so the same cached shelves) still sees it.
    assert _surfaces(second_client, second, title) == everywhere
    # The profile's own data is kept, only hidden.
    assert profile.list_entries.filter(title=title).exists()

    assert services.title_unblock(profile=profile, title=title)
    assert _surfaces(client, profile, title) == everywhere


def test_block_and_unblock_are_idempotent_and_move_the_engagement_stamp(household):
    _, profile, _, _, titles = household
    stamp = fresh(profile).engagement_stamp
    row, created = services.title_block(profile=profile, title=titles["blocked"])
    assert created and row.title == titles["blocked"]
    again, created = services.title_block(profile=profile, title=titles["blocked"])
    assert not created and again.pk == row.pk
    assert fresh(profile).engagement_stamp == stamp + 1
    assert services.title_unblock(profile=profile, title=titles["blocked"])
    assert not services.title_unblock(profile=profile, title=titles["blocked"])
    assert fresh(profile).engagement_stamp == stamp + 2
    assert not BlockedTitle.objects.exists()


def test_taste_excludes_blocked_titles_in_the_same_four_queries(household, django_assert_num_queries):
    _, profile, second, _, titles = household
    services.rating_set(profile=profile, title=titles["blocked"], value="love")
    services.title_block(profile=profile, title=titles["blocked"])
    # Ratings, viewing, the union (list, hidden, blocked, search clicks), onboarding genres.
    with django_assert_num_queries(4):
        tastes = foldin.tastes_for([profile.pk, second.pk])
    assert titles["blocked"].pk in tastes[profile.pk].excluded
    assert tastes[profile.pk].blocked == [titles["blocked"].pk]
    # Still taste, never a seed that would name it.
    assert titles["blocked"].pk in {p.title_id for p in tastes[profile.pk].positives}
    assert tastes[profile.pk].seeds(10) == []
    assert tastes[second.pk].blocked == []
    # The cached form keeps it.
    assert foldin.Taste.from_json(tastes[profile.pk].to_json()).blocked == [titles["blocked"].pk]


# --- The recommender's rows ---------------------------------------------------------------


@pytest.fixture
def rec_env(db, settings, tmp_path):
    settings.MODEL_ROOT = tmp_path / "models"


def _names_everywhere(home) -> str:
    return " | ".join([r.title + " " + r.reason + " " + " ".join(i.reason for i in r.items) for r in home.rows])


def test_personalized_rows_never_show_or_name_a_blocked_title(rec_env, owner):
    user, profile = owner
    second = ProfileFactory(account=user, name="Second")
    cat = Catalog()
    install_model(cat)
    for p in (profile, second):
        rate(p, cat.by_genre["drama"][2:4])
    home = build_home(profile=fresh(profile))
    assert home.personalized
    picked = ids_of(row_by_key(home, "top-picks"))[0]
    because = next(r for r in home.rows if r.key.startswith("because-"))
    seed = next(t for t in cat.titles if t.pk == int(because.key.removeprefix("because-")))
    assert seed.name in _names_everywhere(home)

    services.title_block(profile=profile, title=next(t for t in cat.titles if t.pk == picked))
    services.title_block(profile=profile, title=seed)
    home = build_home(profile=fresh(profile))

    assert home.personalized
    shown = {i.title.pk for r in home.rows for i in r.items}
    assert picked not in shown and seed.pk not in shown
    assert f"because-{seed.pk}" not in {r.key for r in home.rows}
    assert seed.name not in _names_everywhere(home)
    # Top picks is still full: the block reached the candidates, not only the final load.
    assert len(row_by_key(home, "top-picks").items) == len(ids_of(row_by_key(build_home(profile=second), "top-picks")))
    # The other profile (same maturity setting, so the same memoized mask) still gets it.
    assert picked in ids_of(row_by_key(build_home(profile=fresh(second)), "top-picks"))

    services.title_unblock(profile=profile, title=next(t for t in cat.titles if t.pk == picked))
    assert picked in ids_of(row_by_key(build_home(profile=fresh(profile)), "top-picks"))


# --- The API ------------------------------------------------------------------------------


def test_api_owner_with_password_blocks_lists_and_unblocks(household, django_assert_max_num_queries):
    user, profile, _, kids, titles = household
    api = with_password(user)
    # Any published title, even one above the profile's limit (an R film for a kids profile).
    response = api.put(restriction_url(kids.pk, titles["blocked"].pk))
    assert response.status_code == 201, response.content
    assert response.json()["title"]["external_id"] == titles["blocked"].external_id
    assert api.put(restriction_url(kids.pk, titles["blocked"].pk)).status_code == 200
    for key in ("family", "teen"):
        assert api.put(restriction_url(kids.pk, titles[key].pk)).status_code == 201
    # The token; the password check (the user, django-axes' two lockout sums); the profile; one
    # count and one page of rows with their titles joined, however many are blocked.
    with django_assert_max_num_queries(7):
        listed = api.get(restriction_url(kids.pk))
    assert listed.status_code == 200
    body = listed.json()
    assert body["count"] == 3
    first = body["results"][0]
    assert set(first) == {"title", "created_at"}
    assert {"id", "external_id", "name"} <= set(first["title"])
    assert [r["title"]["name"] for r in body["results"]] == ["Teen Heist", "Family Picnic", BLOCKED_NAME]
    # The family title is now invisible to the kids profile, and DELETE still reaches it.
    assert not visible_titles(kids).filter(pk=titles["family"].pk).exists()
    assert api.delete(restriction_url(kids.pk, titles["family"].pk)).status_code == 204
    assert api.delete(restriction_url(kids.pk, titles["family"].pk)).status_code == 204
    assert visible_titles(kids).filter(pk=titles["family"].pk).exists()
    assert not BlockedTitle.objects.filter(profile=profile).exists()


def test_api_password_may_come_in_the_body(household):
    user, profile, _, _, titles = household
    response = token_client(user).put(
        restriction_url(profile.pk, titles["teen"].pk), {"password": PASSWORD}, format="json"
    )
    assert response.status_code == 201


def test_api_unpublished_or_unknown_title_is_a_404(household):
    user, profile, _, _, titles = household
    api = with_password(user)
    assert api.put(restriction_url(profile.pk, titles["unpublished"].pk)).status_code == 404
    assert api.put(restriction_url(profile.pk, 999999)).status_code == 404
    assert api.delete(restriction_url(profile.pk, titles["unpublished"].pk)).status_code == 404
    # Blocked before it was unpublished: it can still be taken off the list.
    services.title_block(profile=profile, title=titles["unpublished"])
    assert api.delete(restriction_url(profile.pk, titles["unpublished"].pk)).status_code == 204
    assert not BlockedTitle.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "list"), ("put", "item"), ("delete", "item")],
    ids=["list", "put", "delete"],
)
def test_api_refusals(household, other, method, path):
    user, profile, _, _, titles = household
    other_user, _ = other
    title = titles["teen"]
    services.title_block(profile=profile, title=titles["family"])
    url = restriction_url(profile.pk, title.pk if path == "item" else None)

    def call(client):
        return getattr(client, method)(url)

    def refused(response, status, detail=None):
        assert response.status_code == status, response.content
        if detail is not None:
            assert response.json()["detail"] == detail

    refused(call(token_client(user)), 403, PASSWORD_NEEDED)
    refused(call(with_password(user, "not-the-password")), 403, PASSWORD_WRONG)
    refused(call(token_client(None)), 401)
    # Another account, with its own valid password: the owner's profile does not exist for it.
    refused(call(with_password(other_user)), 404)
    # A token bound to one profile can do nothing account-level, even with the password.
    bound = ProfileToken.objects.create(profile=profile)
    bound_client = token_client(None)
    bound_client.credentials(HTTP_AUTHORIZATION=f"Token {bound.key}", HTTP_X_MARQUEE_PASSWORD=PASSWORD)
    refused(call(bound_client), 403, BOUND_TOKEN_REFUSED)
    # Nothing changed.
    assert list(BlockedTitle.objects.values_list("profile_id", "title_id")) == [(profile.pk, titles["family"].pk)]


def test_api_browser_session_in_sudo_mode_needs_no_password_and_a_kids_session_is_refused(household):
    user, profile, _, kids, titles = household
    url = restriction_url(profile.pk, titles["teen"].pk)
    assert browser(user, profile, sudo=True).put(url).status_code == 201
    # Signed in, but the password not entered lately: refused.
    assert browser(user, profile, sudo=False).delete(url).status_code == 403
    kids_client = browser(user, kids, sudo=True)  # a kids session never has sudo mode anyway
    response = kids_client.delete(url, HTTP_X_MARQUEE_PASSWORD=PASSWORD)
    assert response.status_code == 403
    assert response.json()["detail"] == KIDS_SESSION_REFUSED
    assert BlockedTitle.objects.filter(profile=profile, title=titles["teen"]).exists()


def test_api_block_moves_the_engagement_stamp(household):
    user, profile, _, _, titles = household
    stamp = fresh(profile).engagement_stamp
    with_password(user).put(restriction_url(profile.pk, titles["teen"].pk))
    assert fresh(profile).engagement_stamp == stamp + 1


# --- The page -------------------------------------------------------------------------------


def test_page_lists_blocked_titles_and_searches_published_ones(household, django_assert_max_num_queries):
    user, profile, _, kids, titles = household
    services.title_block(profile=kids, title=titles["teen"])
    client = browser(user, profile, sudo=True)
    # Session, user, active profile, the profile, the blocked titles, the matches; the banner's reads.
    with django_assert_max_num_queries(12):
        response = client.get(page_url(kids.pk), {"q": "i"})
    assert response.status_code == 200
    html = response.content.decode()
    assert [b.title for b in response.context["blocked"]] == [titles["teen"]]
    # Published matches not blocked yet, above the kids limit included; never an unpublished one.
    candidates = {t.pk for t in response.context["candidates"]}
    assert candidates == {titles["blocked"].pk, titles["family"].pk}
    assert "Secret Cut" not in html
    assert 'value="unblock"' in html and 'value="block"' in html
    assert f"unblock {titles['teen'].name} for Kid" in html  # the buttons' accessible names
    assert 'for="restriction-q"' in html


def test_page_search_shows_at_most_twenty(household):
    user, profile, _, _, _ = household
    for i in range(25):
        TitleFactory(name=f"Harbour {i}")
    response = browser(user, profile, sudo=True).get(page_url(profile.pk), {"q": "harbour"})
    assert len(response.context["candidates"]) == 20


def test_page_block_and_remove_redirect_back_with_a_message(household):
    user, profile, _, kids, titles = household
    client = browser(user, profile, sudo=True)
    response = client.post(page_url(kids.pk), {"action": "block", "title": titles["blocked"].pk, "q": "night"})
    assert response.status_code == 302
    assert response["Location"] == page_url(kids.pk) + "?q=night"
    assert BlockedTitle.objects.filter(profile=kids, title=titles["blocked"]).exists()
    page = client.get(response["Location"])
    assert f"“{BLOCKED_NAME}” is now blocked for Kid." in page.content.decode()
    assert [b.title for b in page.context["blocked"]] == [titles["blocked"]]
    assert page.context["candidates"] == []  # already on the list

    response = client.post(page_url(kids.pk), {"action": "unblock", "title": titles["blocked"].pk})
    assert response.status_code == 302 and response["Location"] == page_url(kids.pk)
    assert "is no longer blocked for Kid" in client.get(page_url(kids.pk)).content.decode()
    assert not BlockedTitle.objects.exists()


def test_page_refuses_a_bad_post(household):
    user, profile, _, _, titles = household
    client = browser(user, profile, sudo=True)
    assert client.post(page_url(profile.pk), {"action": "explode", "title": titles["teen"].pk}).status_code == 400
    assert client.post(page_url(profile.pk), {"action": "block", "title": "x"}).status_code == 400
    assert client.post(page_url(profile.pk), {"action": "block", "title": titles["unpublished"].pk}).status_code == 404
    assert not BlockedTitle.objects.exists()


def test_page_without_sudo_goes_to_the_password_prompt_and_back(household):
    user, profile, _, _, titles = household
    client = browser(user, profile, sudo=False)
    response = client.get(page_url(profile.pk))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("sudo"))
    # A POST without sudo mode changes nothing.
    response = client.post(page_url(profile.pk), {"action": "block", "title": titles["teen"].pk})
    assert response.status_code == 302 and response["Location"].startswith(reverse("sudo"))
    assert not BlockedTitle.objects.exists()
    # Entering the password on the prompt opens the page.
    prompt = client.post(reverse("sudo"), {"password": PASSWORD, "next": page_url(profile.pk)})
    assert prompt.status_code == 302 and prompt["Location"] == page_url(profile.pk)
    assert client.get(page_url(profile.pk)).status_code == 200


def test_page_anonymous_goes_to_login(household, client):
    _, profile, _, _, _ = household
    response = client.get(page_url(profile.pk))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_page_of_another_accounts_profile_is_a_404(household, other):
    _, profile, _, _, titles = household
    other_user, other_profile = other
    client = browser(other_user, other_profile, sudo=True)
    assert client.get(page_url(profile.pk)).status_code == 404
    assert client.post(page_url(profile.pk), {"action": "block", "title": titles["teen"].pk}).status_code == 404
    assert not BlockedTitle.objects.exists()


def test_page_from_a_kids_session_goes_to_the_password_prompt(household):
    user, _, _, kids, titles = household
    client = browser(user, kids, sudo=True)  # even with a sudo stamp: kids sessions never have it
    response = client.get(page_url(kids.pk))
    assert response.status_code == 302 and response["Location"].startswith(reverse("sudo"))
    response = client.post(page_url(kids.pk), {"action": "unblock", "title": titles["teen"].pk})
    assert response.status_code == 302 and response["Location"].startswith(reverse("sudo"))
    assert client.session[SESSION_KEY] == kids.pk


# --- Privacy: export and erasure ----------------------------------------------------------


def test_export_holds_the_blocked_titles_and_erasure_removes_them(household, other, django_capture_on_commit_callbacks):
    user, _, _, kids, titles = household
    _, other_profile = other
    services.title_block(profile=kids, title=titles["blocked"])
    services.title_block(profile=other_profile, title=titles["teen"])

    document = exports.build_document(user)
    jsonschema.validate(document, json.loads(exports.SCHEMA_PATH.read_text()))
    [row] = document["restrictions"]
    assert row["profile_id"] == kids.pk
    assert row["title_external_id"] == titles["blocked"].external_id
    assert row["title"] == BLOCKED_NAME
    assert row["created_at"]
    assert registry.counts(user)["restrictions"] == 1

    with django_capture_on_commit_callbacks(execute=True):
        record = erasure.account_delete_request(account=user, password=PASSWORD, via="web")
    erasure.account_erase(record_id=record.pk)
    assert not BlockedTitle.objects.filter(profile__account_id=user.pk).exists()
    assert not Profile.objects.filter(account_id=user.pk).exists()
    # The other account's restriction is untouched.
    assert BlockedTitle.objects.filter(profile=other_profile).count() == 1


def test_deleting_a_profile_deletes_its_restrictions(household):
    _, _, second, _, titles = household
    services.title_block(profile=second, title=titles["teen"])
    second.delete()
    assert not BlockedTitle.objects.exists()


def test_another_accounts_blocks_change_nothing_for_anyone_else(db):
    _, someone = make_account("someone")
    _, blocker = make_account("blocker")
    title = TitleFactory(name="Open Film", maturity_rating=MaturityRating.PG)
    services.title_block(profile=blocker, title=title)
    assert visible_titles(someone).filter(pk=title.pk).exists()
    assert visible_titles(None).filter(pk=title.pk).exists()  # signed-out visitors too
    assert not visible_titles(blocker).filter(pk=title.pk).exists()
