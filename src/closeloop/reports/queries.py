"""The loop report read from the database: the summary the pages, the API and the summaries show (added up
from reports.tallies), the weekly counts of its chart, the status-to-status durations, and every case of a
selection as closeloop.core.metrics' facts, the definition the tallies are tested against.

What is selected is reports.selection's: valid, current responses of the days `date_from`..`date_to` (both
included, in the organisation's time zone), in a unit's subtree when one is given; alerts and cases are
those of these responses. Units are reported by the unit each response belongs to.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from closeloop.cases.models import Case, CaseEvent
from closeloop.core.metrics import (
    CONTACT_WINDOWS,
    CaseFacts,
    CaseTally,
    ContactTimes,
    LoopSummary,
    hours_between_status_times,
)
from closeloop.feedback.models import Response
from closeloop.org.directory import current_organization, directory
from closeloop.org.models import Unit
from closeloop.reports.selection import case_answers, cases_of, selected_responses
from closeloop.reports.tallies import day_runs, report_tallies, responsible, stored_tallies, sum_tallies, summary_of

__all__ = ["selected_responses"]  # the selection, for the pages and scripts that show or measure it


def _status_times(cases: QuerySet[Case]) -> dict[int, dict[str, datetime]]:
    """When each case first entered each of its statuses: the first at opening, the others from its events."""
    times = {
        pk: ({statuses[0]: opened_at} if statuses else {})
        for pk, statuses, opened_at in cases.values_list("id", "statuses", "opened_at")
    }
    changes = (
        CaseEvent.objects.filter(
            case__in=cases.values("id"),
            type__in=[CaseEvent.Type.STATUS, CaseEvent.Type.CLOSED, CaseEvent.Type.REOPENED],
        )
        .order_by("at", "id")
        .values_list("case_id", "at", "data")
    )
    for case_id, at, data in changes:
        if isinstance(data, dict) and data.get("to"):
            times[case_id].setdefault(str(data["to"]), at)
    return times


def case_facts(responses: QuerySet[Response]) -> list[CaseFacts]:
    """Every case of the selection as CaseFacts (from narrow rows: no JSON but the statuses is decoded). The
    reports add up tallies instead (reports.tallies); this is the reference they are tested against."""
    cases = cases_of(responses)
    answers = {pk: answer for pk, (answer, _, _) in case_answers(cases).items()}
    status_times = _status_times(cases)
    tree = directory().tree
    rows = cases.values_list(
        "id",
        "unit__code",
        "category",
        "opened_at",
        "due_at",
        "contacted_at",
        "closed_at",
        "resolution",
        "root_cause",
        "owner__key",
        named=True,
    )
    return [
        CaseFacts(
            unit=row.unit__code,
            category=row.category,
            opened_at=row.opened_at,
            due_at=row.due_at,
            first_contact_at=row.contacted_at,
            closed_at=row.closed_at,
            resolution=row.resolution,
            followup_answer=answers.get(row.id),
            followup_asked=row.id in answers,
            status_times=status_times[row.id],
            root_cause=row.root_cause or None,
            responsible=responsible(tree, row.unit__code, row.owner__key),
        )
        for row in rows
    ]


def loop_summary_for(
    date_from: date,
    date_to: date,
    unit: Unit | None = None,
    *,
    units: QuerySet[Unit] | None = None,
    now: datetime | None = None,
    kind: str = "recovery",
) -> LoopSummary:
    """The loop summary of the selection, overall and per unit; `units` restricts it to what a viewer may see.
    `alerts_by_category` shares the alerts of `kind` (by default the recovery alerts, which need action)."""
    summary = summary_of(report_tallies(date_from, date_to, unit, units=units), now or timezone.now(), kind)
    return replace(summary, unit=unit.code) if unit is not None else summary


def case_tally_for(
    date_from: date,
    date_to: date,
    unit: Unit | None = None,
    *,
    units: QuerySet[Unit] | None = None,
    now: datetime | None = None,
) -> CaseTally:
    """The counts behind `loop_summary_for`'s case figures (closed, resolved, answered, recovered...) for the
    same selection, all units together: where a report shows how many, not only which share."""
    by_unit, _ = sum_tallies(report_tallies(date_from, date_to, unit, units=units)).case_tallies(now or timezone.now())
    return sum(by_unit.values(), CaseTally())


def hours_between_statuses_for(
    date_from: date,
    date_to: date,
    from_status: str,
    to_status: str,
    unit: Unit | None = None,
    *,
    units: QuerySet[Unit] | None = None,
) -> float | None:
    """Median hours from entering `from_status` to entering `to_status`, over the selection's cases."""
    times = _status_times(cases_of(selected_responses(date_from, date_to, unit, units=units)))
    return hours_between_status_times(times.values(), from_status, to_status)


def needing_recovery_by_week(
    date_from: date, date_to: date, unit: Unit | None = None, *, units: QuerySet[Unit] | None = None
) -> list[tuple[date, int]]:
    """(Monday of the week, responses needing recovery) for each week with any, oldest first: from the stored
    tallies of clean days, counted from the responses for the others."""
    zone_name = current_organization().time_zone
    zone = ZoneInfo(zone_name)
    weeks: Counter[date] = Counter()
    for first, last, clean in day_runs(date_from, date_to, zone_name):
        if clean:
            stored = stored_tallies(first, last, unit, units=units).filter(needing__gt=0)
            for day, n in stored.order_by().values_list("day").annotate(n=Sum("needing")):
                weeks[day - timedelta(days=day.weekday())] += n
            continue
        rows = (
            selected_responses(first, last, unit, units=units)
            .filter(needs_recovery=True)
            .annotate(week=TruncWeek("submitted_at", tzinfo=zone))
            .values("week")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            week = row["week"].date() if isinstance(row["week"], datetime) else row["week"]
            weeks[week] += row["n"]
    return sorted((week, n) for week, n in weeks.items() if n)


def contact_to_dict(contact: ContactTimes | None) -> dict[str, Any] | None:
    if contact is None:
        return None
    return {
        "cases": contact.cases,
        "contacted": contact.contacted,
        **{f"within_{hours}h_percent": contact.within_hours.get(hours) for hours in CONTACT_WINDOWS},
        "median_hours": contact.median_hours,
        "p90_hours": contact.p90_hours,
    }


def summary_to_dict(summary: LoopSummary, *, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The summary as the API sends it: plain JSON values, units nested under `by_unit`; people by config id
    with their names (`names`: key -> name)."""
    names = names if names is not None else {key: person.name for key, person in directory().people.items()}
    data = asdict(summary)
    data["by_unit"] = [summary_to_dict(unit, names=names) for unit in summary.by_unit]
    data["root_causes"] = [
        {"root_cause": share.category, "count": share.count, "percent": share.percent} for share in summary.root_causes
    ]
    data["first_contact"] = contact_to_dict(summary.contact)
    data.pop("contact", None)
    data["by_person"] = [
        {"person": row.person, "name": names.get(row.person, row.person), "first_contact": contact_to_dict(row.contact)}
        for row in summary.by_person
    ]
    return data
