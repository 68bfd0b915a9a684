"""API throttles (the REST_FRAMEWORK defaults and the sign-up/token ones).

Never import rest_framework.views or .generics here: they load these classes by their dotted
names from settings while being imported themselves.
"""

from django.conf import settings
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle


class _SwitchableRateMixin:
    """Reads the switch and the rate per request, so `API_THROTTLE=off` and test overrides work.

    DRF's SimpleRateThrottle snapshots the rates when the module is imported; reading
    api_settings here follows settings changes instead.
    """

    def __init__(self):
        if settings.API_THROTTLE:
            super().__init__()

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if not settings.API_THROTTLE:
            return True
        return super().allow_request(request, view)


class AnonThrottle(_SwitchableRateMixin, AnonRateThrottle):
    """Callers without credentials, per client IP."""


class UserThrottle(_SwitchableRateMixin, UserRateThrottle):
    """Signed-in callers, per account."""


class _PerIPThrottle(_SwitchableRateMixin, SimpleRateThrottle):
    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SignupThrottle(_PerIPThrottle):
    """Account creation, per client IP, whoever is signed in."""

    scope = "signup"


class TokenThrottle(_PerIPThrottle):
    """Token requests (password guesses), per client IP. Axes' lockout sits behind it."""

    scope = "token"
