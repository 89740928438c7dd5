"""Facts for the loop report, read from the database and handed to closeloop.core.metrics.

The selection is the valid, current responses submitted on the days `date_from`..`date_to` (both
included, in the organisation's time zone), in a unit's subtree when one is given; alerts and cases
are those of these responses. Units are reported by the unit each response belongs to.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import asdict, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Case as Case_
from django.db.models import Count, F, Q, QuerySet, Value, When
from django.db.models.functions import TruncWeek
from django.utils import timezone

from closeloop.alerts.models import Alert
from closeloop.cases.models import Case, CaseEvent
from closeloop.core.metrics import (
    CONTACT_WINDOWS,
    CaseFacts,
    CaseTally,
    ContactTally,
    ContactTimes,
    LoopSummary,
    UnitActivity,
    contact_delay,
    hours_between_status_times,
    loop_summary_from_tallies,
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
    action), praise and watch alerts are counted on their own (praise also by category, for its own panel).
    Alerts are counted per (unit, kind, category) in the database; UnitActivity lists one category per alert."""
    categories: dict[str, list[str]] = {}
    praise: dict[str, list[str]] = {}
    watch: dict[str, list[str]] = {}
    alerts = (
        Alert.objects.filter(response__in=responses)
        .order_by()
        .values_list("response__unit__code", "kind", "category")
        .annotate(n=Count("id"))
    )
    for code, alert_kind, category, n in alerts:
        if alert_kind == kind:
            categories.setdefault(code, []).extend([category] * n)
        if alert_kind == "praise":
            praise.setdefault(code, []).extend([category] * n)
        elif alert_kind == "watch":
            watch.setdefault(code, []).extend([category] * n)
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


def _cases_of(responses: QuerySet[Response]) -> QuerySet[Case]:
    # No default ordering: every query below groups or is read into a dict.
    return Case.objects.filter(response__in=responses).order_by()


def _follow_up_answers(closed: list[tuple[int, datetime, int | None]]) -> dict[int, bool | None]:
    """The customer's answer to `resolved` in the first follow-up survey after each closed case, from
    (case id, closed at, customer id) rows.

    A follow-up counts as asked when the customer answered it: the survey tool that sends it is outside.
    """
    organization = current_organization()
    closed = [row for row in closed if row[2] is not None]
    if not organization.follow_up_survey or not closed:
        return {}
    by_customer: dict[int, list[tuple[datetime, Any]]] = {}
    follow_ups = Response.objects.filter(
        survey__key=organization.follow_up_survey,
        superseded_by__isnull=True,
        customer_id__in={customer_id for _, _, customer_id in closed},
        submitted_at__gte=min(closed_at for _, closed_at, _ in closed),
    ).order_by("submitted_at")
    for answered_by, submitted_at, answers in follow_ups.values_list("customer_id", "submitted_at", "answers"):
        if answered_by is not None:
            by_customer.setdefault(answered_by, []).append((submitted_at, (answers or {}).get("resolved")))
    found: dict[int, bool | None] = {}
    for case_id, closed_at, customer_id in closed:
        for submitted_at, answer in by_customer.get(customer_id or -1, []):
            if submitted_at >= closed_at:
                found[case_id] = answer if isinstance(answer, bool) else None
                break
    return found


def _answers(cases: QuerySet[Case]) -> tuple[dict[int, bool | None], dict[int, str]]:
    """Follow-up answers per case (see `_follow_up_answers`; follow-ups this system sent know their case
    exactly, and a sent one counts as asked while unanswered), and the unit code of each case answered."""
    closed = []
    if current_organization().follow_up_survey:
        rows = cases.filter(closed_at__isnull=False)
        closed = list(rows.values_list("id", "unit__code", "closed_at", "response__customer_id"))
    answers = _follow_up_answers([(pk, at, customer) for pk, _, at, customer in closed if at]) | follow_up_answers(
        cases.values("id")
    )
    units = {pk: code for pk, code, _, _ in closed if pk in answers}
    if any(pk not in units for pk in answers):
        # Sent follow-ups of cases not read above: one join, not one parameter per case.
        units |= dict(cases.filter(follow_up__sent_at__isnull=False).values_list("id", "unit__code"))
    return answers, units


def _responsible(tree: Any, unit_code: str, owner_key: str | None) -> str | None:
    """Who answers for a case: its owner, else its unit's lead."""
    return owner_key if owner_key is not None else next(iter(tree.leads_of(unit_code)), None)


def case_tallies(responses: QuerySet[Response], now: datetime) -> tuple[dict[str, CaseTally], dict[str, ContactTally]]:
    """Case tallies per unit and contact tallies per responsible person, counted in the database: conditional
    counts grouped by (unit, owner), the two timestamps of each contacted case for the delays, root causes
    grouped, follow-up answers of the closed cases. core.metrics defines what the figures mean;
    tests/reports/test_report_queries.py checks that this agrees with `loop_summary` over `case_facts`."""
    cases = _cases_of(responses)
    tree = directory().tree
    waited = {
        f"waited_{hours}": Count("id", filter=Q(contacted_at__isnull=True, opened_at__lte=now - timedelta(hours=hours)))
        for hours in CONTACT_WINDOWS
    }
    # Closed cases are grouped by their root cause too (open ones under ""), which saves a query of its own.
    cause = Case_(When(closed_at__isnull=False, then=F("root_cause")), default=Value(""))
    groups = cases.values_list("unit__code", "owner__key", cause).annotate(
        n=Count("id"),
        closed=Count("id", filter=Q(closed_at__isnull=False)),
        resolved=Count("id", filter=Q(closed_at__isnull=False, resolution=Case.Resolution.RESOLVED)),
        goal_judged=Count("id", filter=Q(due_at__isnull=False) & (Q(closed_at__isnull=False) | Q(due_at__lte=now))),
        goal_met=Count("id", filter=Q(closed_at__isnull=False, due_at__isnull=False, closed_at__lte=F("due_at"))),
        **waited,
    )
    delays: dict[tuple[str, str | None], list[Decimal]] = defaultdict(list)
    contacted = cases.filter(contacted_at__isnull=False).values_list(
        "unit__code", "owner__key", "opened_at", "contacted_at"
    )
    for unit_code, owner_key, opened_at, contacted_at in contacted:
        if contacted_at is not None:
            delays[(unit_code, owner_key)].append(contact_delay(opened_at, contacted_at))
    root_causes: dict[str, Counter[str]] = defaultdict(Counter)
    answers, answer_units = _answers(cases)
    answered: Counter[str] = Counter()
    recovered: Counter[str] = Counter()
    for case_id, answer in answers.items():
        if answer is not None:
            answered[answer_units[case_id]] += 1
            recovered[answer_units[case_id]] += answer is True
    by_unit: dict[str, CaseTally] = {}
    by_person: dict[str, ContactTally] = {}
    for unit_code, owner_key, root_cause, n, closed, resolved, goal_judged, goal_met, *waits in groups:
        if root_cause:
            root_causes[unit_code][root_cause] += closed
        contact = ContactTally(
            cases=n,
            # A (unit, owner) pair spans one group per root cause: its delays go with the first.
            delays=tuple(delays.pop((unit_code, owner_key), ())),
            waited=dict(zip(CONTACT_WINDOWS, waits, strict=True)),
        )
        tally = CaseTally(contact=contact, closed=closed, resolved=resolved, goal_judged=goal_judged, goal_met=goal_met)
        by_unit[unit_code] = by_unit.get(unit_code, CaseTally()) + tally
        person = _responsible(tree, unit_code, owner_key)
        if person:
            by_person[person] = by_person.get(person, ContactTally()) + contact
    for unit_code in by_unit:
        by_unit[unit_code] = replace(
            by_unit[unit_code],
            answered=answered[unit_code],
            recovered=recovered[unit_code],
            root_causes=root_causes.get(unit_code, {}),
        )
    return by_unit, by_person


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
    reports count in the database instead (`case_tallies`); this is the reference they are tested against,
    and what the status-to-status durations read."""
    cases = _cases_of(responses)
    answers, _ = _answers(cases)
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
            responsible=_responsible(tree, row.unit__code, row.owner__key),
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
    responses = selected_responses(date_from, date_to, unit, units=units)
    by_unit, by_person = case_tallies(responses, now or timezone.now())
    summary = loop_summary_from_tallies(_activity(responses, kind), by_unit, by_person)
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
    responses = selected_responses(date_from, date_to, unit, units=units)
    by_unit, _ = case_tallies(responses, now or timezone.now())
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
    times = _status_times(_cases_of(selected_responses(date_from, date_to, unit, units=units)))
    return hours_between_status_times(times.values(), from_status, to_status)


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
