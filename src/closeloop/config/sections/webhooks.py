"""The `webhooks` section: signed endpoints that subscribe to alerts (by kind) and case events, by unit."""

from __future__ import annotations

from typing import Any

from closeloop.config.sections.base import Section, keyed
from closeloop.config.validate import Config
from closeloop.notify.models import WebhookEndpoint


def section(config: Config) -> Section:
    return keyed(
        "webhooks",
        WebhookEndpoint,
        {
            hook.key: {
                "url": hook.url,
                "secret": hook.secret,
                "kinds": list(hook.kinds),
                "units": list(hook.units),
                "events": list(hook.events),
                "active": True,
            }
            for hook in config.webhooks
        },
    )


def export() -> list[dict[str, Any]]:
    hooks = []
    for hook in WebhookEndpoint.objects.order_by("pk"):
        data: dict[str, Any] = {"key": hook.key, "url": hook.url, "secret": hook.secret}
        if hook.kinds:
            data["kinds"] = list(hook.kinds)
        if hook.units:
            data["units"] = list(hook.units)
        if hook.events:
            data["events"] = list(hook.events)
        hooks.append(data)
    return hooks
