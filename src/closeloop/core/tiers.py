"""Customer tiers as the configuration spells them. Pure.

A survey tool may send `gold` where the case templates' `sla` and the rules' `{customer: {tier: Gold}}`
say `Gold`. Rules always compared tiers case-insensitively while the SLA lookup did not, so an urgent
VIP alert could open a case with the Bronze goal. A tier is therefore put into the configured spelling
once, when the response arrives, and every reader after that sees the same word.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# The catch-all entry of a case template's `sla`: not a tier a customer can have.
DEFAULT_SLA_ENTRY = "default"


def tier_key(tier: str) -> str:
    return tier.strip().casefold()


def tier_index(names: Iterable[str]) -> dict[str, str]:
    """Configured tier names by their case-folded form; the first spelling of a name wins."""
    index: dict[str, str] = {}
    for name in names:
        if name and name != DEFAULT_SLA_ENTRY:
            index.setdefault(tier_key(name), name)
    return index


@dataclass(frozen=True)
class TierReading:
    tier: str
    problem: str | None  # "customer.tier: unknown tier 'Platinum'", or None


def read_tier(sent: str, index: Mapping[str, str]) -> TierReading:
    """The configured spelling of `sent`; an unknown tier is kept as sent, with a problem to list.

    Without any configured tier there is nothing to compare with, so every tier is kept silently.
    """
    if not sent or not index:
        return TierReading(sent, None)
    known = index.get(tier_key(sent))
    if known is None:
        return TierReading(sent, f"customer.tier: unknown tier {sent!r}")
    return TierReading(known, None)


def tiers_in_condition(tree: object) -> list[str]:
    """The tiers a condition tree names in its `{customer: {tier: ...}}` leaves, in order."""
    found: list[str] = []
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            if key == "customer" and isinstance(value, Mapping):
                tiers = value.get("tier")
                listed = tiers if isinstance(tiers, list | tuple) else [tiers]
                found.extend(str(tier) for tier in listed if isinstance(tier, str))
            else:
                found.extend(tiers_in_condition(value))
    elif isinstance(tree, list | tuple):
        for child in tree:
            found.extend(tiers_in_condition(child))
    return found
