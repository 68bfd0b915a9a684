"""Watching together: the group row (visibility, exclusions, rules, reasons), its API, its page,
and playing from it (the viewing kept for each profile watching).

The household: the `owner` persona's account with three profiles, Owner (adult), Sam (adult) and
Kid (a kids profile: G and PG only, never unrated). The taste-cluster catalog and hand-made model
of tests/support/recommender.py make what each profile likes obvious.
"""

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse

from accounts.maturity import KIDS_DEFAULT_LEVEL, MaturityRating
from accounts.models import Profile, ProfileToken
from catalog import services as catalog_services
from catalog.models import ViewingActivity
from privacy import consent
from recommendations import together
from tests.support.accounts import make_account, signed_in_client
from tests.support.factories import ProfileFactory
from tests.support.recommender import install_model, rate

pytestmark = pytest.mark.usefixtures("rec_env")

FAMILY_RATINGS = {MaturityRating.G, MaturityRating.PG}


@pytest.fixture
def house(owner):
    user, me = owner
    sam = ProfileFactory(account=user, name="Sam")
    kid = ProfileFactory(account=user, name="Kid", is_kids=True, maturity_limit=KIDS_DEFAULT_LEVEL)
    return user, me, sam, kid


def _group(*profiles, **kwargs):
    return together.build_together(profiles=list(profiles), **kwargs)


def _ids(result) -> list[int]:
    return [i.title.pk for i in result.row.items]


# --- the rules, on arrays with known answers ------------------------------------------------


def test_rules_on_tiny_arrays():
    # Item 0: one member's favourite, the other's worst; item 1: fine for both.
    normalized = np.array([[1.0, 0.55], [0.2, 0.55]])
    assert np.allclose(together.combine(normalized, together.AVERAGE), [0.6, 0.55])
    assert np.allclose(together.combine(normalized, together.LEAST_MISERY), [0.2, 0.55], atol=1e-5)
    assert np.allclose(together.combine(normalized, together.BLEND, blend_weight=0.5), [0.4, 0.55])
    # Average and least misery disagree on the best title.
    assert int(np.argmax(together.combine(normalized, together.AVERAGE))) == 0
    assert int(np.argmax(together.combine(normalized, together.LEAST_MISERY))) == 1
    # Least misery breaks a tie on the minimum by the mean.
    tied = np.array([[0.3, 0.9], [0.3, 0.3]])
    assert int(np.argmax(together.combine(tied, together.LEAST_MISERY))) == 1
    with pytest.raises(ValueError):
        together.combine(normalized, "median")


def test_normalization_puts_members_on_one_scale():
    # Member 1's scores are 100x member 0's: after normalization neither dominates.
    scores = np.array([[3.0, 1.0, 2.0, 50.0], [300.0, 100.0, 200.0, -1.0]])
    allowed = np.array([True, True, True, False])
    pct = together.normalize(scores, allowed, together.PERCENTILE)
    assert np.allclose(pct, [[1.0, 0.0, 0.5, 0.0], [1.0, 0.0, 0.5, 0.0]])
    z = together.normalize(scores, allowed, together.ZSCORE)
    assert np.allclose(z[0, :3], z[1, :3]) and z[0, 3] == 0.0
    assert np.allclose(z[0, :3].mean(), 0.0) and np.allclose(z[0, :3].std(), 1.0)
    rr = together.normalize(scores, allowed, together.RECIPROCAL_RANK)
    k = together.RRF_K
    assert np.allclose(rr, [[1 / (k + 1), 1 / (k + 3), 1 / (k + 2), 0.0]] * 2)
    with pytest.raises(ValueError):
        together.normalize(scores, allowed, "softmax")


# --- the group row ----------------------------------------------------------------------------


def test_a_kids_member_limits_the_group_to_family_titles(house, cat):
    _, me, sam, kid = house
    install_model(cat)
    rate(me, cat.by_genre["drama"][2:4])
    rate(sam, cat.by_genre["sci-fi"][2:4])
    adults = _group(me, sam)
    assert adults.personalized and adults.row.key == "together" and adults.row.title == "For all of you"
    assert any(i.title.maturity_rating == MaturityRating.PG_13 for i in adults.row.items)
    with_kid = _group(me, sam, kid)
    assert with_kid.personalized and with_kid.row.items
    assert {i.title.maturity_rating for i in with_kid.row.items} <= FAMILY_RATINGS


def test_titles_any_member_rated_watched_or_hid_are_out(house, cat):
    _, me, sam, _ = house
    install_model(cat)
    rate(me, cat.by_genre["drama"][2:5])
    rate(sam, cat.by_genre["comedy"][2:5])
    watched, hidden, down = cat.by_genre["drama"][6], cat.by_genre["comedy"][6], cat.by_genre["drama"][10]
    catalog_services.viewing_record(profile=me, title=watched, episode=None, position_seconds=10, duration_seconds=100)
    catalog_services.title_hide(profile=sam, title=hidden)
    catalog_services.rating_set(profile=sam, title=down, value="down")
    ids = set(_ids(_group(me, sam)))
    assert ids, "the group still has titles"
    out = {t.pk for t in cat.by_genre["drama"][2:5] + cat.by_genre["comedy"][2:5]} | {watched.pk, hidden.pk, down.pk}
    assert not ids & out


def test_every_members_blocks_apply_to_the_row_its_reasons_and_the_player(house, owner_client, cat):
    _, me, sam, _ = house
    install_model(cat)
    liked, blocked = cat.by_genre["drama"][2], cat.by_genre["drama"][6]
    rate(me, [liked, cat.by_genre["drama"][3]])
    rate(sam, cat.by_genre["drama"][5:6])
    assert blocked.pk in _ids(_group(me, sam))
    catalog_services.title_block(profile=sam, title=blocked)
    catalog_services.title_block(profile=sam, title=liked)
    result = _group(me, sam)
    assert result.row.items and blocked.pk not in _ids(result)
    assert all("drama 2" not in i.reason for i in result.row.items)  # the owner's like, blocked for Sam
    assert owner_client.get(reverse("watch", args=[blocked.slug]) + f"?together={sam.pk}").status_code == 404
    assert _beat(owner_client, blocked, str(sam.pk)).status_code == 404


def test_reasons_name_members_and_a_shared_like(house, cat):
    _, me, sam, _ = house
    install_model(cat)
    rate(me, cat.by_genre["drama"][2:3] + cat.by_genre["comedy"][2:4])
    rate(sam, cat.by_genre["drama"][2:3] + cat.by_genre["sci-fi"][2:4])
    result = _group(me, sam)
    reasons = [i.reason for i in result.row.items]
    assert all(reasons)
    assert any(r == "Owner and Sam both loved drama 2" for r in reasons), reasons
    # Titles only one of them is close to say whose taste they serve.
    assert any(r.startswith(("Owner loved comedy", "Sam loved sci-fi")) for r in reasons), reasons
    assert all("Owner" in r or "Sam" in r for r in reasons), reasons
    assert "Owner and Sam" in result.row.reason


def test_reasons_never_name_a_title_a_member_may_not_see(house, cat):
    _, me, _, kid = house
    install_model(cat)
    r_rated = [cat.by_genre["drama"][i] for i in (0, 4, 8)]
    assert all(t.maturity_rating == MaturityRating.R for t in r_rated)
    rate(me, [*r_rated, cat.by_genre["drama"][2]])
    rate(kid, cat.by_genre["animation"][2:4])
    result = _group(me, kid)
    reasons = [i.reason for i in result.row.items]
    assert any(r.startswith("Owner loved drama 2") for r in reasons), reasons
    assert any("Kid loved animation" in r for r in reasons), reasons
    for name in ("drama 0", "drama 4", "drama 8"):
        assert all(name not in r for r in reasons)
    assert "Owner" in result.row.reason and "Kid" in result.row.reason


def test_default_rule_and_every_rule_give_a_row(house, cat):
    _, me, sam, _ = house
    install_model(cat)
    rate(me, cat.by_genre["drama"][2:5])
    rate(sam, cat.by_genre["comedy"][2:5])
    assert together.DEFAULT_RULE in together.RULES
    for rule in together.RULES:
        for normalization in together.NORMALIZATIONS:
            result = _group(me, sam, rule=rule, normalization=normalization)
            assert result.personalized and result.rule == rule and len(result.row.items) > 5


def test_without_a_model_or_consent_the_row_is_popular_titles_all_may_see(house, cat):
    user, me, _, kid = house
    rate(me, cat.by_genre["drama"][2:3])
    no_model = _group(me, kid)
    assert not no_model.personalized and no_model.fallback == "no-model"
    assert "popular titles all of you may watch" in no_model.row.reason
    assert no_model.row.items
    assert {i.title.maturity_rating for i in no_model.row.items} <= FAMILY_RATINGS
    assert cat.by_genre["drama"][2].pk not in _ids(no_model)
    install_model(cat)
    consent.consents_set(account_id=user.pk, choices={"personalization": False}, method="settings")
    me = Profile.objects.select_related("account").get(pk=me.pk)  # consents are memoized per account object
    off = _group(me, kid)
    assert not off.personalized and off.fallback == "consent" and "switched off" in off.row.reason


def test_a_group_is_2_to_5_distinct_profiles_of_one_account(house, other, cat):
    _, me, sam, kid = house
    _, stranger = other
    with pytest.raises(together.GroupInvalid):
        _group(me)
    with pytest.raises(together.GroupInvalid):
        _group(me, stranger)
    with pytest.raises(together.GroupInvalid):
        _group(me, me)
    extra = [ProfileFactory(account=me.account, name=f"Extra {i}") for i in range(3)]
    with pytest.raises(together.GroupInvalid):
        _group(me, sam, kid, *extra)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2", [2]), ("2,3", [2, 3]), (["2", "3"], [2, 3]), ("2, 2,1,3,", [2, 3]), ("1,2,3,4,5", [2, 3, 4, 5])],
)
def test_parse_with(raw, expected):
    assert together.parse_with(raw, self_id=1) == expected


@pytest.mark.parametrize("raw", [None, "", "1", "²", "abc", "2,x", "2,3,4,5,6", "99999999999999999999", "-2", "2.0"])
def test_parse_with_refuses(raw):
    with pytest.raises(together.GroupInvalid):
        together.parse_with(raw, self_id=1)


# --- the API --------------------------------------------------------------------------------


def _url(pid, with_=None):
    base = reverse("api-profile-together", args=[pid])
    return base if with_ is None else f"{base}?with={with_}"


def test_api_owner_gets_the_row_in_the_home_row_shape(house, owner_client, cat, django_assert_max_num_queries):
    _, me, sam, kid = house
    install_model(cat)
    rate(me, cat.by_genre["drama"][2:4])
    rate(sam, cat.by_genre["comedy"][2:4])
    response = owner_client.get(_url(me.pk, f"{sam.pk},{kid.pk},{sam.pk}"))
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"key", "title", "reason", "items"}
    assert data["key"] == "together" and data["title"] == "For all of you" and data["reason"]
    assert data["items"]
    assert all(set(i) == {"id", "external_id", "name", "reason"} and i["reason"] for i in data["items"])
    # session, user, active profile (middleware); the path's profile; the others (one query);
    # consent; ONE for the row's titles and the titles its reasons name (the members' tastes and
    # vectors are cached since the first request, the visibility masks memoized).
    with django_assert_max_num_queries(7):
        assert owner_client.get(_url(me.pk, f"{sam.pk},{kid.pk}")).status_code == 200


def test_api_another_accounts_profile_is_404(house, other, owner_client):
    _, me, sam, _ = house
    _, stranger = other
    assert owner_client.get(_url(stranger.pk, sam.pk)).status_code == 404
    response = owner_client.get(_url(me.pk, f"{sam.pk},{stranger.pk}"))
    assert response.status_code == 404 and "detail" in response.json()


def test_api_anonymous_is_401(client, house):
    _, me, sam, _ = house
    assert client.get(_url(me.pk, sam.pk)).status_code == 401


@pytest.mark.parametrize("bad", ["²", "abc", "2,3,4,5,6", "99999999999999999999", "", None, "1.5"])
def test_api_bad_with_is_400_with_a_reason(house, owner_client, bad):
    _, me, sam, _ = house
    if bad == "2,3,4,5,6":
        bad = ",".join(str(sam.pk + n) for n in range(1, 6))  # five others: one too many
    response = owner_client.get(_url(me.pk, bad))
    assert response.status_code == 400
    data = response.json()
    assert data["detail"] and data["errors"]["with"]


def test_api_only_self_in_with_is_400(house, owner_client):
    _, me, _, _ = house
    assert owner_client.get(_url(me.pk, me.pk)).status_code == 400


def test_api_bound_token_may_not_choose_others(house, cat):
    _, me, sam, _ = house
    token = ProfileToken.objects.create(profile=me)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.get(_url(me.pk, sam.pk))
    assert response.status_code == 403
    assert "bound to one profile" in response.json()["detail"]
    # Nor ask as another profile of the account.
    assert client.get(_url(sam.pk, me.pk)).status_code == 403


def test_api_account_token_works(house, cat):
    from rest_framework.authtoken.models import Token

    user, me, sam, _ = house
    token = Token.objects.create(user=user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.get(_url(sam.pk, me.pk))
    assert response.status_code == 200
    assert response.json()["key"] == "together"


def test_api_together_is_in_the_schema(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    operation = response.json()["paths"]["/api/v1/profiles/{pid}/together/"]["get"]
    assert operation["operationId"] == "profile_together"
    assert operation["tags"] == ["recommendations"]
    assert any(p["name"] == "with" and p["in"] == "query" for p in operation["parameters"])
    assert {"200", "400", "401", "403", "404"} <= set(operation["responses"])


# --- the page -------------------------------------------------------------------------------


def test_page_offers_the_households_profiles(house, owner_client):
    _, me, sam, kid = house
    response = owner_client.get(reverse("together"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'name="with" value="{sam.pk}"' in html and f'name="with" value="{kid.pk}"' in html
    assert f'name="with" value="{me.pk}"' not in html  # the active profile is always in
    assert 'data-row="together"' not in html


def test_page_shows_the_row_with_play_together_links(house, owner_client, cat):
    _, me, sam, kid = house
    install_model(cat)
    rate(me, cat.by_genre["drama"][2:4])
    response = owner_client.get(reverse("together") + f"?with={sam.pk}&with={kid.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-row="together"' in html and "For all of you" in html
    assert "data-title-id=" in html
    first = response.context["group"].row.items[0].title
    assert f"{reverse('watch', args=[first.slug])}?together={me.pk},{sam.pk},{kid.pk}" in html


def test_page_refuses_a_bad_or_foreign_group(house, other, owner_client):
    _, _, sam, _ = house
    _, stranger = other
    response = owner_client.get(reverse("together") + "?show=1")
    assert response.status_code == 400 and "Choose 1 to 4" in response.content.decode()
    assert owner_client.get(reverse("together") + "?with=²").status_code == 400
    assert owner_client.get(reverse("together") + f"?with={sam.pk},{stranger.pk}").status_code == 404


def test_page_needs_a_profile(client):
    response = client.get(reverse("together"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


# --- playing together -------------------------------------------------------------------------


def _beat(client, title, together_ids, **extra):
    data = {"position_seconds": "60", "duration_seconds": "6000", "together": together_ids, **extra}
    return client.post(reverse("watch-heartbeat", args=[title.slug]), data)


def test_player_carries_the_group_to_the_heartbeat(house, owner_client, cat):
    _, me, sam, kid = house
    title = cat.by_genre["animation"][0]
    response = owner_client.get(reverse("watch", args=[title.slug]) + f"?together={me.pk},{sam.pk},{kid.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-together="{sam.pk},{kid.pk}"' in html
    assert "Watching together with Sam and Kid" in html


def test_player_refuses_a_title_or_group_not_for_everyone(house, other, owner_client, cat):
    _, _, sam, kid = house
    _, stranger = other
    r_rated = cat.by_genre["drama"][0]
    watch = reverse("watch", args=[r_rated.slug])
    assert owner_client.get(f"{watch}?together={sam.pk}").status_code == 200
    assert owner_client.get(f"{watch}?together={kid.pk}").status_code == 404  # not for the kid
    assert owner_client.get(f"{watch}?together={stranger.pk}").status_code == 404
    assert owner_client.get(f"{watch}?together=²").status_code == 400
    assert owner_client.get(f"{watch}?together=99999999999999999999").status_code == 400


def test_heartbeat_records_the_viewing_for_each_profile_watching(house, owner_client, cat):
    _, me, sam, kid = house
    title = cat.by_genre["animation"][0]
    response = _beat(owner_client, title, f"{sam.pk},{kid.pk}")
    assert response.status_code == 200
    assert response.json() == {"recorded": True, "recorded_for": [me.pk, sam.pk, kid.pk]}
    assert set(ViewingActivity.objects.filter(title=title).values_list("profile_id", flat=True)) == {
        me.pk,
        sam.pk,
        kid.pk,
    }
    # The next beat updates the same rows in place.
    _beat(owner_client, title, f"{sam.pk},{kid.pk}", position_seconds="120")
    assert list(ViewingActivity.objects.filter(title=title).values_list("position_seconds", flat=True)) == [120] * 3


def test_heartbeat_refuses_a_bad_or_foreign_group(house, other, owner_client, cat):
    _, _, sam, kid = house
    _, stranger = other
    title = cat.by_genre["drama"][0]  # R: not for the kid
    assert _beat(owner_client, title, "²").status_code == 400
    assert _beat(owner_client, title, f"{stranger.pk}").status_code == 404
    assert _beat(owner_client, title, f"{sam.pk},{kid.pk}").status_code == 404
    assert not ViewingActivity.objects.exists()


def test_heartbeat_together_without_viewing_history_consent_records_nothing(cat):
    user, me = make_account("nohistory", consents=False)
    sam = ProfileFactory(account=user, name="Sam")
    client = signed_in_client(user, me)
    response = _beat(client, cat.by_genre["animation"][0], str(sam.pk))
    assert response.status_code == 200
    assert response.json() == {"recorded": False, "recorded_for": []}
    assert not ViewingActivity.objects.exists()


def test_a_kids_session_cannot_choose_others(house, cat):
    user, me, _, kid = house
    client = signed_in_client(user, kid)
    response = client.get(_url(kid.pk, me.pk))
    assert response.status_code == 403 and "kids profile" in response.json()["detail"]
    page = client.get(reverse("together") + f"?with={me.pk}")
    assert page.status_code == 403 and "data-kids-refused" in page.content.decode()
    title = cat.by_genre["animation"][0]
    assert client.get(reverse("watch", args=[title.slug]) + f"?together={me.pk}").status_code == 403
    assert _beat(client, title, str(me.pk)).status_code == 403
    assert not ViewingActivity.objects.exists()
    # Alone, the kid's own player and heartbeat work as before.
    assert _beat(client, title, "").json() == {"recorded": True}
