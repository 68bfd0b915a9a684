"""Household permissions for the API (the rules are in common.sudo).

- `AccountLevel`: account-level calls (profiles, PINs, restrictions, export downloads, account
  deletion, another profile's history). Refused to a profile-bound token and a kids session;
  otherwise the account password is needed in the `X-Marquee-Password` header or a `password`
  field, or a browser session in sudo mode.
- `NotProfileBound`: calls that a profile-bound token or a kids session may not make (consents,
  export requests) but an account token or an adult profile's session may, without a password.

Every refusal is a 403 whose `detail` says what would be accepted.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from common.sudo import (
    PasswordLockedOut,
    bound_profile_id,
    is_kids_session,
    password_from_request,
    password_matches,
    sudo_active,
)

from .lockout import LOCKOUT_STATUS, cooloff_seconds, lockout_message

BOUND_TOKEN_REFUSED = (
    "This token is bound to one profile and cannot do account-level actions; use the account's own token."
)
KIDS_SESSION_REFUSED = "Not from a kids profile: enter the account password to leave Kids mode first."
PASSWORD_NEEDED = (
    "This is an account-level action: send the account password in the X-Marquee-Password header or a `password` field."
)
PASSWORD_WRONG = "The account password is not correct."

PASSWORD_HEADER_PARAMETER = OpenApiParameter(
    "X-Marquee-Password",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The account password, for account-level actions (or a `password` field in the body). "
    "Refused to profile-bound tokens and kids sessions.",
)


class LockedOut(exceptions.Throttled):
    """Too many wrong passwords (django-axes): 429 with Retry-After, like the sign-in lockout."""

    status_code = LOCKOUT_STATUS
    default_code = "locked_out"

    def __init__(self, request=None):
        seconds = cooloff_seconds(getattr(request, "_request", request)) if request is not None else None
        super().__init__(wait=seconds, detail=lockout_message(seconds) if seconds else None)


def refuse_bound_or_kids(request) -> None:
    if bound_profile_id(request) is not None:
        raise exceptions.PermissionDenied(BOUND_TOKEN_REFUSED)
    if is_kids_session(request):
        raise exceptions.PermissionDenied(KIDS_SESSION_REFUSED)


def require_account_password(request) -> None:
    """Raise a 403 (or 429 when locked out) unless this call may act for the whole account."""
    refuse_bound_or_kids(request)
    if request.auth is None and sudo_active(request):
        return  # a browser session whose password was entered in the last few minutes
    password = password_from_request(request)
    if not password:
        raise exceptions.PermissionDenied(PASSWORD_NEEDED)
    try:
        ok = password_matches(request, password)
    except PasswordLockedOut as error:
        raise LockedOut(request) from error
    if not ok:
        raise exceptions.PermissionDenied(PASSWORD_WRONG)


class AccountLevel(BasePermission):
    """Signed in, and `require_account_password` passes, for every method the view has.

    For an object of the caller's own (a profile, an export), look the object up first and call
    `require_account_password` after it, so that another account's object stays a 404.
    """

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method != "OPTIONS" and hasattr(view, request.method.lower()):
            require_account_password(request)
        return True


class NotProfileBound(BasePermission):
    """Signed in, and neither a profile-bound token nor a kids session."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        refuse_bound_or_kids(request)
        return True
