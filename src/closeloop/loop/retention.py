"""The retention report: did customers who complained keep buying, by how their complaint ended?

Customers of the cases closed in a period are put in one of core.metrics' retention groups by their
latest such case; a customer is retained when, in the `days` after the day the case opened, they bought
or renewed and did not cancel. The grouping and the percentages are core.metrics' pure functions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from closeloop.cases.models import Case
from closeloop.core.metrics import RETENTION_GROUPS, CaseFacts, percent, retention, retention_group
from closeloop.feedback.queries import local_day_bounds
from closeloop.loop.models import Activity
from closeloop.loop.services import follow_up_answers
from closeloop.org.directory import current_organization
from closeloop.org.models import Unit

DEFAULT_DAYS = 90
KEEPING = (Activity.Kind.PURCHASE, Activity.Kind.RENEWAL)


@dataclass(frozen=True)
class RetentionRow:
    group: str
    customers: int
    retained: int
    retained_percent: float | None


@dataclass(frozen=True)
class RetentionReport:
    date_from: date
    date_to: date
    days: int
    groups: tuple[RetentionRow, ...]
    customers: int
    retained: int
    retained_percent: float | None


def _closed_cases(
    date_from: date, date_to: date, unit: Unit | None, units: QuerySet[Unit] | None, zone: str
) -> list[Case]:
    cases = Case.objects.filter(
        closed_at__gte=local_day_bounds(date_from, zone)[0],
        closed_at__lt=local_day_bounds(date_to, zone)[1],
        response__customer__isnull=False,
    ).select_related("response")
    if unit is not None:
        cases = cases.filter(unit__path__startswith=unit.path)
    if units is not None:
        cases = cases.filter(unit__in=units)
    return list(cases.order_by("closed_at", "id"))


def was_retained(activities: list[Activity], opened_on: date, days: int) -> bool:
    """Bought or renewed, and did not cancel, on the `days` days after `opened_on` (the opening day is left
    out: what a customer did that day may have come before the complaint)."""
    window = [a for a in activities if opened_on < a.date <= opened_on + timedelta(days=days)]
    return any(a.kind in KEEPING for a in window) and not any(a.kind == Activity.Kind.CANCELLATION for a in window)


def retention_report(
    date_from: date,
    date_to: date,
    *,
    days: int = DEFAULT_DAYS,
    unit: Unit | None = None,
    units: QuerySet[Unit] | None = None,
) -> RetentionReport:
    """Retention per group for the customers of cases closed on `date_from`..`date_to` (organisation's days);
    `units` restricts it to what a viewer may see."""
    zone = current_organization().time_zone
    latest: dict[int, Case] = {}
    for case in _closed_cases(date_from, date_to, unit, units, zone):
        if case.response.customer_id is not None:
            latest[case.response.customer_id] = case  # ordered by closing: the last one wins
    answers = follow_up_answers([case.pk for case in latest.values()])
    opened_on = {customer: case.opened_at.astimezone(ZoneInfo(zone)).date() for customer, case in latest.items()}
    activities: dict[int, list[Activity]] = defaultdict(list)
    if latest:
        for activity in Activity.objects.filter(
            customer_id__in=list(latest),
            date__gt=min(opened_on.values()),
            date__lte=max(opened_on.values()) + timedelta(days=days),
        ):
            activities[activity.customer_id].append(activity)
    outcomes = []
    for customer, case in latest.items():
        facts = CaseFacts(
            unit="",
            category=case.category,
            opened_at=case.opened_at,
            first_contact_at=case.contacted_at,
            closed_at=case.closed_at,
            resolution=case.resolution,
            followup_answer=answers.get(case.pk),
            followup_asked=case.pk in answers,
        )
        outcomes.append((retention_group(facts), was_retained(activities[customer], opened_on[customer], days)))
    percents = retention(outcomes)
    rows = tuple(
        RetentionRow(
            group=group,
            customers=sum(1 for g, _ in outcomes if g == group),
            retained=sum(1 for g, kept in outcomes if g == group and kept),
            retained_percent=percents[group],
        )
        for group in RETENTION_GROUPS
    )
    kept = sum(1 for _, k in outcomes if k)
    return RetentionReport(date_from, date_to, days, rows, len(outcomes), kept, percent(kept, len(outcomes)))
