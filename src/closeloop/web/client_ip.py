"""The client's address, as far as this server can know it (login throttling, metrics access).

Without proxies, REMOTE_ADDR. Behind TRUSTED_PROXY_COUNT reverse proxies, each appends the address
it received the request from to X-Forwarded-For, so the client is that many entries from the
right; anything further left was written by the client and cannot be trusted.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def forwarded_for(request: HttpRequest) -> list[str]:
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return [part.strip() for part in header.split(",") if part.strip()]


def client_ip(request: HttpRequest) -> str:
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count:
        forwarded = forwarded_for(request)
        if len(forwarded) >= count:
            return forwarded[-count]
    return str(request.META.get("REMOTE_ADDR", ""))


def came_through_a_proxy(request: HttpRequest) -> bool:
    return bool(request.META.get("HTTP_X_FORWARDED_FOR") or request.META.get("HTTP_FORWARDED"))
