"""Recording what is signed in to an account ("Sessions and devices").

Each browser session and API token gets a `Device` row: when it was created, when it was last
seen, the network it was last seen from (truncated, privacy.ip) and its user agent cut down to
"Firefox on Linux". Recorded:

- on sign-in (the `user_logged_in` signal, which Django's login() and the API's token sign-in
  send), and when a session's key changes (a password change rotates it);
- on later requests at most once every DEVICE_SEEN_INTERVAL, so an active device costs one
  small write per few minutes, not one per request. For sessions the last write time lives in
  the session itself (no query to find out); for tokens on the row the token lookup joins.
- when a token is created (post_save), so even a token that was never used is listed and can
  be revoked.

Only Django's database sessions can be listed and signed out one by one (the row hangs off
django_session); with another SESSION_ENGINE the sessions part records nothing.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import SESSION_KEY as AUTH_SESSION_KEY
from django.utils import timezone

from privacy.ip import IPV4_PREFIX, IPV6_PREFIX, client_ip_truncated

from . import services

# Seconds between two "last seen" writes for one device.
DEVICE_SEEN_INTERVAL = 300
# In the session: [fingerprint of the session key, time of the last write]. The fingerprint
# notices a rotated key (password change), which needs a new row at once.
SEEN_SESSION_KEY = "device_seen"

DB_SESSION_ENGINES = ("django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db")


def sessions_recorded() -> bool:
    return settings.SESSION_ENGINE in DB_SESSION_ENGINES


def network_label(request) -> str:
    """The client's network as "203.0.113.0/24" (or a /48 for IPv6); never the full address."""
    network = client_ip_truncated(request)
    if not network:
        return ""
    prefix = IPV4_PREFIX if ipaddress.ip_address(network).version == 4 else IPV6_PREFIX
    return f"{network}/{prefix}"


# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(e|A|iOS)?/")),
    ("Opera", re.compile(r"\b(OPR|Opera)/")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/")),
    ("Firefox", re.compile(r"\b(Firefox|FxiOS)/")),
    ("Chromium", re.compile(r"\bChromium/")),
    ("Chrome", re.compile(r"\b(Chrome|CriOS|HeadlessChrome)/")),
    ("Safari", re.compile(r"\bSafari/")),
    ("curl", re.compile(r"^curl/")),
    ("Python", re.compile(r"^(python-requests|python-httpx|Python-urllib|aiohttp)/")),
    ("Android app", re.compile(r"^okhttp/")),
)
_SYSTEMS = (
    ("iPadOS", re.compile(r"\biPad\b")),
    ("iOS", re.compile(r"\b(iPhone|iPod)\b")),
    ("Android", re.compile(r"\bAndroid\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("Linux", re.compile(r"\bLinux\b|\bX11\b")),
)


def user_agent_label(user_agent: str | None) -> str:
    """ "Firefox on Linux", "Safari on iOS", "curl"; "" when nothing is recognised. Only this
    label is stored: the full string (versions, device model) says more than the list needs."""
    ua = (user_agent or "")[:512]
    browser = next((name for name, pattern in _BROWSERS if pattern.search(ua)), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(ua)), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or f"Unknown browser on {system}"
    return ""


def request_facts(request) -> dict:
    return {
        "network": network_label(request),
        "user_agent": user_agent_label(request.META.get("HTTP_USER_AGENT")),
    }


def _fingerprint(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()[:12]


def _session_signed_in(request, user) -> bool:
    session = getattr(request, "session", None)
    return session is not None and bool(session.session_key) and str(session.get(AUTH_SESSION_KEY)) == str(user.pk)


def session_seen(request, *, user=None, force: bool = False) -> None:
    """Record this request's session as seen (throttled unless `force`). Called by the
    middleware after the view, and on sign-in (with the `user` that signed in: a test
    client's sign-in request has no `request.user`)."""
    user = user if user is not None else getattr(request, "user", None)
    if user is None or not user.is_authenticated or not sessions_recorded():
        return
    if not _session_signed_in(request, user):
        return  # e.g. a token call: no session sign-in to record
    session = request.session
    key = session.session_key
    seen = session.get(SEEN_SESSION_KEY)
    now = time.time()
    fresh = (
        isinstance(seen, list)
        and len(seen) == 2
        and seen[0] == _fingerprint(key)
        and isinstance(seen[1], int | float)
        and now - seen[1] < DEVICE_SEEN_INTERVAL
    )
    if fresh and not force:
        return
    if services.device_session_seen(account=user, session_key=key, **request_facts(request)):
        session[SEEN_SESSION_KEY] = [_fingerprint(key), now]


def token_seen(request, token) -> None:
    """Record an API token's use (throttled by the row's own last_seen_at, joined by the
    token lookup: no extra query when nothing is due)."""
    # A reverse one-to-one without a row raises a subclass of AttributeError: getattr's default.
    device = getattr(token, "device", None)
    if device is not None and timezone.now() - device.last_seen_at < timedelta(seconds=DEVICE_SEEN_INTERVAL):
        return
    services.device_token_seen(token=token, device=device, **request_facts(request))


def token_issued(request, token) -> None:
    """A sign-in just handed out this token: record where from (unthrottled; sign-ins are few)."""
    services.device_token_seen(token=token, device=getattr(token, "device", None), **request_facts(request))


# --- signal receivers (connected in AccountsConfig.ready) ------------------------------------


def on_user_logged_in(sender, request, user, **kwargs):
    if request is not None:
        session_seen(request, user=user, force=True)


def on_token_created(sender, instance, created, **kwargs):
    if created and not kwargs.get("raw"):
        # Listed (and revocable) from the start; its first use or the sign-in that issued it
        # (accounts.apis.TokenApi) fills in the network and the user agent.
        services.device_token_seen(token=instance, device=None, network="", user_agent="")
