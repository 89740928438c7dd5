"""Apply a configuration file: compare it with the database and write the difference.

Each section is turned into rows keyed by the file's stable ids, compared field by field
with what is stored, and the resulting plan is written inside one transaction. Entries
missing from the file are deleted, except rows that history points at: people and
surveys are deactivated, units are kept and reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models, transaction

from closeloop.alerts.models import Rule
from closeloop.cases.models import CaseTemplate, EscalationPolicy
from closeloop.core.durations import parse_duration
from closeloop.feedback.models import Question, Survey
from closeloop.notify.models import WebhookEndpoint
from closeloop.org.config.validate import Config, ConfigInvalid, load_config
from closeloop.org.models import Calendar, Organization, Person, Role, Segment, Unit
from closeloop.org.snapshot import stamp
from closeloop.reports.models import Digest

__all__ = ["Change", "ConfigInvalid", "Plan", "apply_config"]

# Rows the configuration owns; a reference from any other table is history.
CONFIG_MODELS: tuple[type[models.Model], ...] = (
    Organization,
    Calendar,
    Unit,
    Segment,
    Person,
    Role,
    Survey,
    Question,
    Rule,
    CaseTemplate,
    EscalationPolicy,
    Digest,
    WebhookEndpoint,
)
ORGANIZATION_KEY = "organization"

Rows = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Change:
    section: str
    key: str
    action: str  # added | changed | removed | deactivated | kept
    fields: tuple[str, ...] = ()
    reason: str = ""

    def line(self) -> str:
        text = f"{self.section}: {self.action} {self.key}"
        if self.fields:
            text += f" ({', '.join(self.fields)})"
        if self.reason:
            text += f" ({self.reason})"
        return text


@dataclass
class Plan:
    """What applying the file does (or did): one Change per entry that differs."""

    changes: list[Change] = field(default_factory=list)
    dry_run: bool = False

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
        return lines


def apply_config(text: str, *, dry_run: bool = False) -> Plan:
    """Validate the YAML text and write it; raises ConfigInvalid (with .problems) and writes nothing if bad."""
    config = load_config(text)
    with transaction.atomic():
        # Every difference is measured against the database as it was, before any write,
        # so the dry run and the real run print the same plan.
        sections = _sections(config)
        planned = [(section, _diff(section, section.desired, section.read())) for section in sections]
        plan = Plan(changes=[change for _, changes in planned for change in changes], dry_run=dry_run)
        if not dry_run:
            for section, changes in planned:
                if changes:
                    section.write(changes)
            if plan.changes:
                # Bulk writes send no signals: tell every process its configuration snapshot is stale.
                stamp()
        return plan


def has_history(row: models.Model) -> str:
    """What outside the configuration points at the row ("responses", "alerts", ...), or ""."""
    # Hidden relations count too: Response.agent points at Person with related_name="+".
    for relation in row._meta.get_fields(include_hidden=True):
        if not isinstance(relation, models.ForeignObjectRel) or relation.many_to_many:
            continue
        related = relation.related_model
        if related in CONFIG_MODELS:
            continue
        if related._default_manager.filter(**{relation.field.name: row}).exists():
            return str(related._meta.verbose_name_plural)
    return ""


@dataclass
class _Section:
    """One section of the file: its rows as the file wants them, and how to read and write them."""

    name: str
    desired: Rows
    read: Callable[[], Rows]
    save: Callable[[str, dict[str, Any]], None]
    remove: Callable[[str], Change | None]
    delete: Callable[[str], None]
    finish: Callable[[list[Change]], None] = lambda changes: None

    def write(self, changes: list[Change]) -> None:
        for change in changes:
            if change.action in ("added", "changed"):
                self.save(change.key, self.desired[change.key])
        # Removed rows go last and deepest first (units), so nothing still points at them.
        for change in reversed(changes):
            if change.action in ("removed", "deactivated"):
                self.delete(change.key)
        self.finish(changes)


def _diff(section: _Section, desired: Rows, current: Rows) -> list[Change]:
    changes: list[Change] = []
    for key, values in desired.items():
        if key not in current:
            changes.append(Change(section.name, key, "added"))
            continue
        differing = tuple(name for name, value in values.items() if current[key].get(name) != value)
        if differing:
            changes.append(Change(section.name, key, "changed", differing))
    for key in current:
        if key not in desired:
            removal = section.remove(key)
            if removal is not None:
                changes.append(removal)
    return changes


def _sections(config: Config) -> list[_Section]:
    return [
        _organization(config),
        _keyed(
            "calendars",
            Calendar,
            {
                name: {
                    "days": list(spec.days),
                    "start": _clock(spec.start),
                    "end": _clock(spec.end),
                    "holidays": spec.holidays or "",
                }
                for name, spec in config.organization.calendars.items()
            },
        ),
        _units(config),
        _keyed("segments", Segment, {code: {"position": i} for i, code in enumerate(config.segments)}, "code"),
        _people(config),
        _surveys(config),
        _keyed(
            "escalation_policies",
            EscalationPolicy,
            {
                policy.key: {
                    "steps": [
                        {"when": step.when, "notify": list(step.notify)}
                        | ({"after": _seconds(step.after)} if step.after is not None else {})
                        for step in policy.steps
                    ]
                }
                for policy in config.escalation_policies
            },
        ),
        _keyed(
            "case_templates",
            CaseTemplate,
            {
                template.key: {
                    "category": template.category,
                    "statuses": list(template.statuses),
                    "team": {"managers": list(template.team.managers), "members": list(template.team.members)},
                    "sla": {
                        tier: {"severity": goal.severity, "closure_goal": _seconds(goal.closure_goal)}
                        for tier, goal in template.sla.items()
                    },
                    "calendar": template.calendar or "",
                    "notify_on": list(template.notify_on),
                    "escalation": template.escalation or "",
                }
                for template in config.case_templates
            },
        ),
        _rules(config),
        _keyed(
            "digests",
            Digest,
            {
                digest.key: {
                    "units": list(digest.units),
                    "at": _clock(digest.at),
                    "window": parse_duration(digest.window),
                    "to": list(digest.to),
                    "sms": digest.sms,
                    "email_pdf": digest.email_pdf,
                    "weekend_sms": digest.weekend_sms,
                    "when_empty": digest.when_empty,
                }
                for digest in config.digests
            },
        ),
        _keyed(
            "webhooks",
            WebhookEndpoint,
            {
                hook.key: {
                    "url": hook.url,
                    "secret": hook.secret,
                    "kinds": list(hook.kinds),
                    "units": list(hook.units),
                    "active": True,
                }
                for hook in config.webhooks
            },
        ),
    ]


def _clock(text: str) -> time:
    return time.fromisoformat(text)


def _seconds(text: str) -> int:
    return int(parse_duration(text).total_seconds())


def _keyed(name: str, model: type[models.Model], desired: Rows, key_field: str = "key") -> _Section:
    """A section whose rows are plain fields under a unique key, deleted when left out."""
    fields = sorted({f for values in desired.values() for f in values})

    def read() -> Rows:
        return {row[key_field]: row for row in model._default_manager.order_by("pk").values(key_field, *fields)}

    def save(key: str, values: dict[str, Any]) -> None:
        model._default_manager.update_or_create(**{key_field: key}, defaults=values)

    def delete(key: str) -> None:
        model._default_manager.filter(**{key_field: key}).delete()

    return _Section(name, desired, read, save, lambda key: Change(name, key, "removed"), delete)


def _organization(config: Config) -> _Section:
    spec = config.organization
    follow_up = config.follow_up
    desired = {
        ORGANIZATION_KEY: {
            "name": spec.name,
            "time_zone": spec.time_zone,
            "ticket_url": spec.ticket_url,
            "recovery_threshold": spec.recovery_threshold,
            "repeat_window": parse_duration(spec.repeat_window),
            "follow_up_after": parse_duration(follow_up.after_close) if follow_up else None,
            "follow_up_survey": follow_up.survey if follow_up else "",
        }
    }
    fields = list(desired[ORGANIZATION_KEY])

    def read() -> Rows:
        row = Organization.objects.filter(pk=1).values(*fields).first()
        return {ORGANIZATION_KEY: row} if row else {}

    def save(key: str, values: dict[str, Any]) -> None:
        Organization.objects.update_or_create(pk=1, defaults=values)

    # The organisation is always in the file, so there is never anything to remove.
    return _Section("organization", desired, read, save, lambda key: None, lambda key: None)


def _units(config: Config) -> _Section:
    desired = {
        place.spec.code: {
            "name": place.spec.name,
            "parent": place.parent,
            "path": place.path,
            "depth": place.depth,
            "position": place.position,
            "time_zone": place.spec.time_zone or "",
            "calendar": place.spec.calendar,
        }
        for place in config.units
    }
    kept: dict[str, str] = {}

    def read() -> Rows:
        rows = Unit.objects.order_by("path", "code").values(
            "code", "name", "parent__code", "path", "depth", "position", "time_zone", "calendar__key"
        )
        return {
            row["code"]: {
                "name": row["name"],
                "parent": row["parent__code"],
                "path": row["path"],
                "depth": row["depth"],
                "position": row["position"],
                "time_zone": row["time_zone"],
                "calendar": row["calendar__key"],
            }
            for row in rows
        }

    def remove(code: str) -> Change | None:
        unit = Unit.objects.get(code=code)
        history = has_history(unit) or _history_below(unit, set(desired))
        if history:
            kept[code] = history
            return Change("units", code, "kept", reason=f"has {history}")
        return Change("units", code, "removed")

    def save(code: str, values: dict[str, Any]) -> None:
        # Parents come first in the file's order, so the parent row is already written.
        parent = Unit.objects.get(code=values["parent"]) if values["parent"] else None
        calendar = Calendar.objects.get(key=values["calendar"]) if values["calendar"] else None
        Unit.objects.update_or_create(
            code=code,
            defaults={**values, "parent": parent, "calendar": calendar},
        )

    def delete(code: str) -> None:
        Unit.objects.filter(code=code).delete()

    def finish(changes: list[Change]) -> None:
        # A kept unit stays under its parent; re-derive its path in case an ancestor moved.
        for unit in Unit.objects.filter(code__in=kept).select_related("parent").order_by("depth"):
            parent = Unit.objects.filter(pk=unit.parent_id).first()
            path = f"{parent.path if parent else '/'}{unit.code}/"
            depth = parent.depth + 1 if parent else 0
            if (unit.path, unit.depth) != (path, depth):
                Unit.objects.filter(pk=unit.pk).update(path=path, depth=depth)

    return _Section("units", desired, read, save, remove, delete, finish)


def _history_below(unit: Unit, staying: set[str]) -> str:
    """A removed unit with a kept unit below it must stay too, or the kept one would lose its parent."""
    for child in Unit.objects.filter(parent=unit).exclude(code__in=staying):
        if has_history(child) or _history_below(child, staying):
            return "history below it"
    return ""


def _people(config: Config) -> _Section:
    desired = {
        person.id: {
            "name": person.name,
            "email": person.email,
            "phone": person.phone,
            "chat_url": person.chat or "",
            "login": person.login,
            "active": True,
            "roles": sorted({(role.unit, role.role) for role in person.roles}),
            "account": _account(person.login, any(role.role == "admin" for role in person.roles)),
        }
        for person in config.people
    }

    def read() -> Rows:
        roles: dict[int, set[tuple[str, str]]] = {}
        for person_id, unit, role in Role.objects.values_list("person_id", "unit__code", "role"):
            roles.setdefault(person_id, set()).add((unit, role))
        rows: Rows = {}
        for person in Person.objects.select_related("user").order_by("pk"):
            user = person.user
            rows[person.key] = {
                "name": person.name,
                "email": person.email,
                "phone": person.phone,
                "chat_url": person.chat_url,
                "login": person.login,
                "active": person.active,
                "roles": sorted(roles.get(person.pk, ())),
                "account": _account(bool(user and user.is_active), bool(user and user.is_staff)),
            }
        return rows

    def remove(key: str) -> Change | None:
        person = Person.objects.get(key=key)
        if not person.active and not person.roles.exists():
            return None
        if has_history(person):
            return Change("people", key, "deactivated", reason="has history")
        return Change("people", key, "removed")

    def save(key: str, values: dict[str, Any]) -> None:
        fields = {name: values[name] for name in ("name", "email", "phone", "chat_url", "login", "active")}
        person, _ = Person.objects.update_or_create(key=key, defaults=fields)
        units = {unit.code: unit for unit in Unit.objects.filter(code__in={unit for unit, _ in values["roles"]})}
        wanted = {(units[unit].pk, role) for unit, role in values["roles"]}
        existing = {(row.unit_id, row.role): row for row in person.roles.all()}
        for pair, row in existing.items():
            if pair not in wanted:
                row.delete()
        Role.objects.bulk_create(
            [Role(person=person, unit_id=unit_id, role=role) for unit_id, role in sorted(wanted - set(existing))]
        )
        _sync_account(person, values["account"])

    def delete(key: str) -> None:
        person = Person.objects.get(key=key)
        _sync_account(person, None)
        if has_history(person):
            person.roles.all().delete()
            person.active = False
            person.save(update_fields=["active"])
        else:
            person.delete()

    return _Section("people", desired, read, save, remove, delete)


def _account(login: bool, staff: bool) -> str | None:
    """The user account a person should have: None, "user", or "staff" (may use the admin site)."""
    if not login:
        return None
    return "staff" if staff else "user"


def _sync_account(person: Person, account: str | None) -> None:
    user = person.user
    if account is None:
        # No login any more: the account stays (it may be referenced) but cannot sign in.
        if user is not None and user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
        return
    if user is None:
        user_model = get_user_model()
        user = user_model._default_manager.filter(username=person.key).first()
        if user is None:
            # No password here: it is set through the UI or `closeloop changepassword`.
            user = user_model(username=person.key, email=person.email, first_name=person.name[:150])
            user.set_unusable_password()
    user.is_active = True
    user.is_staff = account == "staff" or user.is_superuser
    user.save()
    if person.user_id != user.pk:
        person.user = user
        person.save(update_fields=["user"])


def _surveys(config: Config) -> _Section:
    desired = {
        entry.spec.key: {
            "name": entry.spec.name,
            "overall": entry.spec.overall or "",
            "position": position,
            "active": True,
            "questions": [
                {
                    "key": q.key,
                    "type": q.type,
                    "label": q.label,
                    "min": q.min,
                    "max": q.max,
                    "options": list(q.options),
                }
                for q in entry.questions
            ],
        }
        for position, entry in enumerate(config.surveys)
    }
    question_fields = ("key", "type", "label", "min", "max", "options")

    def read() -> Rows:
        questions: dict[int, list[dict[str, Any]]] = {}
        for row in Question.objects.order_by("survey_id", "position", "pk").values("survey_id", *question_fields):
            questions.setdefault(row.pop("survey_id"), []).append(row)
        return {
            survey.key: {
                "name": survey.name,
                "overall": survey.overall,
                "position": survey.position,
                "active": survey.active,
                "questions": questions.get(survey.pk, []),
            }
            for survey in Survey.objects.order_by("pk")
        }

    def remove(key: str) -> Change | None:
        survey = Survey.objects.get(key=key)
        if has_history(survey):
            return Change("surveys", key, "deactivated", reason="has responses") if survey.active else None
        return Change("surveys", key, "removed")

    def save(key: str, values: dict[str, Any]) -> None:
        survey, _ = Survey.objects.update_or_create(
            key=key, defaults={name: values[name] for name in ("name", "overall", "position", "active")}
        )
        wanted = [q["key"] for q in values["questions"]]
        survey.questions.exclude(key__in=wanted).delete()
        for position, question in enumerate(values["questions"]):
            Question.objects.update_or_create(
                survey=survey, key=question["key"], defaults={**question, "position": position}
            )

    def delete(key: str) -> None:
        survey = Survey.objects.get(key=key)
        if has_history(survey):
            survey.active = False
            survey.save(update_fields=["active"])
        else:
            survey.delete()

    return _Section("surveys", desired, read, save, remove, delete)


def _rules(config: Config) -> _Section:
    desired = {
        rule.key: {
            "name": rule.name,
            "kind": rule.kind,
            "survey": rule.survey,
            "when": rule.when,
            "category": rule.category,
            "severity": rule.severity,
            "notify": rule.notify.stored(),
            "open_case": rule.open_case or "",
            "position": position,
        }
        for position, rule in enumerate(config.rules)
    }
    fields = ("name", "kind", "when", "category", "severity", "notify", "open_case", "position")

    def read() -> Rows:
        return {
            row.pop("key"): {**row, "survey": row.pop("survey__key")}
            for row in Rule.objects.order_by("pk").values("key", "survey__key", *fields)
        }

    def save(key: str, values: dict[str, Any]) -> None:
        survey = Survey.objects.get(key=values["survey"]) if values["survey"] else None
        Rule.objects.update_or_create(key=key, defaults={**values, "survey": survey})

    def delete(key: str) -> None:
        # Alerts keep the rule's key, so deleting the rule loses no history.
        Rule.objects.filter(key=key).delete()

    return _Section("rules", desired, read, save, lambda key: Change("rules", key, "removed"), delete)
