"""The active webhook endpoints, from the per-process configuration views."""

from __future__ import annotations

from closeloop.notify.models import WebhookEndpoint
from closeloop.org.stamp import cached_view


def _build() -> tuple[WebhookEndpoint, ...]:
    return tuple(WebhookEndpoint.objects.filter(active=True))


def active_endpoints(token: str | None = None) -> tuple[WebhookEndpoint, ...]:
    """Every active endpoint as stored now (shared and read-only)."""
    return cached_view("notify.endpoints", _build, token)
