"""The home page and title pages feed insights through catalog's signals."""

import pytest

from catalog.models import Title
from insights.models import Click, Impression
from privacy import consent
from tests.support.factories import TitleFactory

pytestmark = pytest.mark.django_db


def test_home_records_impressions_with_analytics_consent(owner, owner_client):
    TitleFactory.create_batch(3)
    response = owner_client.get("/")
    assert response.status_code == 200
    _, profile = owner
    shown = Impression.objects.filter(profile=profile)
    assert shown.filter(row_key="new-arrivals").count() == 3


def test_home_records_nothing_without_analytics_consent(owner, owner_client):
    user, _ = owner
    consent.consents_set(account_id=user.pk, choices={"analytics": False}, method="settings")
    TitleFactory.create_batch(3)
    assert owner_client.get("/").status_code == 200
    assert not Impression.objects.exists()


def test_card_links_name_their_row_and_opening_one_counts_a_click(owner, owner_client):
    title = TitleFactory()
    html = owner_client.get("/").content.decode()
    assert f"/title/{title.slug}/?row=new-arrivals" in html
    assert owner_client.get(f"/title/{title.slug}/?row=new-arrivals").status_code == 200
    _, profile = owner
    assert list(Click.objects.filter(profile=profile).values_list("title_id", "row_key")) == [
        (title.pk, "new-arrivals")
    ]
    # Opened from elsewhere (no row): not a click.
    assert owner_client.get(f"/title/{title.slug}/").status_code == 200
    assert Click.objects.count() == 1
    assert Title.objects.count() == 1


def test_reloading_the_same_home_is_not_a_new_impression_but_a_changed_one_is(owner_client):
    titles = TitleFactory.create_batch(3)
    owner_client.get("/")
    first = Impression.objects.count()
    assert first >= 3
    owner_client.get("/")
    assert Impression.objects.count() == first, "a reload of the same page counts once"
    # The page changes (a My List row appears): what is shown now is recorded.
    owner_client.post(f"/title/{titles[0].slug}/list/", {"action": "add"})
    owner_client.get("/")
    assert Impression.objects.count() > first
