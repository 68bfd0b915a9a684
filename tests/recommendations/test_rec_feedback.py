""" "Not for me", "Don't use this to recommend" and search as a taste signal (issue 9, reqs 5 and 7).

Each one: what the person sees (HTML with htmx and as a plain form, and the API), what training
and serving make of it, the export, and the owner / other account / anonymous matrix.
"""

import pytest
from django.urls import reverse

from catalog import services as catalog_services
from catalog.models import HiddenTitle, Rating, SearchClick, SearchQuery, ViewingActivity
from catalog.selectors import more_like_this
from privacy import consent, registry
from recommendations import dataset, foldin, serving
from recommendations.home import build_home
from tests.support.accounts import make_account, signed_in_client
from tests.support.api import token_client
from tests.support.factories import TitleFactory
from tests.support.recommender import fresh, ids_of, install_model, rate, row_by_key

pytestmark = pytest.mark.usefixtures("rec_env")


def _home_ids(profile) -> set[int]:
    return {i.title.pk for r in build_home(profile=fresh(profile)).rows for i in r.items}


# --- "Not for me" -----------------------------------------------------------------------------


def test_not_for_me_from_a_card_leaves_every_row_without_a_reload(owner, owner_client, cat):
    _, profile = owner
    install_model(cat)
    rate(profile, cat.by_genre["comedy"][2:4])
    picks = ids_of(row_by_key(build_home(profile=fresh(profile)), "top-picks"))
    target = next(t for t in cat.titles if t.pk == picks[0])
    catalog_services.list_add(profile=profile, title=target)
    assert target.pk in _home_ids(profile)

    response = owner_client.post(
        reverse("title-hide", args=[target.slug]), {"action": "hide", "place": "card"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    # The card is replaced in place by a note with an undo: no reload.
    assert f'data-hidden-title-id="{target.pk}"' in html and 'value="unhide"' in html
    assert HiddenTitle.objects.filter(profile=profile, title=target).exists()
    # Gone from every row of the home, My List included, and from "More like this".
    assert target.pk not in _home_ids(profile)
    assert target.pk not in {t.pk for t in more_like_this(profile=profile, title=cat.by_genre["comedy"][2])}

    # The undo brings the card back.
    back = owner_client.post(
        reverse("title-hide", args=[target.slug]), {"action": "unhide", "place": "card"}, headers={"HX-Request": "true"}
    )
    assert back.status_code == 200 and f'data-title-id="{target.pk}"' in back.content.decode()
    assert target.pk in _home_ids(profile)


def test_not_for_me_as_a_plain_form_and_listed_on_the_ratings_page_with_an_undo(owner, owner_client, cat):
    _, profile = owner
    title = cat.by_genre["drama"][3]
    response = owner_client.post(reverse("title-hide", args=[title.slug]), {"action": "hide"})
    assert response.status_code == 302
    page = owner_client.get(reverse("my-ratings")).content.decode()
    assert 'data-section="hidden"' in page and title.name in page and 'value="unhide"' in page
    detail = owner_client.get(title.get_absolute_url()).content.decode()
    assert "Hidden from your recommendations" in detail
    owner_client.post(reverse("title-hide", args=[title.slug]), {"action": "unhide"})
    assert not HiddenTitle.objects.filter(profile=profile).exists()
    # Bad input changes nothing.
    assert owner_client.post(reverse("title-hide", args=[title.slug]), {"action": "nope"}).status_code == 302
    assert not HiddenTitle.objects.filter(profile=profile).exists()


def test_not_for_me_counts_as_a_negative_in_serving_and_training(owner, cat):
    _, profile = owner
    install_model(cat)
    model = serving.get_model().model
    rate(profile, cat.by_genre["sci-fi"][2:3] + cat.by_genre["comedy"][2:4])
    comedy_rows = model.rows_of([t.pk for t in cat.by_genre["comedy"][8:]])
    _, before = foldin.profile_state(model, fresh(profile))
    for t in cat.by_genre["comedy"][4:8]:
        catalog_services.title_hide(profile=profile, title=t)
    _, after = foldin.profile_state(model, fresh(profile))
    # Rejecting comedies pushes the other comedies down the profile's scores, as down ratings do.
    assert model.score(after)[comedy_rows].mean() < model.score(before)[comedy_rows].mean()
    # The same rejections as down ratings weigh the same.
    for t in cat.by_genre["comedy"][4:8]:
        catalog_services.title_unhide(profile=profile, title=t)
    rate(profile, cat.by_genre["comedy"][4:8], value="down")
    _, by_downs = foldin.profile_state(model, fresh(profile))
    assert by_downs == pytest.approx(after)
    # Training: a hidden title is never a positive, even one the profile had saved.
    catalog_services.list_add(profile=profile, title=cat.by_genre["comedy"][4])
    data = dataset.assemble()
    trained = set(data.title_ids[data.items[data.users == list(data.profile_ids).index(profile.pk)]].tolist())
    assert cat.by_genre["comedy"][4].pk not in trained
    assert cat.by_genre["sci-fi"][2].pk in trained


def test_not_for_me_leaves_search_suggestions_but_not_search(owner, owner_client):
    _, profile = owner
    title = TitleFactory(name="Zanzibar Nights")
    catalog_services.title_hide(profile=profile, title=title)
    suggest = owner_client.get(reverse("search-suggest"), {"q": "zanzi"}).content.decode()
    assert "Zanzibar" not in suggest
    results = owner_client.get(reverse("search"), {"q": "zanzibar"}).content.decode()
    assert f'data-title-id="{title.pk}"' in results  # asked for by name, it is still found


def test_hidden_api_owner_other_account_and_anonymous(owner, other, cat):
    user, profile = owner
    other_user, other_profile = other
    title = cat.by_genre["drama"][2]
    url = f"/api/v1/profiles/{profile.pk}/hidden/{title.pk}/"
    api = token_client(user)
    assert api.put(url).status_code == 201
    assert api.put(url).status_code == 200
    listed = api.get(f"/api/v1/profiles/{profile.pk}/hidden/").json()
    assert listed["count"] == 1 and listed["results"][0]["title"]["id"] == title.pk
    # Another account: its token on the owner's profile is a 404, and nothing changes.
    assert token_client(other_user).put(url).status_code == 404
    assert token_client(other_user).delete(url).status_code == 404
    assert token_client(other_user).get(f"/api/v1/profiles/{profile.pk}/hidden/").status_code == 404
    # Anonymous: 401.
    assert token_client(None).put(url).status_code == 401
    assert token_client(None).get(f"/api/v1/profiles/{profile.pk}/hidden/").status_code == 401
    assert HiddenTitle.objects.filter(profile=profile).count() == 1
    assert not HiddenTitle.objects.filter(profile=other_profile).exists()
    assert api.delete(url).status_code == 204
    assert api.delete(url).status_code == 204
    assert not HiddenTitle.objects.exists()


# --- "Don't use this to recommend" ---------------------------------------------------------------


def test_dont_use_a_rating_stays_in_history_and_export_but_training_and_serving_ignore_it(owner, owner_client, cat):
    user, profile = owner
    install_model(cat)
    loved = cat.by_genre["sci-fi"][2]
    rate(profile, [loved, cat.by_genre["drama"][2]])
    home = build_home(profile=fresh(profile))
    assert any(loved.name in r.title for r in home.rows), [r.title for r in home.rows]

    response = owner_client.post(
        reverse("title-exclude", args=[loved.slug]),
        {"signal": "rating", "exclude": "1"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "Not used to recommend" in response.content.decode()
    rating = Rating.objects.get(profile=profile, title=loved)
    assert rating.exclude_from_recommendations and rating.value == "love"
    # Still in the profile's history (the ratings page) and in the export.
    page = owner_client.get(reverse("my-ratings")).content.decode()
    assert f'data-title-id="{loved.pk}"' in page and "Not used to recommend" in page
    exported = {s.name: s for s in registry.sections()}["ratings"].export(user)
    assert [r["exclude_from_recommendations"] for r in exported if r["title_id"] == loved.pk] == [True]
    # Serving: no row or reason names it, and it is not a positive; training leaves it out.
    home = build_home(profile=fresh(profile))
    texts = [r.title for r in home.rows] + [r.reason for r in home.rows]
    texts += [i.reason for r in home.rows for i in r.items]
    assert not [t for t in texts if loved.name in t]
    taste = foldin.tastes_for([profile.pk])[profile.pk]
    assert loved.pk not in {p.title_id for p in taste.positives}
    assert loved.pk in taste.excluded  # it was rated: not recommended back either
    data = dataset.assemble()
    assert loved.pk not in set(data.title_ids[data.items].tolist())

    # Undo: used again.
    owner_client.post(reverse("title-exclude", args=[loved.slug]), {"signal": "rating", "exclude": "0"})
    assert not Rating.objects.get(profile=profile, title=loved).exclude_from_recommendations


def test_dont_use_a_viewing_from_history_and_the_api(owner, other, owner_client, cat):
    user, profile = owner
    other_user, _ = other
    title = cat.by_genre["drama"][5]
    catalog_services.viewing_record(
        profile=profile, title=title, episode=None, position_seconds=95, duration_seconds=100
    )
    page = owner_client.get(reverse("history")).content.decode()
    assert "Don't use this to recommend" in page
    owner_client.post(reverse("title-exclude", args=[title.slug]), {"signal": "viewing", "exclude": "1"})
    assert ViewingActivity.objects.get(profile=profile, title=title).exclude_from_recommendations
    assert title.pk not in {p.title_id for p in foldin.tastes_for([profile.pk])[profile.pk].positives}

    url = f"/api/v1/profiles/{profile.pk}/viewing/{title.pk}/"
    api = token_client(user)
    response = api.patch(url, {"exclude_from_recommendations": False}, format="json")
    assert response.status_code == 200 and response.json()[0]["exclude_from_recommendations"] is False
    assert api.patch(url, {}, format="json").status_code == 400
    assert token_client(other_user).patch(url, {"exclude_from_recommendations": True}, format="json").status_code == 404
    assert token_client(None).patch(url, {"exclude_from_recommendations": True}, format="json").status_code == 401
    assert not ViewingActivity.objects.get(profile=profile, title=title).exclude_from_recommendations
    unwatched = cat.by_genre["drama"][6]
    missing = api.patch(
        f"/api/v1/profiles/{profile.pk}/viewing/{unwatched.pk}/", {"exclude_from_recommendations": True}, format="json"
    )
    assert missing.status_code == 404


def test_rating_api_takes_and_shows_the_flag(owner, other, cat):
    user, profile = owner
    title = cat.by_genre["drama"][2]
    api = token_client(user)
    url = f"/api/v1/profiles/{profile.pk}/ratings/{title.pk}/"
    response = api.put(url, {"value": "love", "exclude_from_recommendations": True}, format="json")
    assert response.status_code == 201 and response.json()["exclude_from_recommendations"] is True
    # Changing the value keeps the flag unless it is given.
    assert api.put(url, {"value": "up"}, format="json").json()["exclude_from_recommendations"] is True
    listed = api.get(f"/api/v1/profiles/{profile.pk}/ratings/").json()["results"]
    assert listed[0]["exclude_from_recommendations"] is True


def test_exclude_page_action_needs_a_signed_in_profile(client, owner, cat):
    title = cat.by_genre["drama"][2]
    response = client.post(reverse("title-exclude", args=[title.slug]), {"signal": "rating", "exclude": "1"})
    assert response.status_code == 302 and reverse("login") in response["Location"]
    response = client.post(reverse("title-hide", args=[title.slug]), {"action": "hide"})
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert not HiddenTitle.objects.exists()


# --- Search as a taste signal --------------------------------------------------------------------


def test_opening_a_search_result_is_a_weak_positive_with_consent(owner, owner_client, cat):
    _, profile = owner
    title = cat.by_genre["drama"][4]
    owner_client.get(title.get_absolute_url(), {"from": "search"})
    click = SearchClick.objects.get(profile=profile, title=title)
    taste = foldin.tastes_for([profile.pk])[profile.pk]
    (positive,) = [p for p in taste.positives if p.title_id == title.pk]
    assert positive.kind == "search" and positive.weight < 1.0
    data = dataset.assemble()
    (row,) = [i for i, t in enumerate(data.title_ids[data.items]) if t == title.pk]
    assert data.strength[row] == pytest.approx(0.3)
    assert click.created_at


def test_a_recent_search_naming_a_genre_gives_a_because_you_searched_row(owner, owner_client, cat):
    _, profile = owner
    install_model(cat)
    rate(profile, cat.by_genre["drama"][2:3])
    owner_client.get(reverse("search"), {"q": "Comedy"})
    assert SearchQuery.objects.filter(profile=profile).exists()
    home = build_home(profile=fresh(profile))
    row = row_by_key(home, "searched-genre-comedy")
    assert row is not None, [r.key for r in home.rows]
    assert row.title == "Because you searched for “comedy”"
    assert row.reason.endswith(".")
    assert all(cat.genre_of(i.title.pk) == "comedy" for i in row.items)


def test_without_search_consent_nothing_of_the_search_is_kept_or_used(cat):
    user, profile = make_account("private", consents=False)
    consent.consents_set(
        account_id=user.pk,
        choices={"personalization": True, "viewing_history": True, "search_history": False, "analytics": False},
        method="settings",
    )
    install_model(cat)
    rate(profile, cat.by_genre["drama"][2:3])
    client = signed_in_client(user, profile)
    client.get(reverse("search"), {"q": "Comedy"})
    client.get(cat.by_genre["comedy"][3].get_absolute_url(), {"from": "search"})
    assert not SearchQuery.objects.exists() and not SearchClick.objects.exists()
    home = build_home(profile=fresh(profile))
    assert not [r.key for r in home.rows if r.key.startswith("searched-")]


def test_withdrawing_search_history_stops_using_the_clicks_and_can_delete_them(owner, owner_client, cat):
    from privacy import services as privacy_services

    user, profile = owner
    title = cat.by_genre["drama"][4]
    owner_client.get(title.get_absolute_url(), {"from": "search"})
    assert SearchClick.objects.exists()
    stamp = fresh(profile).engagement_stamp
    consent.consents_set(account_id=user.pk, choices={"search_history": False}, method="settings")
    registry.consent_withdrawn("search_history", user.pk)
    # Not used from that moment (and the cached taste is refreshed) ...
    assert fresh(profile).engagement_stamp > stamp
    assert title.pk not in {p.title_id for p in foldin.tastes_for([profile.pk])[profile.pk].positives}
    data = dataset.assemble()
    assert title.pk not in set(data.title_ids[data.items].tolist())
    # ... and deleting what was collected for the purpose takes the clicks with the searches.
    privacy_services.collected_delete(account=user, purposes=["search_history"], via="web")
    assert not SearchClick.objects.exists()
