"""What every configuration section shares: rows keyed by the file's stable ids, the diff, and
how a section says it reads and writes its rows.

Each section module (`closeloop.config.sections.*`) builds its desired rows from the validated file,
reads the stored rows, and knows how to write the difference and how to export the stored rows
back as YAML data. Entries missing from the file are deleted, except rows that history points at.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any, TypeVar

from django.db import models

from closeloop.alerts.models import Rule
from closeloop.cases.models import CaseTemplate, EscalationPolicy
from closeloop.core.durations import format_duration, parse_duration
from closeloop.feedback.models import Question, Survey
from closeloop.intake.models import Source
from closeloop.notify.models import WebhookEndpoint
from closeloop.org.models import Calendar, Organization, Person, Role, Segment, Unit
from closeloop.reports.models import Digest, Summary

T = TypeVar("T")

Rows = dict[str, dict[str, Any]]

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
    Summary,
    WebhookEndpoint,
    Source,
)


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
class Section:
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


def diff(section: Section, desired: Rows, current: Rows) -> list[Change]:
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
        for chunk in chunks([pk for pk in pks if pk not in found]):
            # A foreign key may point at another unique column than the primary key.
            pk_of = dict(model._default_manager.filter(pk__in=chunk).values_list(target, "pk"))
            referenced = related._default_manager.filter(**{f"{field}__in": list(pk_of)})
            for value in referenced.values_list(field, flat=True).distinct():
                found.setdefault(pk_of[value], what)
    return found


def chunks(items: Sequence[T], size: int = 500) -> Iterator[Sequence[T]]:
    """Slices small enough for one IN list on every database (SQLite limits how deep a query may nest)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def keyed(name: str, model: type[models.Model], desired: Rows, key_field: str = "key") -> Section:
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
        for chunk in chunks([change.key for change in changes]):
            model._default_manager.filter(**{f"{key_field}__in": chunk}).delete()

    return Section(name, desired, read, save, remove, delete)


def clock(text: str) -> time:
    """A file's "HH:MM" as a stored time."""
    return time.fromisoformat(text)


def seconds(text: str) -> int:
    """A file's duration ("24h") as stored seconds."""
    return int(parse_duration(text).total_seconds())


def number_out(value: float) -> int | float:
    """A stored number as a person writes it: 6, not 6.0."""
    return int(value) if float(value).is_integer() else value


def clock_out(value: time) -> str:
    return value.strftime("%H:%M")


def duration_out(value: timedelta | int) -> str:
    return format_duration(value)
