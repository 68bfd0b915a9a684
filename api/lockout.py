"""What a locked-out sign-in gets (django-axes' AXES_LOCKOUT_CALLABLE).

One status for both doors: 429 Too Many Requests with Retry-After (the cool-off), because the
caller did nothing forbidden: it tried too often and may try again later. The API answers
`{"detail": ...}`; the login form gets a page that says when to come back.
"""

import math

from axes.helpers import get_cool_off, get_failure_limit
from django.http import HttpResponse, JsonResponse
from django.template.loader import get_template

from .errors import is_api_path

LOCKOUT_STATUS = 429


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
            "failure_limit": get_failure_limit(request, credentials),
            "cooloff_minutes": max(1, math.ceil(seconds / 60)),
            "message": lockout_message(seconds),
        }
        response = HttpResponse(template.render(context, request), status=LOCKOUT_STATUS)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
