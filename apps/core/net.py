"""The client's address, behind the reverse proxies the operator trusts, and the request border.

``TRUSTED_PROXIES`` (``DJANGO_TRUSTED_PROXIES``: addresses or networks, comma separated) names
the reverse proxies in front of daphne. A request from one of them is taken to come from the
right-most address in ``X-Forwarded-For`` that is not itself a trusted proxy; a request from
anyone else is taken from its connection address, whatever headers it sends (a client cannot
choose its own address by sending ``X-Forwarded-For``). :class:`ClientAddressMiddleware` puts
the result in ``REMOTE_ADDR`` (the connection's own address stays in ``XS_PEER_ADDR``), so the
audit trail, the rate limits (``RATELIMIT_IP_META_KEY``) and the login lockout (django-axes)
all key on the same address.
"""
from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext as _

#: Stand-in when a request carries no usable address (e.g. a Unix socket without proxy headers).
UNKNOWN_ADDRESS = "0.0.0.0"


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(s.strip(), strict=False) for s in spec if s.strip())


def _ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not text:
        return None
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(ip, networks) -> bool:
    return any(ip.version == n.version and ip in n for n in networks)


def resolve_client_address(remote_addr: str | None, forwarded_for: str | None) -> str | None:
    """The client's address from the connection's address and its ``X-Forwarded-For`` header."""
    peer = _ip(remote_addr)
    if peer is None:
        return None
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    if not networks or not forwarded_for or not _trusted(peer, networks):
        return str(peer)
    client = peer
    for hop in reversed(forwarded_for.split(",")):
        ip = _ip(hop)
        if ip is None:
            break  # a hop we cannot read: stop at the last one we could
        client = ip
        if not _trusted(ip, networks):
            break
    return str(client)


def client_address(request) -> str:
    """The client's address as resolved by :class:`ClientAddressMiddleware` (or the connection's)."""
    return request.META.get("REMOTE_ADDR") or UNKNOWN_ADDRESS


def ratelimit_ip(request) -> str:
    """``RATELIMIT_IP_META_KEY``: django-ratelimit's ``key="ip"`` on the resolved address."""
    ip = _ip(request.META.get("REMOTE_ADDR"))
    return str(ip) if ip is not None else UNKNOWN_ADDRESS


class ClientAddressMiddleware:
    """Put the client's address (see module docstring) in ``REMOTE_ADDR``; first in the chain."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        meta["XS_PEER_ADDR"] = meta.get("REMOTE_ADDR", "")
        resolved = resolve_client_address(meta.get("REMOTE_ADDR"), meta.get("HTTP_X_FORWARDED_FOR"))
        meta["REMOTE_ADDR"] = resolved or UNKNOWN_ADDRESS
        return self.get_response(request)


class RequestBorderMiddleware:
    """Refuse a NUL character in the query string with a 400: no database text column takes it,
    and no filter or id needs it. (JSON bodies are checked by the serializers' char fields.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in k or any("\x00" in v for v in vs) for k, vs in request.GET.lists()):
            return JsonResponse({"detail": _("请求参数中含有不允许的空字符（NUL）。")}, status=400)
        return self.get_response(request)
