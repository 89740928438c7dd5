"""Who hears about an alert: notify selectors resolved against the organisation tree. Pure.

Selectors (CONTRACT.md, `notify.to` and escalation `notify`):
`unit_leads`, `unit_also_alerts`, `unit_members`, `agent`, `{person: ID}`, `{level: N}`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from closeloop.core.vocabulary import DEFAULT_WEBHOOK_EVENTS

DEFAULT_CHANNELS: Mapping[str, tuple[str, ...]] = {
    "low": ("email",),
    "normal": ("email",),
    "high": ("email", "sms"),
    "urgent": ("email", "sms"),
}


@dataclass(frozen=True)
class OrgTree:
    """The parts of the organisation routing needs: parents and who holds which role where."""

    parents: Mapping[str, str | None]  # unit code -> parent code (None at the root)
    roles: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)  # (unit, role) -> person keys

    def holders(self, unit: str, role: str) -> tuple[str, ...]:
        return self.roles.get((unit, role), ())

    def ancestors(self, unit: str) -> list[str]:
        """Parent first, root last; stops on a cycle rather than looping."""
        chain, seen = [], {unit}
        parent = self.parents.get(unit)
        while parent is not None and parent not in seen:
            chain.append(parent)
            seen.add(parent)
            parent = self.parents.get(parent)
        return chain

    def everyone_in(self, unit: str) -> tuple[str, ...]:
        """Everyone holding any role on the unit itself (not below it), each once, sorted."""
        return tuple(sorted({key for (code, _), keys in self.roles.items() if code == unit for key in keys}))

    def leads_of(self, unit: str) -> tuple[str, ...]:
        """The unit's leads; a unit without a lead falls back to the nearest ancestor's, so no
        alert is left without an owner."""
        for code in [unit, *self.ancestors(unit)]:
            leads = self.holders(code, "lead")
            if leads:
                return leads
        return ()

    def leads_up(self, unit: str, levels: int) -> tuple[str, ...]:
        """Leads `levels` units above `unit` (0: the unit's own); climbing stops at the root."""
        if levels <= 0:
            return self.leads_of(unit)
        chain = self.ancestors(unit)
        if not chain:
            return ()
        return self.leads_of(chain[min(levels, len(chain)) - 1])


@dataclass(frozen=True)
class Recipient:
    person: str
    because: str  # which selector chose them, for the record


def resolve(selectors: Sequence[object], *, unit: str | None, agent: str | None, tree: OrgTree) -> list[Recipient]:
    """People chosen by `selectors` for a response in `unit` served by `agent`, each once, in selector order."""
    chosen: dict[str, Recipient] = {}

    def add(people: Sequence[str], because: str) -> None:
        for person in people:
            chosen.setdefault(person, Recipient(person, because))

    for selector in selectors:
        if selector == "unit_leads" and unit:
            add(tree.leads_of(unit), "unit_leads")
        elif selector == "unit_also_alerts" and unit:
            add(tree.holders(unit, "also_alert"), "unit_also_alerts")
        elif selector == "unit_members" and unit:
            add(tree.holders(unit, "member"), "unit_members")
        elif selector == "agent":
            # The person named on the response, and their lead: praise is shared upwards.
            if agent:
                add([agent], "agent")
            if unit:
                add(tree.leads_of(unit), "agent's lead")
        elif isinstance(selector, Mapping) and "person" in selector:
            add([str(selector["person"])], "person")
        elif isinstance(selector, Mapping) and "level" in selector and unit:
            level = int(selector["level"])
            add(tree.leads_up(unit, level), f"level {level}")
    return list(chosen.values())


def endpoint_wants(
    kinds: Sequence[str],
    units: Sequence[str],
    *,
    alert_kind: str,
    unit_path: Sequence[str],
    events: Sequence[str] = (),
) -> bool:
    """Whether a webhook endpoint subscribed to `kinds` (empty: all) in `units` (empty: everywhere, else
    those units' subtrees) receives an alert of `alert_kind` in the unit whose path is `unit_path`.

    `events` are the endpoint's subscriptions; empty means alerts only, as before subscriptions existed."""
    if not endpoint_wants_event(events, units, event="alert.created", unit_path=unit_path):
        return False
    return not kinds or alert_kind in kinds


def endpoint_wants_event(events: Sequence[str], units: Sequence[str], *, event: str, unit_path: Sequence[str]) -> bool:
    """Whether an endpoint subscribed to `events` (empty: `alert.created` only) in `units` (empty: everywhere,
    else those units' subtrees) receives `event` ("case.opened", ...) about the unit whose path is `unit_path`."""
    if event not in (events or DEFAULT_WEBHOOK_EVENTS):
        return False
    return not units or any(code in unit_path for code in units)


def channels_for(severity: str, channels: Mapping[str, Sequence[str]] | None) -> tuple[str, ...]:
    """The channels a severity uses; a severity missing from the rule falls back to the defaults."""
    if channels and severity in channels:
        return tuple(dict.fromkeys(channels[severity]))
    return DEFAULT_CHANNELS.get(severity, ("email",))


def praise_recipients(unit: str | None, tree: OrgTree) -> tuple[str, ...]:
    """Who a shared kudos reaches: everyone holding a role on the praised unit, the team it is for."""
    return tree.everyone_in(unit) if unit else ()
