import pytest
from django.core.exceptions import ValidationError

from accounts import services as account_services
from accounts.maturity import MaturityRating
from catalog import selectors, services
from catalog.models import ViewingActivity
from tests.support.accounts import make_account
from tests.support.factories import TitleFactory


@pytest.mark.django_db
def test_new_account_gets_one_profile_and_at_most_five():
    user = account_services.user_create(username="newbie", email="n@example.com", password="s3cret-pass-123")
    assert user.profiles.count() == 1
    for i in range(4):
        account_services.profile_create(account=user, name=f"P{i}")
    with pytest.raises(ValidationError):
        account_services.profile_create(account=user, name="Sixth")
    assert user.profiles.count() == 5


@pytest.mark.django_db
def test_kids_never_see_unrated_or_above_limit():
    _, kid = make_account("kid", is_kids=True, maturity_limit=2)
    ok = TitleFactory(maturity_rating=MaturityRating.PG)
    TitleFactory(maturity_rating=MaturityRating.PG_13)
    TitleFactory(maturity_rating=MaturityRating.UNRATED)
    assert list(selectors.visible_titles(kid)) == [ok]


@pytest.mark.django_db
def test_viewing_heartbeats_update_one_row_and_respect_consent():
    _, profile = make_account("viewer")
    title = TitleFactory()
    for pos in (10, 20, 5900):
        services.viewing_record(profile=profile, title=title, episode=None, position_seconds=pos, duration_seconds=6000)
    row = ViewingActivity.objects.get()
    assert (row.position_seconds, row.completed) == (5900, True)

    _, private = make_account("private", consents=False)
    assert (
        services.viewing_record(profile=private, title=title, episode=None, position_seconds=10, duration_seconds=6000)
        is None
    )
    assert ViewingActivity.objects.filter(profile=private).count() == 0
