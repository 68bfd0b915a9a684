"""The probe endpoints: /healthz (alive), /readyz (able to serve), /metrics (Prometheus).

Plain Django views, not DRF: no authentication, no throttles, and no session either
(`ops.middleware.ProbeMiddleware` answers them before the session stack).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import health, metrics

log = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request):
    """Liveness: the process answers. Touches nothing (no database, no cache)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    """Readiness: 200 when every required check passes, else 503 with Retry-After."""
    ready, checks = health.readiness()
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    response = JsonResponse(body, status=200 if ready else 503)
    if not ready:
        response["Retry-After"] = str(int(getattr(settings, "READINESS_RETRY_AFTER", 10)))
    return response


def _networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    nets = []
    for raw in getattr(settings, "METRICS_ALLOWED_NETWORKS", []):
        try:
            nets.append(ipaddress.ip_network(str(raw).strip(), strict=False))
        except ValueError:
            log.warning("METRICS_ALLOWED_NETWORKS: %r is not a network; ignored", raw)
    return nets


_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP", "HTTP_X_FORWARDED_HOST")


def metrics_allowed(request) -> bool:
    """From an allow-listed network (the direct peer, REMOTE_ADDR: X-Forwarded-For is the
    client's to write) or with `Authorization: Bearer <METRICS_TOKEN>` when a token is set."""
    token = getattr(settings, "METRICS_TOKEN", "") or ""
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True
    if any(h in request.META for h in _PROXY_HEADERS):
        # Came through a proxy: REMOTE_ADDR is the proxy's (often 127.0.0.1 beside gunicorn),
        # not the client's, so the network says nothing about who asks. Only the token counts.
        return False
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
        peer = peer.ipv4_mapped
    return any(peer in net for net in _networks())


@never_cache
@require_safe
def metrics_view(request):
    """Prometheus text format. Anyone else gets the site's 404: the endpoint is not advertised."""
    if not metrics_allowed(request):
        raise Http404
    return HttpResponse(metrics.render(), content_type="text/plain; version=0.0.4; charset=utf-8")
