"""What a new case copies from its template: statuses, team, tier SLA, calendar and escalation steps.

A recovery alert whose rule names no template still gets a case, from the built-in default template.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from closeloop.cases.models import CaseTemplate, EscalationPolicy
from closeloop.core.escalation import Step
from closeloop.core.sla import WEEKDAY_NAMES, BusinessCalendar, add_working_time, calendar_for_case
from closeloop.core.vocabulary import DEFAULT_ROOT_CAUSES
from closeloop.org.directory import directory
from closeloop.org.models import Calendar, Unit
from closeloop.org.stamp import cached_view

log = logging.getLogger(__name__)

DEFAULT_TEMPLATE_KEY = "default"


@dataclass(frozen=True)
class TemplateSpec:
    key: str
    category: str | None  # None: the alert's category
    statuses: tuple[str, ...]
    team: Mapping[str, Sequence[Any]]
    root_causes: tuple[str, ...] = DEFAULT_ROOT_CAUSES
    sla: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    calendar: str = ""
    notify_on: tuple[str, ...] = ()
    steps: tuple[Mapping[str, Any], ...] = ()
    contacted_statuses: tuple[str, ...] = ()
    auto_close_on_recovered: bool = False


DEFAULT_TEMPLATE = TemplateSpec(
    key=DEFAULT_TEMPLATE_KEY,
    category=None,
    statuses=("Open", "Closed"),
    team={"managers": ["unit_leads"], "members": ["unit_members"]},
)


def load_template(key: str | None) -> TemplateSpec:
    """The stored template called `key` with its escalation steps, or the built-in default."""
    row = CaseTemplate.objects.filter(key=key).first() if key else None
    if row is None:
        return DEFAULT_TEMPLATE
    policy = EscalationPolicy.objects.filter(key=row.escalation).first() if row.escalation else None
    return TemplateSpec(
        key=row.key,
        category=row.category,
        statuses=tuple(row.statuses),
        team=row.team or {},
        root_causes=tuple(row.root_causes or DEFAULT_ROOT_CAUSES),
        sla=row.sla or {},
        calendar=row.calendar or "",
        notify_on=tuple(row.notify_on or ()),
        steps=tuple(policy.steps) if policy else (),
        contacted_statuses=tuple(row.contacted_statuses or ()),
        auto_close_on_recovered=row.auto_close_on_recovered,
    )


def _calendar_rows() -> dict[str, Calendar]:
    return {row.key: row for row in Calendar.objects.all()}


def case_calendar_key(template_calendar: str, unit: Unit) -> str:
    """The calendar a case of `unit` counts in: the unit's own (inherited), else the template's; "" for none."""
    unit_calendar = directory().calendar_of(directory().units.get(unit.code, unit))
    return calendar_for_case(unit_calendar.key if unit_calendar else None, template_calendar or None) or ""


def root_causes_of(case_template_key: str) -> tuple[str, ...]:
    """The root causes a case of this template can be closed with (the template's current list)."""
    return root_causes_by_template([case_template_key])[case_template_key]


def root_causes_by_template(keys: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """`root_causes_of` for many templates in one query; a key without a stored template gets the default."""
    wanted = set(keys)
    stored = dict(CaseTemplate.objects.filter(key__in=wanted).values_list("key", "root_causes"))
    return {key: tuple(stored.get(key) or DEFAULT_ROOT_CAUSES) for key in wanted}


def business_calendar(key: str, unit: Unit) -> BusinessCalendar | None:
    """The named calendar read in the unit's time zone; None (wall-clock time) without a name."""
    if not key:
        return None
    # Read on every escalation decision: a per-process view, rebuilt when the configuration changes.
    row = cached_view("cases.calendars", _calendar_rows).get(key)
    if row is None:
        # The config loader rejects unknown calendars; if one vanished since, a case must still open
        # (the ingest that opens it must not fail), so its goal counts in wall-clock time.
        log.warning("case template calendar %r does not exist; counting the closure goal in wall-clock time", key)
        return None
    return BusinessCalendar(
        days=frozenset(WEEKDAY_NAMES.index(day.lower()) for day in row.days),
        start=row.start,
        end=row.end,
        holidays_country=row.holidays or None,
        time_zone=directory().time_zone_of(unit),
    )


def due_at(opened_at: datetime, goal: timedelta, calendar_key: str, unit: Unit) -> datetime:
    """`goal` after the opening, in working time of the calendar `calendar_key` (see `case_calendar_key`)."""
    return add_working_time(opened_at, goal, business_calendar(calendar_key, unit))


def steps_from_snapshot(snapshot: Sequence[Mapping[str, Any]]) -> list[Step]:
    """The case's copied policy steps as the pure core's Steps; the index is the position in the policy."""
    return [
        Step(
            index=index,
            when=step["when"],
            after=timedelta(seconds=step["after"]) if step.get("after") is not None else None,
            notify=tuple(step.get("notify") or ()),
        )
        for index, step in enumerate(snapshot)
    ]
