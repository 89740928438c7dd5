"""Apply a configuration file: compare it with the database and write the difference.

Each section (closeloop.config.sections) turns its part of the file into rows keyed by the file's
stable ids; they are compared field by field with what is stored, and the resulting plan is written
inside one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from closeloop.cases.handover import hand_over_open_cases
from closeloop.config.sections import (
    case_templates,
    digests,
    escalation_policies,
    organization,
    people,
    rules,
    segments,
    sources,
    summaries,
    surveys,
    text_model,
    units,
    webhooks,
)
from closeloop.config.sections.base import CONFIG_MODELS, Change, Section, diff
from closeloop.config.validate import Config, ConfigInvalid, load_config
from closeloop.org.models import ConfigChange, Person, Role, Unit
from closeloop.org.stamp import stamp

__all__ = ["CONFIG_MODELS", "Change", "ConfigInvalid", "Drift", "Plan", "apply_config", "drift"]


@dataclass
class Plan:
    """What applying the file does (or did): one Change per entry that differs."""

    changes: list[Change] = field(default_factory=list)
    dry_run: bool = False
    # Open cases whose team changed because their unit's people did (written only by a real run).
    handed_over: int = 0

    @property
    def is_empty(self) -> bool:
        # A kept unit is a note, not a change: applying the same file again must say "no changes".
        return all(change.action == "kept" for change in self.changes)

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)

    def lines(self) -> list[str]:
        lines = [change.line() for change in self.changes if change.action != "kept"]
        if self.is_empty:
            lines.append("no changes")
        lines += [change.line() for change in self.changes if change.action == "kept"]
        if not self.is_empty:
            counts = [f"{self.count(a)} {a}" for a in ("added", "changed", "removed", "deactivated") if self.count(a)]
            lines.append(", ".join(counts) + (" (dry run: nothing was written)" if self.dry_run else ""))
        if self.handed_over:
            lines.append(f"cases: {self.handed_over} open case{'s' if self.handed_over != 1 else ''} got a new team")
        return lines


def apply_config(
    text: str,
    *,
    dry_run: bool = False,
    source: str = ConfigChange.Source.FILE,
    actor: Person | None = None,
    actor_name: str = "",
    summary: str = "",
    now: datetime | None = None,
) -> Plan:
    """Validate the YAML text and write it; raises ConfigInvalid (with .problems) and writes nothing if bad.

    A plan that changed something is logged as a ConfigChange (who, when, `source`, the plan's lines) in the
    same transaction, so the log never names a change that was not made.
    """
    config = load_config(text)
    with transaction.atomic():
        # Every difference is measured against the database as it was, before any write,
        # so the dry run and the real run print the same plan.
        sections = _sections(config)
        planned = [(section, diff(section, section.desired, section.read())) for section in sections]
        plan = Plan(changes=[change for _, changes in planned for change in changes], dry_run=dry_run)
        if not dry_run:
            people_before = _people_of_units()
            for section, changes in planned:
                if changes:
                    section.write(changes)
            if plan.changes:
                # Bulk writes send no signals: tell every process its configuration snapshot is stale.
                stamp()
                # The open cases of units whose people changed get their new team in the same transaction.
                moved = _changed_units(people_before, _people_of_units())
                plan.handed_over = hand_over_open_cases(moved, now=timezone.now())
            if not plan.is_empty:
                log_change(plan, source=source, actor=actor, actor_name=actor_name, summary=summary, now=now)
        return plan


# Per unit code: its path and who holds which role there (active people only).
UnitPeople = dict[str, tuple[str, frozenset[tuple[str, str]]]]


def _people_of_units() -> UnitPeople:
    roles: dict[str, set[tuple[str, str]]] = {}
    for code, role, person in Role.objects.filter(person__active=True).values_list("unit__code", "role", "person__key"):
        roles.setdefault(code, set()).add((role, person))
    return {code: (path, frozenset(roles.get(code, ()))) for code, path in Unit.objects.values_list("code", "path")}


def _changed_units(before: UnitPeople, after: UnitPeople) -> set[str]:
    """Units whose people or place in the tree differ (new units have no cases yet)."""
    return {code for code, facts in after.items() if code in before and before[code] != facts}


def log_change(
    plan: Plan,
    *,
    source: str,
    actor: Person | None,
    actor_name: str = "",
    summary: str = "",
    now: datetime | None = None,
) -> ConfigChange:
    made = [change for change in plan.changes if change.action != "kept"]
    return ConfigChange.objects.create(
        at=now or timezone.now(),
        source=source,
        actor=actor,
        actor_name=actor_name or (actor.name if actor is not None else ""),
        summary=summary,
        lines=[change.line() for change in made],
        changes=[{"section": c.section, "key": c.key, "action": c.action, "fields": list(c.fields)} for c in made],
    )


def changes_since_file(*, before: datetime | None = None) -> list[ConfigChange]:
    """Changes made in the settings pages since the configuration file was last applied, oldest first."""
    last_file = ConfigChange.objects.filter(source=ConfigChange.Source.FILE).order_by("-at", "-id").first()
    made = ConfigChange.objects.filter(source=ConfigChange.Source.SETTINGS)
    if last_file is not None:
        made = made.filter(Q(at__gt=last_file.at) | Q(at=last_file.at, id__gt=last_file.pk))
    if before is not None:
        made = made.filter(at__lte=before)
    return list(made.order_by("at", "id"))


@dataclass(frozen=True)
class Drift:
    """A change made in the settings pages that applying a file would undo, and the plan lines that undo it."""

    change: ConfigChange
    overwritten: tuple[str, ...]


def drift(plan: Plan) -> list[Drift]:
    """The settings changes since the last file apply that `plan` would overwrite: those touching an entry
    (section and key) the plan changes again. A file that already says what the settings page set is no drift."""
    touched = {(c.section, c.key): c.line() for c in plan.changes if c.action != "kept"}
    found = []
    for change in changes_since_file():
        lines = tuple(
            dict.fromkeys(
                touched[(entry["section"], entry["key"])]
                for entry in change.changes
                if (entry.get("section"), entry.get("key")) in touched
            )
        )
        if lines:
            found.append(Drift(change, lines))
    return found


def _sections(config: Config) -> list[Section]:
    """Every section, in the order they are written: a row is written after the rows it refers to."""
    return [
        organization.section(config),
        organization.calendars_section(config),
        units.section(config),
        segments.section(config),
        people.section(config),
        surveys.section(config),
        escalation_policies.section(config),
        case_templates.section(config),
        rules.section(config),
        text_model.section(config),
        digests.section(config),
        summaries.section(config),
        webhooks.section(config),
        sources.section(config),
    ]
