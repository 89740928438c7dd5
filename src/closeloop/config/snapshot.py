"""The whole configuration as one read-only snapshot, read once by an action or a page and passed down.

Each part is an app's own view of its configuration rows (closeloop.org.stamp): the snapshot costs one
read of the configuration stamp, and a part is rebuilt only when the configuration changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from closeloop.alerts.models import Rule
from closeloop.alerts.rulebook import configured_rules
from closeloop.config.tiers import configured_tiers
from closeloop.feedback.catalog import Catalog
from closeloop.notify.endpoints import active_endpoints
from closeloop.notify.models import WebhookEndpoint
from closeloop.org.directory import Directory, directory
from closeloop.org.stamp import stored_token


@dataclass(frozen=True)
class Snapshot:
    token: str | None
    directory: Directory
    catalog: Catalog
    rules: tuple[Rule, ...]
    endpoints: tuple[WebhookEndpoint, ...]
    tiers: Mapping[str, str]  # configured customer tiers by their case-folded name (core.tiers)


def current() -> Snapshot:
    """The configuration as this connection sees it now."""
    token = stored_token()
    return Snapshot(
        token=token,
        directory=directory(token),
        catalog=Catalog.load(token),
        rules=configured_rules(token),
        endpoints=active_endpoints(token),
        tiers=configured_tiers(token),
    )
