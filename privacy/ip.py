"""IP minimization for django-axes (login lockout): store a truncated address, never a full one.

Wire it with `AXES_CLIENT_IP_CALLABLE = "privacy.ip.client_ip_truncated"`: the lockout then
works per /24 (IPv4) or /48 (IPv6) network, which still stops password guessing from one
place, and the attempt tables never hold an address that identifies one household.
"""

import ipaddress

from django.conf import settings

IPV4_PREFIX = 24
IPV6_PREFIX = 48


def truncate_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        ip = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def client_ip_truncated(request) -> str | None:
    """The client's network. Behind TRUSTED_PROXY_COUNT proxies, the address they saw."""
    address = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            address = hops[-proxies]
    return truncate_ip(address)
