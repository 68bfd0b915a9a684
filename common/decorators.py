"""View decorators shared by the apps."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect


def profile_required(view):
    """Signed in and a profile of this account chosen; otherwise log in, or pick one.

    `request.profile` is set on every request by accounts.middleware (the active profile of the
    session, checked to belong to the signed-in account).
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if request.profile is None:
            return redirect("profile-picker")
        return view(request, *args, **kwargs)

    return wrapper
