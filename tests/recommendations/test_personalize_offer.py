"""Signed up with every consent box unticked: the home explains personalization and offers a
switch (issue 14, requirement 9), instead of a generic home with no way forward."""

import pytest
from django.urls import reverse

from accounts.maturity import KIDS_MAX_LEVEL
from privacy import consent
from privacy.models import ConsentEvent
from tests.support.accounts import make_account, signed_in_client
from tests.support.factories import ProfileFactory

pytestmark = pytest.mark.django_db

OFFER = b"data-personalize-offer"


def test_the_home_of_an_account_without_personalization_offers_it():
    user, profile = make_account("nobox", consents=False)
    response = signed_in_client(user, profile).get(reverse("home"))
    assert response.status_code == 200
    assert OFFER in response.content
    assert b"Personalized recommendations" in response.content
    assert reverse("personalize").encode() in response.content


def test_an_account_with_personalization_sees_no_offer():
    user, profile = make_account("allboxes")
    response = signed_in_client(user, profile).get(reverse("home"))
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert OFFER not in response.content


def test_switching_it_on_records_the_choice_and_leads_to_onboarding():
    user, profile = make_account("nobox", consents=False)
    client = signed_in_client(user, profile)
    response = client.post(reverse("personalize"), {"personalization": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert consent.allows_for(user, "personalization")
    event = ConsentEvent.objects.get(account=user, purpose="personalization")
    assert event.granted and event.method == "settings"
    # Nothing else was switched on with it.
    assert not consent.allows_for(user, "analytics")


def test_leaving_the_switch_off_changes_nothing():
    user, profile = make_account("nobox", consents=False)
    client = signed_in_client(user, profile)
    response = client.post(reverse("personalize"), {})
    assert response.status_code == 302
    assert not consent.allows_for(user, "personalization")
    assert not ConsentEvent.objects.filter(account=user).exists()


def test_a_kids_profile_gets_no_offer_and_cannot_switch_it_on():
    user, _adult = make_account("parent", consents=False)
    kid = ProfileFactory(account=user, name="Kid", is_kids=True, maturity_limit=KIDS_MAX_LEVEL)
    client = signed_in_client(user, kid)
    home = client.get(reverse("home"))
    assert OFFER not in home.content
    response = client.post(reverse("personalize"), {"personalization": "on"})
    assert response.status_code == 403
    assert not consent.allows_for(user, "personalization")


def test_anonymous_visitors_are_sent_to_sign_in_and_get_is_refused(client):
    response = client.post(reverse("personalize"), {"personalization": "on"})
    assert response.status_code == 302 and reverse("login") in response["Location"]
    user, profile = make_account("nobox", consents=False)
    assert signed_in_client(user, profile).get(reverse("personalize")).status_code == 405
