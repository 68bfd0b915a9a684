"""API throttles (the REST_FRAMEWORK defaults and the sign-up/token ones).

Never import rest_framework.views or .generics here: they load these classes by their dotted
names from settings while being imported themselves.
"""

import ipaddress

from django.conf import settings
from django.utils.crypto import salted_hmac
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


def network_of(address: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) network of an address, as the login lockout counts (privacy.ip):
    one IPv6 household holds more addresses than any per-address limit could count."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


class _PerNetworkThrottle(_SwitchableRateMixin, SimpleRateThrottle):
    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": network_of(self.get_ident(request))}


class SignupThrottle(_PerNetworkThrottle):
    """Account creation (the API and the sign-up page share the count), per client network,
    whoever is signed in. Every attempt counts, so probing which usernames exist is limited too."""

    scope = "signup"


class _SettingRateThrottle(SimpleRateThrottle):
    """A page's throttle whose rate is a named setting. Not behind the API_THROTTLE switch:
    these limits protect other people (whose mailbox a reset request fills), not our capacity."""

    rate_setting = ""

    def get_rate(self):
        return getattr(settings, self.rate_setting)


class PasswordResetNetworkThrottle(_SettingRateThrottle):
    """Password-reset requests per client network, whatever the addresses."""

    scope = "password_reset_network"
    rate_setting = "PASSWORD_RESET_RATE_PER_NETWORK"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": network_of(self.get_ident(request))}


class PasswordResetAddressThrottle(_SettingRateThrottle):
    """Password-reset requests per email address, whether or not an account has it (so the
    answer says nothing about the address). The cache key is a keyed hash of the lower-cased
    address: the cache never holds the address itself."""

    scope = "password_reset_address"
    rate_setting = "PASSWORD_RESET_RATE_PER_ADDRESS"

    def get_cache_key(self, request, view):
        email = (request.POST.get("email") or "").strip().lower()
        if not email:
            return None  # nothing to send to: the form refuses it
        ident = salted_hmac("marquee.password-reset", email).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


def page_throttle_wait(request, *throttles) -> int | None:
    """For pages: None when every throttle allows this request, else the seconds to wait
    (0 when unknown). A refused request is not counted by the throttles after it."""
    for throttle in throttles:
        if not throttle.allow_request(request, None):
            wait = throttle.wait()
            return max(1, int(wait)) if wait else 0
    return None


class TokenThrottle(_PerIPThrottle):
    """Token requests (password guesses), per client IP. Axes' lockout sits behind it."""

    scope = "token"
