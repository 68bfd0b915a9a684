"""The profile picker, profile CRUD and generated avatars: owner / other account / anonymous."""

import pytest
from django.urls import reverse

from accounts import services
from accounts.active import SESSION_KEY
from accounts.maturity import MaturityLevel
from accounts.models import Profile
from tests.support.accounts import signed_in_client

# --- picker and select ---------------------------------------------------------------------


@pytest.mark.django_db
def test_picker_lists_only_own_profiles(owner_client, owner, other, django_assert_max_num_queries):
    user, first = owner
    kid = services.profile_create(account=user, name="Little One", is_kids=True)
    for i in range(3):
        services.profile_create(account=user, name=f"Extra {i}")
    _, stranger = other

    # Queries: session, user, active profile (middleware), the account's profiles, and the
    # privacy policy banner in base.html (its PolicyReview, then latest ConsentEvent lookup).
    # Constant in the number of profiles: five here.
    with django_assert_max_num_queries(6):
        response = owner_client.get(reverse("profile-picker"))

    assert response.status_code == 200
    html = response.content.decode()
    assert [p.pk for p in response.context["profiles"]] == list(user.profiles.values_list("pk", flat=True))
    assert f'data-profile-id="{first.pk}"' in html
    assert f'data-profile-id="{kid.pk}"' in html
    assert "Little One" in html
    assert reverse("profile-select", args=[kid.pk]) in html
    assert reverse("profile-avatar", args=[kid.pk]) in html
    assert f'data-profile-id="{stranger.pk}"' not in html
    assert stranger.name not in html
    # Five profiles: no "Add profile" tile.
    assert reverse("profile-create") not in html


@pytest.mark.django_db
def test_picker_offers_add_and_manage_below_the_limit(owner_client, owner):
    _, profile = owner
    html = owner_client.get(reverse("profile-picker")).content.decode()
    assert reverse("profile-create") in html
    assert reverse("profile-picker") + "?manage=1" in html
    manage = owner_client.get(reverse("profile-picker"), {"manage": "1"}).content.decode()
    assert reverse("profile-edit", args=[profile.pk]) in manage
    assert reverse("profile-delete", args=[profile.pk]) in manage


@pytest.mark.django_db
def test_picker_anonymous_goes_to_login(client):
    response = client.get(reverse("profile-picker"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.django_db
def test_select_own_profile_sets_session_and_goes_home(owner):
    user, _ = owner
    second = services.profile_create(account=user, name="Second")
    client = signed_in_client(user)

    response = client.post(reverse("profile-select", args=[second.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session[SESSION_KEY] == second.pk


@pytest.mark.django_db
def test_select_other_accounts_profile_is_404_and_changes_nothing(owner_client, owner, other):
    _, mine = owner
    _, theirs = other
    response = owner_client.post(reverse("profile-select", args=[theirs.pk]))
    assert response.status_code == 404
    assert owner_client.session[SESSION_KEY] == mine.pk


@pytest.mark.django_db
def test_select_needs_post_and_login(client, owner_client, owner):
    _, profile = owner
    assert owner_client.get(reverse("profile-select", args=[profile.pk])).status_code == 405
    response = client.post(reverse("profile-select", args=[profile.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_select_unknown_id_is_404(owner_client):
    assert owner_client.post(reverse("profile-select", args=[999999])).status_code == 404


# --- create --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_profile(owner_client, owner):
    user, _ = owner
    assert owner_client.get(reverse("profile-create")).status_code == 200
    response = owner_client.post(reverse("profile-create"), {"name": "  Teen  ", "maturity_limit": MaturityLevel.TEENS})
    assert response.status_code == 302
    assert response["Location"] == reverse("profile-picker")
    teen = user.profiles.get(name="Teen")
    assert (teen.is_kids, teen.maturity_limit) == (False, MaturityLevel.TEENS)


@pytest.mark.django_db
def test_create_kids_profile_within_cap(owner_client, owner):
    user, _ = owner
    owner_client.post(
        reverse("profile-create"), {"name": "Kid", "is_kids": "on", "maturity_limit": MaturityLevel.OLDER_KIDS}
    )
    kid = user.profiles.get(name="Kid")
    assert (kid.is_kids, kid.maturity_limit) == (True, MaturityLevel.OLDER_KIDS)


@pytest.mark.django_db
def test_ticking_kids_lowers_the_limit_to_family_on_create(owner_client, owner):
    user, _ = owner
    response = owner_client.post(
        reverse("profile-create"), {"name": "Kid", "is_kids": "on", "maturity_limit": MaturityLevel.MATURE}
    )
    assert response.status_code == 302
    kid = user.profiles.get(name="Kid")
    assert (kid.is_kids, kid.maturity_limit) == (True, MaturityLevel.FAMILY)


@pytest.mark.django_db
def test_sixth_profile_is_a_clear_form_error(owner_client, owner):
    user, _ = owner
    for i in range(4):
        services.profile_create(account=user, name=f"P{i}")
    page = owner_client.get(reverse("profile-create"))
    assert b"maximum of 5 profiles" in page.content

    response = owner_client.post(reverse("profile-create"), {"name": "Sixth", "maturity_limit": MaturityLevel.ALL})

    assert response.status_code == 200
    assert "at most 5 profiles" in " ".join(response.context["form"].non_field_errors())
    assert user.profiles.count() == 5


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "maturity_limit": 5}, "name"),
        ({"name": "   ", "maturity_limit": 5}, "name"),
        ({"name": "x" * 41, "maturity_limit": 5}, "name"),
        ({"name": "owner", "maturity_limit": 5}, "name"),  # same as "Owner", differs only in case
        ({"name": "Fine", "maturity_limit": 9}, "maturity_limit"),
        ({"name": "Fine", "maturity_limit": "abc"}, "maturity_limit"),
        ({"name": "Fine"}, "maturity_limit"),
    ],
)
def test_create_bad_input_is_a_form_error(owner_client, owner, data, field):
    user, _ = owner
    response = owner_client.post(reverse("profile-create"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert user.profiles.count() == 1


@pytest.mark.django_db
def test_create_anonymous_goes_to_login(client):
    response = client.post(reverse("profile-create"), {"name": "Sneaky", "maturity_limit": 5})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Profile.objects.filter(name="Sneaky").exists()


# --- edit ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_edit_own_profile(owner_client, owner):
    _, profile = owner
    page = owner_client.get(reverse("profile-edit", args=[profile.pk]))
    assert page.status_code == 200
    assert page.context["form"].initial["name"] == profile.name

    response = owner_client.post(
        reverse("profile-edit", args=[profile.pk]),
        {"name": "Renamed", "is_kids": "on", "maturity_limit": MaturityLevel.FAMILY},
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.name, profile.is_kids, profile.maturity_limit) == ("Renamed", True, MaturityLevel.FAMILY)


@pytest.mark.django_db
def test_edit_keeping_own_name_is_fine(owner_client, owner):
    _, profile = owner
    response = owner_client.post(
        reverse("profile-edit", args=[profile.pk]), {"name": profile.name, "maturity_limit": MaturityLevel.TEENS}
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.maturity_limit == MaturityLevel.TEENS


@pytest.mark.django_db
def test_ticking_kids_lowers_the_limit_to_family_on_edit(owner_client, owner):
    _, profile = owner
    response = owner_client.post(
        reverse("profile-edit", args=[profile.pk]),
        {"name": profile.name, "is_kids": "on", "maturity_limit": MaturityLevel.ALL},
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.is_kids, profile.maturity_limit) == (True, MaturityLevel.FAMILY)


@pytest.mark.django_db
def test_edit_other_accounts_profile_is_404(owner_client, other):
    _, theirs = other
    url = reverse("profile-edit", args=[theirs.pk])
    assert owner_client.get(url).status_code == 404
    assert owner_client.post(url, {"name": "Hijacked", "maturity_limit": 5}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Other"


@pytest.mark.django_db
def test_edit_anonymous_goes_to_login(client, owner):
    _, profile = owner
    response = client.post(reverse("profile-edit", args=[profile.pk]), {"name": "Anon", "maturity_limit": 5})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    profile.refresh_from_db()
    assert profile.name == "Owner"


# --- delete --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_delete_needs_confirmation_then_removes(owner_client, owner):
    user, _ = owner
    spare = services.profile_create(account=user, name="Spare")
    url = reverse("profile-delete", args=[spare.pk])

    page = owner_client.get(url)
    assert page.status_code == 200
    assert b"Delete the profile" in page.content
    assert Profile.objects.filter(pk=spare.pk).exists()  # GET deletes nothing

    response = owner_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("profile-picker")
    assert not Profile.objects.filter(pk=spare.pk).exists()


@pytest.mark.django_db
def test_deleting_the_active_profile_clears_it_from_the_session(owner_client, owner):
    user, active = owner
    services.profile_create(account=user, name="Remaining")
    owner_client.post(reverse("profile-delete", args=[active.pk]))
    assert not Profile.objects.filter(pk=active.pk).exists()
    assert SESSION_KEY not in owner_client.session
    assert owner_client.get(reverse("home"))["Location"] == reverse("profile-picker")


@pytest.mark.django_db
def test_deleting_another_profile_keeps_the_active_one(owner_client, owner):
    user, active = owner
    spare = services.profile_create(account=user, name="Spare")
    owner_client.post(reverse("profile-delete", args=[spare.pk]))
    assert owner_client.session[SESSION_KEY] == active.pk


@pytest.mark.django_db
def test_deleting_the_last_profile_is_a_clear_error(owner_client, owner):
    _, only = owner
    response = owner_client.post(reverse("profile-delete", args=[only.pk]))
    assert response.status_code == 400
    assert b"at least one profile" in response.content
    assert Profile.objects.filter(pk=only.pk).exists()
    assert owner_client.session[SESSION_KEY] == only.pk


@pytest.mark.django_db
def test_delete_other_accounts_profile_is_404(owner_client, other):
    other_user, theirs = other
    services.profile_create(account=other_user, name="Second")  # so the last-profile rule is not what stops it
    url = reverse("profile-delete", args=[theirs.pk])
    assert owner_client.get(url).status_code == 404
    assert owner_client.post(url).status_code == 404
    assert Profile.objects.filter(pk=theirs.pk).exists()


@pytest.mark.django_db
def test_delete_anonymous_goes_to_login(client, owner):
    user, profile = owner
    services.profile_create(account=user, name="Second")
    response = client.post(reverse("profile-delete", args=[profile.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert Profile.objects.filter(pk=profile.pk).exists()


# --- avatar --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_avatar_is_a_cacheable_svg_of_the_initial(owner_client, owner):
    _, profile = owner
    response = owner_client.get(reverse("profile-avatar", args=[profile.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    body = response.content.decode()
    assert body.startswith("<svg")
    assert ">O</text>" in body
    assert profile.avatar_color in body
    assert "private" in response["Cache-Control"]
    assert "max-age=" in response["Cache-Control"]

    again = owner_client.get(reverse("profile-avatar", args=[profile.pk]), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


@pytest.mark.django_db
def test_avatar_escapes_the_name(owner_client, owner):
    user, _ = owner
    odd = services.profile_create(account=user, name="<script>")
    body = owner_client.get(reverse("profile-avatar", args=[odd.pk])).content.decode()
    assert "<script" not in body
    assert "&lt;" in body


@pytest.mark.django_db
def test_avatar_other_account_is_404_and_anonymous_goes_to_login(owner_client, client, other):
    _, theirs = other
    url = reverse("profile-avatar", args=[theirs.pk])
    assert owner_client.get(url).status_code == 404
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_avatar_text_contrast():
    from accounts.avatars import avatar_svg

    assert 'fill="#141414"' in avatar_svg(initial="a", color="#f5a623")  # dark text on amber
    assert 'fill="#ffffff"' in avatar_svg(initial="a", color="#1f1f7f")  # white text on navy
    # A colour that is not plain hex never reaches the markup.
    assert "javascript" not in avatar_svg(initial="a", color='"/><a href="javascript:1')
