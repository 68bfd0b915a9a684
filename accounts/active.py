"""The active profile: which viewer of the signed-in account is watching.

It lives in the session under SESSION_KEY. The middleware resolves it on every request into
`request.profile` (None when not signed in, not chosen, or not this account's), so a stale or
forged id in the session can never reach another account's profile. Views that need one use
`common.decorators.profile_required`.
"""

from common.sudo import is_kids_session, kids_lock_set, sudo_revoke

from .models import Profile

SESSION_KEY = "active_profile_id"

# What selecting a profile asks for (see unlock_needed).
UNLOCK_PIN = "pin"
UNLOCK_PASSWORD = "password"


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


def unlock_needed(request, profile: Profile) -> str | None:
    """What selecting this profile asks for: its PIN when it has one (or the account password
    instead), the account password when leaving a kids session for a grown-up profile without
    a PIN ("Exit Kids"), or nothing."""
    active = getattr(request, "profile", None)
    if active is not None and active.pk == profile.pk:
        return None
    if profile.has_pin:
        return UNLOCK_PIN
    if is_kids_session(request) and not profile.is_kids:
        return UNLOCK_PASSWORD
    return None


def activate_profile(request, profile: Profile) -> None:
    """Make `profile` the session's active one. Callers have applied `unlock_needed` first (so a
    grown-up profile after a kids one was unlocked by its PIN or the password).

    Sudo mode stays behind (common.sudo binds it to the profile it was granted for); a caller
    that just checked the password grants it again afterwards.
    """
    request.session[SESSION_KEY] = profile.pk
    request.profile = profile
    kids_lock_set(request, profile.is_kids)
    if profile.is_kids:
        # A kids session never carries the account password's trust (common.sudo).
        sudo_revoke(request)


def deactivate_profile(request) -> None:
    """No profile active. The kids lock is not lifted here: only the password or a PIN does."""
    request.session.pop(SESSION_KEY, None)
    request.profile = None
