"""Facts for the loop report, read from the database and handed to closeloop.core.metrics.

The selection is the valid, current responses submitted on the days `date_from`..`date_to` (both
included, in the organisation's time zone), in a unit's subtree when one is given; alerts and cases
are those of these responses. Units are reported by the unit each response belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from closeloop.alerts.models import Alert
from closeloop.cases.models import Case, CaseEvent
from closeloop.core.metrics import (
    CONTACT_WINDOWS,
    CaseFacts,
    ContactTimes,
    LoopSummary,
    UnitActivity,
    hours_between_statuses,
    loop_summary,
)
from closeloop.feedback.models import Response
from closeloop.feedback.queries import in_unit_subtree, local_day_bounds
from closeloop.loop.services import follow_up_answers
from closeloop.org.directory import current_organization, directory
from closeloop.org.models import Unit


def selected_responses(
    date_from: date, date_to: date, unit: Unit | None = None, *, units: QuerySet[Unit] | None = None
) -> QuerySet[Response]:
    """The report's responses; `units` (a visibility restriction) None means every unit."""
    zone = current_organization().time_zone
    start = local_day_bounds(date_from, zone)[0]
    end = local_day_bounds(date_to, zone)[1]
    responses = Response.objects.filter(
        status=Response.Status.VALID,
        superseded_by__isnull=True,
        unit__isnull=False,
        submitted_at__gte=start,
        submitted_at__lt=end,
    )
    if unit is not None:
        responses = in_unit_subtree(responses, unit)
    if units is not None:
        responses = responses.filter(unit__in=units)
    return responses


def _activity(responses: QuerySet[Response], kind: str = "recovery") -> list[UnitActivity]:
    """Counts per unit; `alert_categories` are those of the alerts of `kind` (recovery: the alerts that need
    action), praise and watch alerts are counted on their own (praise also by category, for its own panel)."""
    categories: dict[str, list[str]] = {}
    praise: dict[str, list[str]] = {}
    watch: dict[str, list[str]] = {}
    alerts = Alert.objects.filter(response__in=responses).values_list("response__unit__code", "kind", "category")
    for code, alert_kind, category in alerts:
        if alert_kind == kind:
            categories.setdefault(code, []).append(category)
        if alert_kind == "praise":
            praise.setdefault(code, []).append(category)
        elif alert_kind == "watch":
            watch.setdefault(code, []).append(category)
    rows = (
        responses.values("unit__code")
        .annotate(total=Count("id"), needing=Count("id", filter=Q(needs_recovery=True)))
        .order_by("unit__code")
    )
    return [
        UnitActivity(
            unit=row["unit__code"],
            responses=row["total"],
            needing_recovery=row["needing"],
            alert_categories=tuple(categories.get(row["unit__code"], ())),
            praise_count=len(praise.get(row["unit__code"], ())),
            praise_categories=tuple(praise.get(row["unit__code"], ())),
            watch_categories=tuple(watch.get(row["unit__code"], ())),
        )
        for row in rows
    ]


def _follow_up_answers(cases: list[Case]) -> dict[int, bool | None]:
    """The customer's answer to `resolved` in the first follow-up survey after each closed case.

    A follow-up counts as asked when the customer answered it: the survey tool that sends it is outside.
    """
    organization = current_organization()
    closed = [case for case in cases if case.closed_at is not None and case.response.customer_id]
    if not organization.follow_up_survey or not closed:
        return {}
    by_customer: dict[int, list[tuple[datetime, Any]]] = {}
    follow_ups = Response.objects.filter(
        survey__key=organization.follow_up_survey,
        superseded_by__isnull=True,
        customer_id__in={case.response.customer_id for case in closed},
        submitted_at__gte=min(case.closed_at for case in closed),  # type: ignore[type-var]
    ).order_by("submitted_at")
    for answered_by, submitted_at, answers in follow_ups.values_list("customer_id", "submitted_at", "answers"):
        if answered_by is not None:
            by_customer.setdefault(answered_by, []).append((submitted_at, (answers or {}).get("resolved")))
    found: dict[int, bool | None] = {}
    for case in closed:
        closed_at, customer_id = case.closed_at, case.response.customer_id
        if closed_at is None or customer_id is None:
            continue
        for submitted_at, answer in by_customer.get(customer_id, []):
            if submitted_at >= closed_at:
                found[case.pk] = answer if isinstance(answer, bool) else None
                break
    return found


def _status_times(cases: list[Case]) -> dict[int, dict[str, datetime]]:
    """When each case first entered each of its statuses: the first at opening, the others from its events."""
    times = {case.pk: ({case.statuses[0]: case.opened_at} if case.statuses else {}) for case in cases}
    changes = (
        CaseEvent.objects.filter(
            case__in=[case.pk for case in cases],
            type__in=[CaseEvent.Type.STATUS, CaseEvent.Type.CLOSED, CaseEvent.Type.REOPENED],
        )
        .order_by("at", "id")
        .values_list("case_id", "at", "data")
    )
    for case_id, at, data in changes:
        if isinstance(data, dict) and data.get("to"):
            times[case_id].setdefault(str(data["to"]), at)
    return times


def _case_facts(responses: QuerySet[Response]) -> list[CaseFacts]:
    cases = list(Case.objects.filter(response__in=responses).select_related("unit", "response", "owner"))
    # Follow-ups this system sent know their case exactly; a sent one counts as asked even while unanswered.
    answers = _follow_up_answers(cases) | follow_up_answers([case.pk for case in cases])
    status_times = _status_times(cases)
    tree = directory().tree
    return [
        CaseFacts(
            unit=case.unit.code,
            category=case.category,
            opened_at=case.opened_at,
            due_at=case.due_at,
            first_contact_at=case.contacted_at,
            closed_at=case.closed_at,
            resolution=case.resolution,
            followup_answer=answers.get(case.pk),
            followup_asked=case.pk in answers,
            status_times=status_times[case.pk],
            root_cause=case.root_cause or None,
            responsible=case.owner.key if case.owner is not None else next(iter(tree.leads_of(case.unit.code)), None),
        )
        for case in cases
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
    responses = selected_responses(date_from, date_to, unit, units=units)
    summary = loop_summary(_activity(responses, kind), _case_facts(responses), now or timezone.now())
    return replace(summary, unit=unit.code) if unit is not None else summary


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
    facts = _case_facts(selected_responses(date_from, date_to, unit, units=units))
    return hours_between_statuses(facts, from_status, to_status)


def needing_recovery_by_week(
    date_from: date, date_to: date, unit: Unit | None = None, *, units: QuerySet[Unit] | None = None
) -> list[tuple[date, int]]:
    """(Monday of the week, responses needing recovery) for each week with any, oldest first."""
    zone = ZoneInfo(current_organization().time_zone)
    rows = (
        selected_responses(date_from, date_to, unit, units=units)
        .filter(needs_recovery=True)
        .annotate(week=TruncWeek("submitted_at", tzinfo=zone))
        .values("week")
        .annotate(n=Count("id"))
        .order_by("week")
    )
    return [(row["week"].date() if isinstance(row["week"], datetime) else row["week"], row["n"]) for row in rows]


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
