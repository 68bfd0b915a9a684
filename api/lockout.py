"""The login lockout's sized limits (AXES_HANDLER) and what a locked-out sign-in gets
(AXES_LOCKOUT_CALLABLE).

Axes compares every lockout group (AXES_LOCKOUT_PARAMETERS) against one AXES_FAILURE_LIMIT.
`SizedLimitsHandler` gives the per-network group its own, larger AXES_NETWORK_FAILURE_LIMIT, so
a handful of wrong guesses at random usernames no longer locks everyone behind that network.

One status for both doors: 429 Too Many Requests with Retry-After (the cool-off), because the
caller did nothing forbidden: it tried too often and may try again later. The API answers
`{"detail": ...}`; the login form gets a page that says when to come back.
"""

import math

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpResponse, JsonResponse
from django.template.loader import get_template

from .errors import is_api_path

LOCKOUT_STATUS = 429
NETWORK_GROUP = ["ip_address"]


def group_limit(group, base_limit: int) -> int:
    """The failures that lock one lockout group: the network's own limit, or the base one."""
    if list(group) == NETWORK_GROUP:
        return settings.AXES_NETWORK_FAILURE_LIMIT
    return base_limit


class SizedLimitsHandler(AxesDatabaseHandler):
    """The database handler with one limit per lockout group.

    Axes locks when `get_failures() >= AXES_FAILURE_LIMIT`. Each group's count is scaled to that
    base limit (count * base // own limit), which reaches the base exactly when the count
    reaches the group's own limit, so every axes code path (the login form, the token endpoint,
    password re-checks) applies the sized limits without further changes.
    """

    def get_failures(self, request, credentials=None) -> int:
        base = get_failure_limit(request, credentials)
        groups = get_lockout_parameters(request, credentials)
        scaled = 0
        for group, attempts in zip(groups, self.get_user_attempts(request, credentials), strict=True):
            count = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            limit = group_limit([group] if isinstance(group, str) else group, base)
            if count >= limit:
                # The lockout page says which limit was reached.
                request.axes_lockout_limit = limit
            scaled = max(scaled, count * base // limit)
        return scaled

    def reset_user_attempts(self, request, credentials=None) -> int:
        # A successful sign-in clears only that username's failures from that network: clearing
        # the whole network's (axes' default) would let an attacker with an account of their own
        # wipe the network's count between guesses.
        username = get_client_username(request, credentials)
        return AccessAttempt.objects.filter(username=username, ip_address=request.axes_ip_address).delete()[0]


def cooloff_seconds(request) -> int:
    cool_off = get_cool_off(request)
    return int(cool_off.total_seconds()) if cool_off else 0


def lockout_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return (
        f"Too many failed sign-in attempts for this account or from this network. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )


def lockout_response(request, original_response=None, credentials=None):
    seconds = cooloff_seconds(request)
    if is_api_path(request.path):
        response = JsonResponse({"detail": lockout_message(seconds)}, status=LOCKOUT_STATUS)
    else:
        template = get_template("accounts/lockout.html")
        context = {
            "failure_limit": getattr(request, "axes_lockout_limit", None) or get_failure_limit(request, credentials),
            "cooloff_minutes": max(1, math.ceil(seconds / 60)),
            "message": lockout_message(seconds),
        }
        response = HttpResponse(template.render(context, request), status=LOCKOUT_STATUS)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
