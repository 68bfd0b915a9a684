"""Middleware of operations: a database outage answers 503, probes bypass the session stack,
and every request's latency is measured.

Order in settings.MIDDLEWARE, right after SecurityMiddleware (whose HTTPS redirect exempts the
probe paths, and whose headers the 503 page should carry too):

    DatabaseUnavailableMiddleware   outermost of everything that may touch the database
    RequestMetricsMiddleware        times all below, the probes included
    ProbeMiddleware                 /healthz, /readyz, /metrics: answered here, before sessions
    ...                             sessions, auth, the active profile, axes, CSP ...
"""

from __future__ import annotations

import logging
import sys
import time

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import connections
from django.db.utils import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import get_template
from django.urls import Resolver404, resolve
from django.utils.cache import add_never_cache_headers

from api.errors import exception_handler, is_api_path

from .metrics import REQUEST_DURATION

log = logging.getLogger(__name__)

# --- Database outage -> 503 ------------------------------------------------------------------

_FLAG = "_ops_database_unavailable"
_FALLBACK_PAGE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Back in a moment</title></head>"
    "<body><h1>Back in a moment</h1><p>Marquee is unavailable for a moment. Please try again shortly.</p>"
    "</body></html>"
)


def is_database_unavailable(exc: BaseException | None) -> bool:
    """The database cannot be used right now: connection refused or lost, too many clients,
    a statement cancelled, SQLite's "database is locked" or an unreadable file. Django wraps
    the driver's errors in its own classes; a raw driver error (raised outside that wrapper)
    counts as well."""
    if exc is None:
        return False
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    for alias in connections:
        driver = connections[alias].Database
        if isinstance(exc, driver.OperationalError | driver.InterfaceError):
            return True
    return False


def retry_after() -> int:
    return int(getattr(settings, "DATABASE_UNAVAILABLE_RETRY_AFTER", 30))


def unavailable_response(request) -> HttpResponse:
    """503 with Retry-After: JSON under /api/, a page that needs nothing from the database
    (rendered without a request, so no context processor runs) everywhere else."""
    if is_api_path(request.path):
        response: HttpResponse = JsonResponse(
            {"detail": "The service is unavailable for a moment. Please try again shortly."}, status=503
        )
    else:
        try:
            page = get_template("503.html").render()
        except Exception:  # the page of last resort must not fail on a template problem
            log.exception("503.html could not be rendered")
            page = _FALLBACK_PAGE
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(retry_after())
    add_never_cache_headers(response)
    return response


def _note_exception(sender, request=None, **kwargs) -> None:
    """got_request_exception: remember on the request that the database was the cause.

    Django turns an exception raised in a middleware into a 500 response at that level, so
    the outer middleware never sees the exception itself; this signal (sent while it is being
    handled, so sys.exc_info() holds it) is how it learns."""
    if request is not None and is_database_unavailable(sys.exc_info()[1]):
        setattr(request, _FLAG, True)


got_request_exception.connect(_note_exception, dispatch_uid="ops.middleware.database_unavailable")


class DatabaseUnavailableMiddleware:
    """A database outage answers 503 + Retry-After, on pages and the API alike, never a 500.

    Two paths: an exception in a view (including a DRF view: see `api_exception_handler`)
    reaches `process_exception`; one raised by a middleware below (sessions, auth, the active
    profile, axes) is flagged by `_note_exception`, and the 500 it became is replaced here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, _FLAG, False):
            response.close()
            return unavailable_response(request)
        return response

    def process_exception(self, request, exception):
        if is_database_unavailable(exception):
            log.warning("database unavailable (%s) answering %s", type(exception).__name__, request.path)
            return unavailable_response(request)
        return None


def api_exception_handler(exc, context):
    """The API's exception handler (api.errors), except that a database outage is re-raised
    (None) to reach DatabaseUnavailableMiddleware: the API's handler would make it a 500."""
    if is_database_unavailable(exc):
        return None
    return exception_handler(exc, context)


# --- Probes ------------------------------------------------------------------------------------

PROBE_PATHS = frozenset({"/healthz", "/healthz/", "/readyz", "/readyz/", "/metrics", "/metrics/"})


class ProbeMiddleware:
    """Answers the probe paths itself, before sessions, authentication, the active profile,
    axes, CSRF and CSP: a probe touches no session row or user, even when a browser sends a
    cookie along, and so `/healthz` stays 200 through a database outage.

    The host is still validated (ALLOWED_HOSTS): a load balancer must send a Host the site
    answers to. The views come from the URLconf, so reverse() and the view names in the
    latency metric are the usual ones.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info not in PROBE_PATHS:
            return self.get_response(request)
        request.get_host()  # DisallowedHost -> 400, as for any other path
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        request.resolver_match = match
        return match.func(request, *match.args, **match.kwargs)


# --- Request latency -----------------------------------------------------------------------

_SCRAPE_PATHS = frozenset({"/metrics", "/metrics/"})
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetricsMiddleware:
    """`marquee_http_request_duration_seconds{view, method, status}` for every request except
    the scrape itself. Labels are bounded: the URL pattern's name (never the path, which holds
    ids), a known method or "other", and the status class."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.perf_counter()
        response = self.get_response(request)
        if request.path_info not in _SCRAPE_PATHS:
            match = getattr(request, "resolver_match", None)
            view = (match.view_name if match is not None else "") or "unresolved"
            method = request.method if request.method in _METHODS else "other"
            REQUEST_DURATION.labels(view=view, method=method, status=f"{response.status_code // 100}xx").observe(
                time.perf_counter() - start
            )
        return response
