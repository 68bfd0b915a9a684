"""Which profiles an API caller may act as: the one place the API resolves a profile id.

- Another account's profile: 404 (never a 403 that confirms it exists).
- A profile-bound token: its own profile only; any other is a 403.
- A browser session: its active profile; another profile of the account needs sudo mode or
  the account password (a kids session never has it), else a 403.
- An account token (it was obtained with the password): any profile of the account.

The rules themselves (sudo mode, kids sessions, bound tokens) are in common.sudo.
"""

from rest_framework import exceptions

from api.permissions import PASSWORD_NEEDED, require_account_password
from common.sudo import active_profile, bound_profile_id, sudo_active

from .models import Profile
from .selectors import profile_get_for_account

OTHER_PROFILE_BOUND = "This token is bound to another profile of the account."
OTHER_PROFILE_SESSION = (
    "This is another profile than the one you are watching as: switch to it, or send the account "
    "password in the X-Marquee-Password header."
)


def acts_as(request, profile: Profile) -> bool:
    """Is the caller this profile itself (its bound token, or the session's active profile)?"""
    bound = bound_profile_id(request)
    if bound is not None:
        return bound == profile.pk
    if request.auth is None:  # a session
        active = active_profile(request)
        return active is not None and active.pk == profile.pk
    return False


def profile_for_api(request, profile_id) -> Profile:
    """The caller's profile with this id, if the caller may act as it (see the module rules)."""
    bound = bound_profile_id(request)
    if bound is not None and str(bound) == str(profile_id):
        return bound_profile(request)  # loaded with the token: no query
    profile = profile_get_for_account(account=request.user, profile_id=profile_id)
    if acts_as(request, profile):
        return profile
    if bound is not None:
        raise exceptions.PermissionDenied(OTHER_PROFILE_BOUND)
    if request.auth is None:
        try:
            require_account_password(request)
        except exceptions.PermissionDenied as error:
            # Keep the specific reason (kids session, wrong password) but say what would work.
            if str(error.detail) == PASSWORD_NEEDED:
                raise exceptions.PermissionDenied(OTHER_PROFILE_SESSION) from error
            raise
    return profile


def private_profile_for_api(request, profile_id) -> Profile:
    """Like profile_for_api, for what only the profile itself or the account owner in sudo mode
    may read (its viewing history): an account token must send the password too."""
    profile = profile_for_api(request, profile_id)
    if not acts_as(request, profile) and request.auth is not None:
        require_account_password(request)
    return profile


def bound_profile(request) -> Profile | None:
    """The profile a bound token is limited to (loaded with the token, its account too), or None."""
    if bound_profile_id(request) is None:
        return None
    return request.auth.profile


LOCKED_MEMBER = (
    "A profile locked with a PIN joins only when the account password has been confirmed "
    "(sudo mode, or the X-Marquee-Password header): its history and tastes are its own."
)


def locked_member_refusal(request, members) -> str | None:
    """Why these other profiles may not join the caller's (watching together), or None.

    Joining shows a member's tastes in the reasons and writes its history, so a PIN-locked member
    needs what selecting it would: here the account password (sudo mode on a page). A member
    without a PIN is one the caller could switch to anyway.
    """
    if any(m.has_pin for m in members) and not sudo_active(request):
        return LOCKED_MEMBER
    return None


def require_unlocked_members(request, members) -> None:
    """locked_member_refusal for the API: a locked member needs the password (or sudo mode)."""
    if any(m.has_pin for m in members):
        require_account_password(request)
