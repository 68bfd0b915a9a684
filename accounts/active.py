"""The active profile: which viewer of the signed-in account is watching.

It lives in the session under SESSION_KEY. The middleware resolves it on every request into
`request.profile` (None when not signed in, not chosen, or not this account's), so a stale or
forged id in the session can never reach another account's profile. Views that need one use
`common.decorators.profile_required`.
"""

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
