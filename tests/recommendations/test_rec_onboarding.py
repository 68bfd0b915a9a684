"""Cold start: a new profile is onboarded (>= 3 titles, optional genres) and gets a personal home at once."""

import pytest
from django.urls import reverse

from accounts.maturity import KIDS_MAX_LEVEL
from catalog.models import Rating
from recommendations.home import build_home
from recommendations.models import OnboardingGenre
from tests.support.accounts import make_account, signed_in_client
from tests.support.recommender import install_model

pytestmark = pytest.mark.usefixtures("rec_env")


def test_new_profile_is_sent_to_onboarding_when_a_model_serves(owner_client, cat):
    install_model(cat)
    response = owner_client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("onboarding")


def test_without_a_model_the_new_profile_sees_the_plain_home(owner_client, cat):
    response = owner_client.get(reverse("home"))
    assert response.status_code == 200
    assert response.context["home"].personalized is False


def test_onboarding_offers_a_diverse_visible_set(cat):
    user, profile = make_account("kid", is_kids=True, maturity_limit=KIDS_MAX_LEVEL)
    install_model(cat)
    response = signed_in_client(user, profile).get(reverse("onboarding"))
    assert response.status_code == 200
    titles = response.context["titles"]
    assert len(titles) >= 3
    assert all(t.maturity_level <= KIDS_MAX_LEVEL and t.maturity_rating != "NR" for t in titles)

    _, adult = make_account("grown")
    offered = signed_in_client(adult.account, adult).get(reverse("onboarding")).context["titles"]
    genres = {cat.genre_of(t.pk) for t in offered}
    assert genres == {"sci-fi", "drama", "comedy", "animation"}, "spread over the genres"


def test_fewer_than_three_titles_is_a_form_error_and_writes_nothing(owner, owner_client, cat):
    _, profile = owner
    install_model(cat)
    picks = [t.pk for t in cat.by_genre["drama"][2:4]]
    response = owner_client.post(reverse("onboarding"), {"titles": [*picks, "junk"], "genres": ["drama"]})
    assert response.status_code == 400
    assert "at least 3" in response.content.decode()
    assert not Rating.objects.filter(profile=profile).exists()
    assert not OnboardingGenre.objects.exists()
    profile.refresh_from_db()
    assert profile.onboarded_at is None


def test_invisible_titles_do_not_count(cat):
    user, profile = make_account("kid", is_kids=True, maturity_limit=KIDS_MAX_LEVEL)
    install_model(cat)
    too_mature = [t.pk for t in cat.titles if t.maturity_level > KIDS_MAX_LEVEL][:5]
    response = signed_in_client(user, profile).post(reverse("onboarding"), {"titles": too_mature})
    assert response.status_code == 400
    assert not Rating.objects.filter(profile=profile).exists()


def test_onboarding_rates_records_genres_and_personalizes_at_once(owner, owner_client, cat):
    _, profile = owner
    install_model(cat)
    picks = [t.pk for t in cat.by_genre["comedy"][2:5]]
    response = owner_client.post(reverse("onboarding"), {"titles": picks, "genres": ["comedy", "nope"]})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert set(Rating.objects.filter(profile=profile).values_list("title_id", "value")) == {(p, "up") for p in picks}
    assert list(OnboardingGenre.objects.filter(profile=profile).values_list("genre__slug", flat=True)) == ["comedy"]
    profile.refresh_from_db()
    assert profile.onboarded_at is not None

    home = owner_client.get(reverse("home"))
    assert home.status_code == 200
    assert home.context["home"].personalized
    top = next(r for r in home.context["home"].rows if r.key == "top-picks")
    assert cat.genre_of(top.items[0].title.pk) == "comedy"


def test_genres_alone_give_a_personal_home(owner, cat):
    from recommendations import services

    _, profile = owner
    install_model(cat)
    # Already-rated titles: the onboarding keeps the existing rating.
    existing = cat.by_genre["animation"][0]
    Rating.objects.create(profile=profile, title=existing, value="love")
    services.onboarding_complete(
        profile=profile,
        title_ids=[existing.pk, *[t.pk for t in cat.by_genre["animation"][1:3]]],
        genre_slugs=["sci-fi"],
    )
    assert Rating.objects.get(profile=profile, title=existing).value == "love"
    assert build_home(profile=profile).personalized


def test_skip_sets_onboarded_and_shows_the_plain_home(owner, owner_client, cat):
    _, profile = owner
    install_model(cat)
    response = owner_client.post(reverse("onboarding"), {"action": "skip"})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.onboarded_at is not None
    home = owner_client.get(reverse("home"))
    assert home.status_code == 200
    assert home.context["home"].personalized is False
    assert home.context["home"].rows
    assert "Rate a few titles" in home.content.decode()


def test_onboarding_needs_a_signed_in_profile(client):
    response = client.get(reverse("onboarding"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
