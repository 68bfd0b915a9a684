"""Sign-up, log-in/out, password change and reset, lockout (accounts UI, requirement 2)."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.active import SESSION_KEY
from accounts.models import Profile, User
from privacy import consent
from privacy.models import ConsentEvent, ConsentState, Purpose
from tests.support.accounts import PASSWORD, make_account, signed_in_client

STRONG = "velvet-orbit-5521"


def signup_data(**overrides):
    data = {
        "username": "newviewer",
        "email": "newviewer@example.com",
        "password1": STRONG,
        "password2": STRONG,
    }
    data.update(overrides)
    return data


# --- sign-up ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_signup_page_shows_four_unticked_consents_with_explanations(client):
    response = client.get(reverse("signup"))
    assert response.status_code == 200
    html = response.content.decode()
    for purpose in Purpose:
        box = re.search(rf'<input[^>]*name="consent_{purpose.value}"[^>]*>', html)
        assert box is not None, purpose
        assert "checked" not in box.group(0)
        assert 'type="checkbox"' in box.group(0)
    assert "Remember where you stopped" in html  # an explanation from PURPOSE_EXPLANATIONS


@pytest.mark.django_db
def test_signup_creates_account_profile_consents_and_logs_in(client):
    data = signup_data(consent_personalization="on", consent_search_history="on")
    response = client.post(reverse("signup"), data)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    user = User.objects.get(username="newviewer")
    assert user.email == "newviewer@example.com"
    assert user.check_password(STRONG)
    profiles = list(user.profiles.all())
    assert len(profiles) == 1
    # Signed in, with the new profile active.
    assert int(client.session["_auth_user_id"]) == user.pk
    assert client.session[SESSION_KEY] == profiles[0].pk

    events = ConsentEvent.objects.filter(account=user)
    assert events.count() == 4
    assert set(events.values_list("method", flat=True)) == {"signup"}
    assert dict(events.values_list("purpose", "granted")) == {
        "personalization": True,
        "viewing_history": False,
        "search_history": True,
        "analytics": False,
    }
    assert consent.current(user.pk) == {
        "personalization": True,
        "viewing_history": False,
        "search_history": True,
        "analytics": False,
    }


@pytest.mark.django_db
def test_signup_with_nothing_ticked_records_four_refusals(client):
    client.post(reverse("signup"), signup_data())
    user = User.objects.get(username="newviewer")
    assert sorted(ConsentEvent.objects.filter(account=user).values_list("purpose", "granted")) == sorted(
        (p.value, False) for p in Purpose
    )
    assert not consent.allows(user.pk, "personalization")


@pytest.mark.django_db
def test_signup_account_sees_its_first_profile_in_picker(client):
    client.post(reverse("signup"), signup_data())
    response = client.get(reverse("profile-picker"))
    assert response.status_code == 200
    assert b"newviewer" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"username": "Owner"}, "username", "already exists"),  # differs only in case
        ({"password1": "12345678", "password2": "12345678"}, "password2", "too common"),
        ({"password1": "short1", "password2": "short1"}, "password2", "too short"),
        ({"password1": "newviewer1", "password2": "newviewer1"}, "password2", "too similar"),
        ({"password2": "something-else-77"}, "password2", "didn’t match"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"email": ""}, "email", "required"),
        ({"username": "bad name!"}, "username", "valid username"),
    ],
)
def test_signup_bad_input_is_a_form_error_and_writes_nothing(client, owner, overrides, field, message):
    users_before = User.objects.count()
    profiles_before = Profile.objects.count()
    events_before = ConsentEvent.objects.count()

    response = client.post(reverse("signup"), signup_data(consent_analytics="on", **overrides))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert message in " ".join(errors[field])
    assert User.objects.count() == users_before
    assert Profile.objects.count() == profiles_before
    assert ConsentEvent.objects.count() == events_before
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_signup_redirects_signed_in_user(owner_client):
    response = owner_client.get(reverse("signup"))
    assert response.status_code == 302
    assert response["Location"] == reverse("profile-picker")


# --- log-in / log-out ----------------------------------------------------------------------


@pytest.mark.django_db
def test_login_rotates_session_and_lands_on_picker(client, owner):
    user, _ = owner
    session = client.session  # an anonymous session exists before logging in
    session["probe"] = 1
    session.save()
    before = session.session_key

    response = client.post(reverse("login"), {"username": "owner", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("profile-picker")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert client.session.session_key != before
    # No profile is active until one is picked.
    assert SESSION_KEY not in client.session


@pytest.mark.django_db
def test_login_wrong_password_is_a_form_error(client, owner):
    response = client.post(reverse("login"), {"username": "owner", "password": "nope-nope-nope"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_login_follows_next_on_this_host_only(client, owner):
    response = client.post(reverse("login") + "?next=/browse/", {"username": "owner", "password": PASSWORD})
    assert response["Location"] == "/browse/"

    client.post(reverse("logout"))
    response = client.post(
        reverse("login"), {"username": "owner", "password": PASSWORD, "next": "https://evil.example/steal"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("profile-picker")


@pytest.mark.django_db
def test_logout_is_post_only_and_forgets_the_profile(owner_client):
    assert owner_client.get(reverse("logout")).status_code == 405
    response = owner_client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in owner_client.session
    assert SESSION_KEY not in owner_client.session
    # Personal pages now ask for a login again.
    assert owner_client.get(reverse("profile-picker"))["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_lockout_after_repeated_failures_shows_a_clear_page(client, owner, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "owner", "password": "wrong-guess-000"})

    # Even the right password is refused while locked out.
    response = client.post(reverse("login"), {"username": "owner", "password": PASSWORD})

    assert response.status_code == 429
    assert b"Too many sign-in attempts" in response.content
    assert b"try again in 15 minutes" in response.content
    assert b"after 5 failed attempts" in response.content
    assert "accounts/lockout.html" in [t.name for t in response.templates]
    assert "_auth_user_id" not in client.session


# --- password change and reset -------------------------------------------------------------


@pytest.mark.django_db
def test_password_change_keeps_the_session(owner_client, owner):
    user, profile = owner
    assert owner_client.get(reverse("password_change")).status_code == 200
    response = owner_client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": STRONG, "new_password2": STRONG},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    user.refresh_from_db()
    assert user.check_password(STRONG)
    assert owner_client.get(reverse("password_change_done")).status_code == 200
    assert owner_client.session[SESSION_KEY] == profile.pk


@pytest.mark.django_db
def test_password_change_wrong_old_password_changes_nothing(owner_client, owner):
    user, _ = owner
    response = owner_client.post(
        reverse("password_change"),
        {"old_password": "not-it-at-all", "new_password1": STRONG, "new_password2": STRONG},
    )
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_password_change_needs_login(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_password_reset_mail_link_sets_a_new_password(client):
    user, _ = make_account("resetme")
    assert client.get(reverse("password_reset")).status_code == 200

    response = client.post(reverse("password_reset"), {"email": user.email})
    assert response["Location"] == reverse("password_reset_done")
    assert client.get(reverse("password_reset_done")).status_code == 200

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert message.subject == "Reset your Marquee password"
    link = re.search(r"https?://testserver(/accounts/password/reset/\S+/\S+/)", message.body).group(1)

    # Django swaps the token for a session marker, then shows the form.
    response = client.get(link)
    assert response.status_code == 302
    form_url = response["Location"]
    assert client.get(form_url).context["validlink"] is True
    response = client.post(form_url, {"new_password1": STRONG, "new_password2": STRONG})
    assert response["Location"] == reverse("password_reset_complete")
    assert client.get(reverse("password_reset_complete")).status_code == 200

    user.refresh_from_db()
    assert user.check_password(STRONG)
    response = client.post(reverse("login"), {"username": "resetme", "password": STRONG})
    assert response["Location"] == reverse("profile-picker")

    # The link works once.
    client.post(reverse("logout"))
    response = client.get(link, follow=True)
    assert response.context["validlink"] is False


@pytest.mark.django_db
def test_password_reset_unknown_email_sends_nothing_and_reveals_nothing(client, owner):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


@pytest.mark.django_db
def test_password_reset_bad_link_is_refused(client):
    response = client.get(reverse("password_reset_confirm", args=["garbage", "not-a-token"]))
    assert response.status_code == 200
    assert response.context["validlink"] is False


# --- home without a profile ----------------------------------------------------------------


@pytest.mark.django_db
def test_home_without_active_profile_goes_to_picker(owner):
    user, _ = owner
    client = signed_in_client(user)  # signed in, nothing picked
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("profile-picker")


@pytest.mark.django_db
def test_home_anonymous_goes_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_signup_consent_state_rows_match(client):
    client.post(reverse("signup"), signup_data(consent_viewing_history="on"))
    user = User.objects.get(username="newviewer")
    assert dict(ConsentState.objects.filter(account=user).values_list("purpose", "granted")) == {
        "personalization": False,
        "viewing_history": True,
        "search_history": False,
        "analytics": False,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["ml-5", "SUB-0001"])
def test_signup_refuses_reserved_import_usernames(client, username):
    from accounts.models import User

    response = client.post(
        "/accounts/signup/",
        {
            "username": username,
            "email": "x@example.com",
            "password1": "A-long-pass-phrase-9",
            "password2": "A-long-pass-phrase-9",
        },
    )
    assert response.status_code == 200
    assert "reserved" in response.content.decode()
    assert not User.objects.filter(username__iexact=username).exists()
