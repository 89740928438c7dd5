"""The configured detection rules, in file order, from the per-process configuration views."""

from __future__ import annotations

from closeloop.alerts.models import Rule
from closeloop.org.stamp import cached_view


def _build() -> tuple[Rule, ...]:
    return tuple(Rule.objects.select_related("survey").order_by("position", "key"))


def configured_rules(token: str | None = None) -> tuple[Rule, ...]:
    """Every rule as stored now (shared and read-only)."""
    return cached_view("alerts.rules", _build, token)
