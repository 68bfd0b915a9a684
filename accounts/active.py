"""The active profile: which viewer of the signed-in account is watching.

It lives in the session under SESSION_KEY. The middleware resolves it lazily to
`request.profile` (None when not signed in, not chosen, or not this account's), so a stale
or forged id in the session can never reach another account's profile.
"""

from functools import wraps

from django.shortcuts import redirect

from .models import Profile

SESSION_KEY = "active_profile_id"


def resolve_profile(request) -> Profile | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    profile_id = request.session.get(SESSION_KEY)
    if not profile_id:
        return None
    profile = Profile.objects.filter(pk=profile_id, account=user).first()
    if profile is not None:
        profile.account = user  # already loaded; saves a query wherever the account is read
    return profile


def activate_profile(request, profile: Profile) -> None:
    request.session[SESSION_KEY] = profile.pk
    request.profile = profile


def deactivate_profile(request) -> None:
    request.session.pop(SESSION_KEY, None)
    request.profile = None


def profile_required(view):
    """Signed in and a profile of this account chosen; otherwise log in, or pick one."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        if request.profile is None:
            return redirect("profile-picker")
        return view(request, *args, **kwargs)

    return wrapper
