"""Consent UI: settings toggles, the withdrawal offer, the policy page and the review banner."""

import pytest
from django.test import override_settings
from django.urls import reverse

from catalog import services as catalog_services
from catalog.models import SearchQuery, ViewingActivity
from privacy import consent, registry
from privacy.models import ConsentEvent, PolicyReview
from tests.support.accounts import make_account, signed_in_client
from tests.support.factories import TitleFactory, ViewingFactory

ALL_ON = {"personalization": "on", "viewing_history": "on", "search_history": "on", "analytics": "on"}


@pytest.mark.django_db
def test_settings_page_needs_login(client):
    resp = client.get(reverse("privacy-settings"))
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]
    resp = client.post(reverse("privacy-settings"), ALL_ON)
    assert resp.status_code == 302
    assert ConsentEvent.objects.count() == 0


@pytest.mark.django_db
def test_settings_page_shows_one_toggle_per_purpose_with_explanation(owner_client):
    resp = owner_client.get(reverse("privacy-settings"))
    html = resp.content.decode()
    assert resp.status_code == 200
    for purpose in consent.PURPOSES:
        assert f'name="{purpose}"' in html
        assert f'data-purpose="{purpose}"' in html
    assert "nothing you watch is recorded" in html  # the plain-language explanation
    assert "style=" not in html and "<script>" not in html  # CSP: no inline style or script


@pytest.mark.django_db
def test_granting_and_withdrawing_are_one_post_each_and_logged():
    user, profile = make_account("fresh", consents=False)
    client = signed_in_client(user, profile)
    assert consent.current(user.pk) == dict.fromkeys(consent.PURPOSES, False)

    client.post(reverse("privacy-settings"), {"personalization": "on"})
    assert consent.current(user.pk)["personalization"] is True
    client.post(reverse("privacy-settings"), {})  # every box unticked: withdraw
    assert consent.current(user.pk)["personalization"] is False

    events = list(ConsentEvent.objects.filter(account=user, purpose="personalization").order_by("id"))
    assert [(e.granted, e.method) for e in events] == [(True, "settings"), (False, "settings")]
    assert all(e.policy_version for e in events)
    # Saving choices counts as reviewing them under the current policy.
    assert PolicyReview.objects.get(account=user).version


@pytest.mark.django_db
def test_withdrawing_viewing_offers_to_delete_what_was_collected(owner, other):
    user, profile = owner
    _other_user, other_profile = other
    second = make_account("second-profile-owner")  # noise: an unrelated account
    ViewingFactory(profile=profile)
    ViewingFactory(profile=other_profile)
    ViewingFactory(profile=second[1])
    client = signed_in_client(user, profile)

    choices = {**ALL_ON}
    del choices["viewing_history"]
    resp = client.post(reverse("privacy-settings"), choices)
    assert resp.status_code == 302 and reverse("privacy-withdrawn") in resp["Location"]
    offer = client.get(resp["Location"])
    assert offer.status_code == 200 and "1 record" in offer.content.decode()
    # Not deleted until the person says so.
    assert ViewingActivity.objects.filter(profile=profile).count() == 1

    resp = client.post(reverse("privacy-withdrawn"), {"p": "viewing_history", "delete_viewing_history": "on"})
    assert resp.status_code == 302
    assert ViewingActivity.objects.filter(profile=profile).count() == 0
    assert ViewingActivity.objects.filter(profile=other_profile).count() == 1
    assert ViewingActivity.objects.count() == 2


@pytest.mark.django_db
def test_withdrawal_offer_refuses_unknown_or_still_granted_purposes(owner_client, owner):
    _user, profile = owner
    catalog_services.search_record(profile=profile, query="space", result_count=3)
    resp = owner_client.post(reverse("privacy-withdrawn"), {"p": "nonsense", "delete_nonsense": "on"})
    assert resp.status_code == 400
    # search_history is still granted: the offer silently ignores it, nothing is deleted.
    owner_client.post(reverse("privacy-withdrawn"), {"p": "search_history", "delete_search_history": "on"})
    assert SearchQuery.objects.filter(profile=profile).count() == 1


@pytest.mark.django_db
def test_withdrawing_personalization_runs_the_purge_hooks(
    owner_client, owner, monkeypatch, django_capture_on_commit_callbacks
):
    user, _ = owner
    seen = []
    hook = lambda purpose, account_id: seen.append((purpose, account_id))  # noqa: E731
    registry.register_withdrawal_hook(hook)
    try:
        choices = {**ALL_ON}
        del choices["personalization"]
        with django_capture_on_commit_callbacks(execute=True):
            owner_client.post(reverse("privacy-settings"), choices)
    finally:
        registry._registry.withdrawal_hooks.remove(hook)
    assert seen == [("personalization", user.pk)]
    assert consent.allows(user.pk, "personalization") is False


@pytest.mark.django_db
def test_recommendations_purge_is_called_per_profile_on_withdrawal(owner, monkeypatch):
    """recommendations/personal_data.py calls the serving side's purge for each profile."""
    import recommendations.services as rs

    user, profile = owner
    from accounts.services import profile_create

    second = profile_create(account=user, name="Second")
    purged = []
    monkeypatch.setattr(rs, "profile_personalization_purge", lambda *, profile_id: purged.append(profile_id) or 0)
    registry.consent_withdrawn("personalization", user.pk)
    assert sorted(purged) == sorted([profile.pk, second.pk])
    purged.clear()
    registry.consent_withdrawn("analytics", user.pk)
    assert purged == []


@pytest.mark.django_db
def test_policy_page_is_public_and_reads_periods_from_settings(client):
    with override_settings(
        SEARCH_RETENTION_DAYS=91, VIEWING_RETENTION_DAYS=731, EXPORT_EXPIRY_DAYS=8, PRIVACY_POLICY_VERSION="2099-01-01"
    ):
        html = client.get(reverse("privacy-policy")).content.decode()
    assert "2099-01-01" in html
    assert "91 days" in html and "731 days" in html and "8 days" in html
    for purpose in consent.PURPOSES:
        assert f'data-purpose="{purpose}"' in html


@pytest.mark.django_db
def test_new_policy_version_asks_signed_in_users_to_review(owner_client, owner, client):
    user, _ = owner
    # The fixture's consents were given under the current version: no banner.
    assert "data-policy-banner" not in owner_client.get(reverse("privacy-policy")).content.decode()
    with override_settings(PRIVACY_POLICY_VERSION="2099-01-01"):
        html = owner_client.get(reverse("privacy-policy")).content.decode()
        assert "data-policy-banner" in html and reverse("privacy-settings") in html
        assert "data-policy-banner" not in client.get(reverse("privacy-policy")).content.decode()  # anonymous
        owner_client.post(reverse("privacy-policy-review"))
        assert PolicyReview.objects.get(account=user).version == "2099-01-01"
        assert "data-policy-banner" not in owner_client.get(reverse("privacy-policy")).content.decode()


@pytest.mark.django_db
def test_viewing_and_search_flags_follow_consent():
    from privacy import selectors

    on, _ = make_account("on")
    off, off_profile = make_account("off", consents=False)
    assert selectors.viewing_history_enabled(on.pk) and selectors.search_history_enabled(on.pk)
    assert not selectors.viewing_history_enabled(off.pk) and not selectors.search_history_enabled(off.pk)
    # The gates at the single write points: nothing is written for the withheld purposes.
    title = TitleFactory()
    assert (
        catalog_services.viewing_record(
            profile=off_profile, title=title, episode=None, position_seconds=5, duration_seconds=60
        )
        is None
    )
    assert catalog_services.search_record(profile=off_profile, query="x", result_count=0) is None
    assert not ViewingActivity.objects.exists() and not SearchQuery.objects.exists()
