"""Apply a configuration file: compare it with the database and write the difference.

Each section is turned into rows keyed by the file's stable ids, compared field by field
with what is stored, and the resulting plan is written inside one transaction. Entries
missing from the file are deleted, except rows that history points at: people and
surveys are deactivated, units are kept and reported.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Any, TypeVar

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
T = TypeVar("T")

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


def rows_with_history(model: type[models.Model], pks: Collection[int]) -> dict[int, str]:
    """For each of these rows that anything outside the configuration points at, what does
    ("responses", "alerts", "deliveries", ...): those rows are history and must stay."""
    found: dict[int, str] = {}
    # Hidden relations count too: Response.agent points at Person with related_name="+".
    for relation in model._meta.get_fields(include_hidden=True):
        if not isinstance(relation, models.ForeignObjectRel) or relation.many_to_many:
            continue
        related = relation.related_model
        if related in CONFIG_MODELS:
            continue
        field = relation.field.name
        target = relation.field.target_field.attname
        what = str(related._meta.verbose_name_plural)
        for chunk in _chunks([pk for pk in pks if pk not in found]):
            # A foreign key may point at another unique column than the primary key.
            pk_of = dict(model._default_manager.filter(pk__in=chunk).values_list(target, "pk"))
            referenced = related._default_manager.filter(**{f"{field}__in": list(pk_of)})
            for value in referenced.values_list(field, flat=True).distinct():
                found.setdefault(pk_of[value], what)
    return found


def _chunks(items: Sequence[T], size: int = 500) -> Iterator[Sequence[T]]:
    """Slices small enough for one IN list on every database (SQLite limits how deep a query may nest)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _Section:
    """One section of the file: its rows as the file wants them, and how to read and write them."""

    name: str
    desired: Rows
    read: Callable[[], Rows]
    # Writes the rows of these keys (in file order); the set holds those that are new.
    save: Callable[[list[str], set[str]], None]
    # What happens to stored keys missing from the file: removed, deactivated, kept or nothing.
    remove: Callable[[list[str]], list[Change]]
    # Carries out the removals and deactivations.
    delete: Callable[[list[Change]], None]
    finish: Callable[[list[Change]], None] = lambda changes: None

    def write(self, changes: list[Change]) -> None:
        keys = [change.key for change in changes if change.action in ("added", "changed")]
        if keys:
            self.save(keys, {change.key for change in changes if change.action == "added"})
        gone = [change for change in changes if change.action in ("removed", "deactivated")]
        if gone:
            self.delete(gone)
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
    missing = [key for key in current if key not in desired]
    if missing:
        changes += section.remove(missing)
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

    def save(keys: list[str], added: set[str]) -> None:
        model._default_manager.bulk_create([model(**{key_field: key}, **desired[key]) for key in keys if key in added])
        for key in keys:
            if key not in added:
                model._default_manager.filter(**{key_field: key}).update(**desired[key])

    def remove(keys: list[str]) -> list[Change]:
        return [Change(name, key, "removed") for key in keys]

    def delete(changes: list[Change]) -> None:
        for chunk in _chunks([change.key for change in changes]):
            model._default_manager.filter(**{f"{key_field}__in": chunk}).delete()

    return _Section(name, desired, read, save, remove, delete)


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
            "segment_required": spec.segment_required,
            "threshold_unless": spec.threshold_unless,
            "follow_up_after": parse_duration(follow_up.after_close) if follow_up else None,
            "follow_up_survey": follow_up.survey if follow_up else "",
        }
    }
    fields = list(desired[ORGANIZATION_KEY])

    def read() -> Rows:
        row = Organization.objects.filter(pk=1).values(*fields).first()
        return {ORGANIZATION_KEY: row} if row else {}

    def save(keys: list[str], added: set[str]) -> None:
        Organization.objects.update_or_create(pk=1, defaults=desired[ORGANIZATION_KEY])

    # The organisation is always in the file, so there is never anything to remove.
    return _Section("organization", desired, read, save, lambda keys: [], lambda changes: None)


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

    def remove(codes: list[str]) -> list[Change]:
        rows = {code: (pk, path) for code, pk, path in Unit.objects.values_list("code", "pk", "path") if code in codes}
        history = rows_with_history(Unit, [pk for pk, _ in rows.values()])
        for code, (pk, _) in rows.items():
            if pk in history:
                kept[code] = f"has {history[pk]}"
        # A removed unit above a kept one stays too, or the kept one would lose its parent.
        kept_paths = [rows[code][1] for code in kept]
        for code, (_, path) in rows.items():
            if code not in kept and any(below.startswith(path) for below in kept_paths):
                kept[code] = "has history below it"
        return [
            Change("units", code, "kept", reason=kept[code]) if code in kept else Change("units", code, "removed")
            for code in codes
        ]

    def save(codes: list[str], added: set[str]) -> None:
        calendars = dict(Calendar.objects.values_list("key", "pk"))

        def row(code: str, pks: dict[str, int]) -> dict[str, Any]:
            values = dict(desired[code])
            parent, calendar = values.pop("parent"), values.pop("calendar")
            return {**values, "parent_id": pks[parent] if parent else None, "calendar_id": calendars.get(calendar)}

        # New units go in one insert per tree level, so every parent has its id before its children.
        pks = dict(Unit.objects.values_list("code", "pk"))
        for depth in sorted({desired[code]["depth"] for code in added}):
            level = [code for code in codes if code in added and desired[code]["depth"] == depth]
            Unit.objects.bulk_create([Unit(code=code, **row(code, pks)) for code in level])
            pks = dict(Unit.objects.values_list("code", "pk"))
        for code in codes:
            if code not in added:
                Unit.objects.filter(code=code).update(**row(code, pks))

    def delete(changes: list[Change]) -> None:
        depths = dict(Unit.objects.values_list("code", "depth"))
        codes = [change.key for change in changes]
        # Deepest first: a unit's parent is protected while the unit exists.
        for depth in sorted({depths[code] for code in codes}, reverse=True):
            for chunk in _chunks([code for code in codes if depths[code] == depth]):
                Unit.objects.filter(code__in=chunk).delete()

    def finish(changes: list[Change]) -> None:
        # A kept unit stays under its parent; re-derive its path in case an ancestor moved.
        for unit in Unit.objects.filter(code__in=kept).select_related("parent").order_by("depth"):
            parent = Unit.objects.filter(pk=unit.parent_id).first()
            path = f"{parent.path if parent else '/'}{unit.code}/"
            depth = parent.depth + 1 if parent else 0
            if (unit.path, unit.depth) != (path, depth):
                Unit.objects.filter(pk=unit.pk).update(path=path, depth=depth)

    return _Section("units", desired, read, save, remove, delete, finish)


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

    def remove(keys: list[str]) -> list[Change]:
        wanted = set(keys)
        rows = {
            key: (pk, active) for key, pk, active in Person.objects.values_list("key", "pk", "active") if key in wanted
        }
        with_roles = set(Role.objects.values_list("person_id", flat=True).distinct())
        history = rows_with_history(Person, [pk for pk, _ in rows.values()])
        changes = []
        for key in keys:
            pk, active = rows[key]
            if pk not in history:
                changes.append(Change("people", key, "removed"))
            elif active or pk in with_roles:
                changes.append(Change("people", key, "deactivated", reason="has history"))
            # Otherwise the person was deactivated by an earlier apply: nothing left to do.
        return changes

    person_fields = ("name", "email", "phone", "chat_url", "login", "active")

    def save(keys: list[str], added: set[str]) -> None:
        fields = {key: {name: desired[key][name] for name in person_fields} for key in keys}
        Person.objects.bulk_create([Person(key=key, **fields[key]) for key in keys if key in added])
        for key in keys:
            if key not in added:
                Person.objects.filter(key=key).update(**fields[key])
        people = dict(Person.objects.values_list("key", "pk"))
        units = dict(Unit.objects.values_list("code", "pk"))
        touched = {people[key] for key in keys}
        wanted = {(people[key], units[unit], role) for key in keys for unit, role in desired[key]["roles"]}
        existing: dict[tuple[int, int, str], int] = {}
        for pk, person_id, unit_id, role in Role.objects.values_list("pk", "person_id", "unit_id", "role"):
            if person_id in touched:
                existing[(person_id, unit_id, role)] = pk
        stale = [pk for triple, pk in existing.items() if triple not in wanted]
        for start in range(0, len(stale), 500):
            Role.objects.filter(pk__in=stale[start : start + 500]).delete()
        Role.objects.bulk_create(
            [Role(person_id=p, unit_id=u, role=r) for p, u, r in sorted(wanted - set(existing))], batch_size=500
        )
        for key in keys:
            # A new person without a login has no account to look after.
            if desired[key]["account"] is not None or key not in added:
                _sync_account(Person.objects.select_related("user").get(key=key), desired[key]["account"])

    def delete(changes: list[Change]) -> None:
        pks = dict(Person.objects.values_list("key", "pk"))
        for action in ("deactivated", "removed"):
            for chunk in _chunks([pks[change.key] for change in changes if change.action == action]):
                # No login any more: the account stays (it may be referenced) but cannot sign in.
                get_user_model()._default_manager.filter(person__in=chunk, is_active=True).update(is_active=False)
                if action == "deactivated":
                    Role.objects.filter(person__in=chunk).delete()
                    Person.objects.filter(pk__in=chunk).update(active=False)
                else:
                    Person.objects.filter(pk__in=chunk).delete()

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

    def remove(keys: list[str]) -> list[Change]:
        rows = {key: (pk, active) for key, pk, active in Survey.objects.values_list("key", "pk", "active")}
        history = rows_with_history(Survey, [rows[key][0] for key in keys])
        changes = []
        for key in keys:
            pk, active = rows[key]
            if pk not in history:
                changes.append(Change("surveys", key, "removed"))
            elif active:
                changes.append(Change("surveys", key, "deactivated", reason=f"has {history[pk]}"))
        return changes

    def save(keys: list[str], added: set[str]) -> None:
        # Surveys are few and small: one at a time, questions upserted by key.
        for key in keys:
            values = desired[key]
            survey, _ = Survey.objects.update_or_create(
                key=key, defaults={name: values[name] for name in ("name", "overall", "position", "active")}
            )
            survey.questions.exclude(key__in=[q["key"] for q in values["questions"]]).delete()
            for position, question in enumerate(values["questions"]):
                Question.objects.update_or_create(
                    survey=survey, key=question["key"], defaults={**question, "position": position}
                )

    def delete(changes: list[Change]) -> None:
        for change in changes:
            surveys = Survey.objects.filter(key=change.key)
            if change.action == "deactivated":
                surveys.update(active=False)
            else:
                surveys.delete()

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

    def save(keys: list[str], added: set[str]) -> None:
        surveys = dict(Survey.objects.values_list("key", "pk"))
        for key in keys:
            values = dict(desired[key])
            survey = values.pop("survey")
            Rule.objects.update_or_create(key=key, defaults={**values, "survey_id": surveys.get(survey)})

    def remove(keys: list[str]) -> list[Change]:
        return [Change("rules", key, "removed") for key in keys]

    def delete(changes: list[Change]) -> None:
        # Alerts keep the rule's key, so deleting the rule loses no history.
        Rule.objects.filter(key__in=[change.key for change in changes]).delete()

    return _Section("rules", desired, read, save, remove, delete)
