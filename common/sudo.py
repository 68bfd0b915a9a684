"""Who is acting, and how much they may do: sudo mode, kids sessions and profile-bound tokens.

A household shares one account, so "signed in" is not enough to let someone change the
account. Three rules, applied by the decorators below (pages) and `api.permissions` (API):

- **Account-level actions** (managing profiles, PINs and restrictions, account settings,
  downloading an export, deleting the account, reading another profile's viewing history)
  need the account password, entered within the last SUDO_MODE_SECONDS ("sudo mode", as
  GitHub does). Signing in counts as entering it.
- **A kids session never has sudo mode**: choosing a kids profile drops it, and only typing
  the account password again (which also leaves the kids profile) brings it back. A kids
  session cannot reach the privacy pages at all, and stays one (KIDS_LOCK_KEY) until the
  password or a grown-up profile's PIN is entered, even if its profile is deleted meanwhile.
- Sudo mode belongs to the profile that was active when the password was typed: switching
  to another profile leaves it behind.
- **A token bound to one profile** (minted by `POST auth/token/` with `profile`, for a TV or
  a tablet) sees only that profile and can do nothing account-level.

This module sits below the apps (privacy uses it too), so it reads the active profile and the
token through the attributes the accounts app puts on the request (`request.profile`,
`request.auth.profile_id`) rather than importing accounts.
"""

from __future__ import annotations

import time
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables

SUDO_SESSION_KEY = "sudo_until"
# The profile that was active when the password was typed (None: none yet, as right after
# signing in). Sudo mode holds only while that profile is still the active one, so the parent
# who signs in and hands the tablet over on a teen's profile hands over no sudo mode with it.
SUDO_PROFILE_KEY = "sudo_profile"
# Set while a kids profile is (or was last) chosen and until the account password or a grown-up
# profile's PIN is entered: a kids session stays one even if its profile is deleted meanwhile.
KIDS_LOCK_KEY = "kids_lock"
PASSWORD_HEADER = "HTTP_X_MARQUEE_PASSWORD"


def _django_request(request):
    # DRF wraps the Django request; the session and `profile` live on the inner one.
    return getattr(request, "_request", request)


def active_profile(request):
    return getattr(_django_request(request), "profile", None)


def is_kids_session(request) -> bool:
    profile = active_profile(request)
    if profile is not None and profile.is_kids:
        return True
    if getattr(request, "auth", None) is not None:
        return False  # a token call: no session rules
    session = getattr(_django_request(request), "session", None)
    return bool(session is not None and session.get(KIDS_LOCK_KEY))


def kids_lock_set(request, locked: bool) -> None:
    session = _django_request(request).session
    if locked:
        session[KIDS_LOCK_KEY] = True
    else:
        session.pop(KIDS_LOCK_KEY, None)


def bound_profile_id(request) -> int | None:
    """The profile a profile-bound API token is limited to, or None (session or account token)."""
    return getattr(getattr(request, "auth", None), "profile_id", None)


def sudo_active(request) -> bool:
    if is_kids_session(request) or bound_profile_id(request) is not None:
        return False
    session = getattr(_django_request(request), "session", None)
    if session is None:
        return False
    until = session.get(SUDO_SESSION_KEY)
    if not (isinstance(until, int | float) and until > time.time()):
        return False
    profile = active_profile(request)
    return session.get(SUDO_PROFILE_KEY) == (profile.pk if profile is not None else None)


def sudo_grant(request) -> None:
    """The account password was just entered in this session: trust it for a while, for the
    profile active now (call it after choosing the profile the password was typed for)."""
    session = _django_request(request).session
    profile = active_profile(request)
    session[SUDO_SESSION_KEY] = time.time() + settings.SUDO_MODE_SECONDS
    session[SUDO_PROFILE_KEY] = profile.pk if profile is not None else None


def sudo_revoke(request) -> None:
    session = _django_request(request).session
    session.pop(SUDO_SESSION_KEY, None)
    session.pop(SUDO_PROFILE_KEY, None)


class PasswordLockedOut(Exception):
    """Too many wrong passwords for this account or network (django-axes); try later."""


@sensitive_variables("password")
def password_matches(request, password: str | None) -> bool:
    """Is this the signed-in account's password? Goes through authenticate(), so django-axes
    counts every wrong guess and locks the account out like the login form does."""
    if not password or not isinstance(password, str):
        return False
    http_request = _django_request(request)
    user = request.user
    authenticated = authenticate(request=http_request, username=user.get_username(), password=password)
    if getattr(http_request, "axes_locked_out", False):
        raise PasswordLockedOut()
    return authenticated is not None and authenticated.pk == user.pk


def password_from_request(request) -> str | None:
    """The account password an API call carries: the `X-Marquee-Password` header or a
    `password` field of a JSON object body."""
    header = _django_request(request).META.get(PASSWORD_HEADER)
    if header:
        return header
    data = getattr(request, "data", None)
    if isinstance(data, dict):
        value = data.get("password")
        return value if isinstance(value, str) else None
    return None


# --- Page decorators -----------------------------------------------------------------------


def sudo_url(next_url: str) -> str:
    return f"{reverse('sudo')}?{urlencode({'next': next_url})}"


def sudo_required(view):
    """An account-level page: signed in, and the password entered within SUDO_MODE_SECONDS.

    Otherwise the password prompt (accounts' `sudo` page), which comes back here afterwards.
    From a kids session the prompt says so, and entering the password leaves the kids profile.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not sudo_active(request):
            # A POST is not replayed after the prompt: come back to the page (GET) instead.
            return redirect(sudo_url(request.get_full_path() if request.method in ("GET", "HEAD") else request.path))
        return view(request, *args, **kwargs)

    return wrapper


def kids_forbidden(view):
    """A page a kids session cannot reach at all (privacy settings, exports, the account)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if is_kids_session(request):
            return render(request, "accounts/kids_forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper
