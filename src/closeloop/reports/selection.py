"""Which rows the loop report counts: the valid, current responses submitted on the days `date_from`..`date_to`
(both included, in the organisation's time zone), in a unit's subtree when one is given; the cases of these
responses, and the follow-up answers of those cases.

Both ways of counting the report use these (reports.tallies stored per day, reports.queries' reference
facts), so they cannot disagree on what is counted.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet

from closeloop.cases.models import Case
from closeloop.feedback.models import Response
from closeloop.feedback.queries import in_unit_subtree, local_day_bounds
from closeloop.loop.services import follow_up_answers
from closeloop.org.directory import current_organization
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


def cases_of(responses: QuerySet[Response]) -> QuerySet[Case]:
    # No default ordering: every query of these groups or is read into a dict.
    return Case.objects.filter(response__in=responses).order_by()


def _survey_answers(closed: list[tuple[int, datetime, int | None]]) -> dict[int, bool | None]:
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


def case_answers(cases: QuerySet[Case]) -> dict[int, tuple[bool | None, str, str]]:
    """For each case whose follow-up was asked: (the answer, None while unanswered; the case's unit code; its
    response's unit code). Follow-ups this system sent know their case exactly and count as asked once
    sent; otherwise the customer's first answer to the follow-up survey after the case closed counts
    (`_survey_answers`)."""
    closed = []
    if current_organization().follow_up_survey:
        rows = cases.filter(closed_at__isnull=False)
        closed = list(
            rows.values_list("id", "unit__code", "response__unit__code", "closed_at", "response__customer_id")
        )
    answers = _survey_answers([(pk, at, customer) for pk, _, _, at, customer in closed if at]) | follow_up_answers(
        cases.values("id")
    )
    units = {pk: (unit, response_unit) for pk, unit, response_unit, _, _ in closed if pk in answers}
    if any(pk not in units for pk in answers):
        # Sent follow-ups of cases not read above: one join, not one parameter per case.
        sent = cases.filter(follow_up__sent_at__isnull=False)
        units |= {
            pk: (unit, response_unit)
            for pk, unit, response_unit in sent.values_list("id", "unit__code", "response__unit__code")
        }
    return {pk: (answer, *units[pk]) for pk, answer in answers.items()}
