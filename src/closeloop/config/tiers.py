"""The customer tiers the configuration names: the case templates' `sla` entries and the rules'
`{customer: {tier: ...}}` conditions, from the per-process configuration views."""

from __future__ import annotations

from closeloop.alerts.models import Rule
from closeloop.cases.models import CaseTemplate
from closeloop.core.tiers import tier_index, tiers_in_condition
from closeloop.org.stamp import cached_view


def _build() -> dict[str, str]:
    # Templates first: their spelling is the one the SLA lookup keys on.
    names: list[str] = []
    for sla in CaseTemplate.objects.order_by("pk").values_list("sla", flat=True):
        names.extend(sla or {})
    for when in Rule.objects.order_by("position", "key").values_list("when", flat=True):
        names.extend(tiers_in_condition(when))
    return tier_index(names)


def configured_tiers(token: str | None = None) -> dict[str, str]:
    """Configured tier names by their case-folded form (shared and read-only)."""
    return cached_view("config.tiers", _build, token)
