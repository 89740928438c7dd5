"""The loop report counts in the database (reports.queries.case_tallies); closeloop.core.metrics is the
definition. On the same data, the database's figures must equal loop_summary over every case's facts, on
SQLite and on PostgreSQL, at several instants and for a unit's subtree."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from closeloop.cases.models import Case
from closeloop.cases.services import do_add_note, do_assign, do_change_status, do_reopen
from closeloop.core.metrics import hours_between_statuses, loop_summary
from closeloop.loop.models import FollowUp
from closeloop.org.models import Unit
from closeloop.reports.queries import (
    _activity,
    case_facts,
    hours_between_statuses_for,
    loop_summary_for,
    selected_responses,
)
from tests.web.conftest import ingest

START = datetime(2026, 11, 16, 14, 0, tzinfo=UTC)
FIRST, LAST = date(2026, 11, 16), date(2026, 11, 19)
UNITS = ["SUP-EMEA", "SUP-UK", "SUP-US"]
TIERS = ["Gold", "Silver", "Bronze", "Other"]


@pytest.fixture
def varied(acme: None) -> None:
    """Forty responses over four days, most unhappy; their cases contacted after delays on and around the
    report's windows (1 h, 24 h, 48 h exactly included), some before the case opened, some never; closed
    within and past their goals, resolved or not, with and without a root cause; some assigned; follow-up
    answers yes and no, from the customer's own survey and from follow-ups this system sent."""
    rng = random.Random(15)
    for n in range(40):
        at = START + timedelta(hours=n * 2.3)
        happy = n % 6 == 5
        answers = {"ease": 9, "completed": True, "comment": "Fine."} if happy else None
        ingest(answers, at=at, unit=UNITS[n % 3], tier=TIERS[n % 4])
    cases = list(Case.objects.order_by("id").select_related("response__customer"))
    assert len(cases) > 25
    delays = [None, 0.5, 1, 1.0001, 24, 30, 48, 49, 3, None, 12]
    for i, case in enumerate(cases):
        delay = delays[i % len(delays)]
        if delay is not None:
            do_add_note(case, text="Spoke.", spoke_to_customer=True, now=case.opened_at + timedelta(hours=delay))
        elif i % 4 == 0:
            do_add_note(case, text="No answer.", spoke_to_customer=False, now=case.opened_at + timedelta(hours=2))
        if i % 5 == 1:
            # Only the case's team may own it; take turns among them.
            team = [*case.managers.order_by("key"), *case.members.order_by("key")]
            do_assign(case, owner=team[i % len(team)], now=case.opened_at + timedelta(minutes=5))
        if i % 3 == 0:
            do_change_status(case, status="Pending", now=case.opened_at + timedelta(hours=rng.uniform(0.1, 5)))
        if i % 2 == 0:
            # Every third closes exactly at its due time: that still meets the goal.
            closed_at = case.due_at if i % 3 == 0 else case.opened_at + timedelta(hours=rng.choice([2, 20, 30, 80]))
            do_change_status(case, status="Closed", resolution=rng.choice(["resolved", "unresolved"]), now=closed_at)
            if i % 10 == 4:
                do_reopen(case, now=closed_at + timedelta(hours=1))
            if i % 4 == 0:
                Case.objects.filter(pk=case.pk).update(root_cause=rng.choice(["Training", "Product bug"]))
            customer = case.response.customer
            if i % 8 == 0 and customer is not None:
                ingest(
                    {"resolved": i % 16 == 0},
                    survey="recovery-check",
                    customer={"id": customer.external_id},
                    at=closed_at + timedelta(hours=5),
                )
            elif i % 8 == 2:
                FollowUp.objects.create(
                    case=case, sent_at=closed_at, nonce=f"n{i}", created_at=closed_at, answer=i % 3 == 0 or None
                )
    # A note that predates its case (a replacing response took the case over): no delay, within every window.
    Case.objects.filter(pk=cases[1].pk).update(contacted_at=cases[1].opened_at - timedelta(hours=3))


@pytest.mark.parametrize("hours_after", [0, 30, 60, 200])
def test_the_database_counts_as_the_metrics_define(varied: None, hours_after: int) -> None:
    now = START + timedelta(days=3, hours=hours_after)
    responses = selected_responses(FIRST, LAST)
    expected = loop_summary(_activity(responses), case_facts(responses), now)
    assert loop_summary_for(FIRST, LAST, now=now) == expected
    assert expected.cases > 25 and expected.by_person  # the comparison is over real figures


@pytest.mark.parametrize("window", [1, 24, 48])
def test_a_case_not_contacted_is_judged_from_the_instant_it_has_waited_the_whole_window(
    varied: None, window: int
) -> None:
    waiting = Case.objects.filter(contacted_at__isnull=True).order_by("opened_at").first()
    assert waiting is not None
    for now in (waiting.opened_at + timedelta(hours=window), waiting.opened_at + timedelta(hours=window, seconds=-1)):
        responses = selected_responses(FIRST, LAST)
        assert loop_summary_for(FIRST, LAST, now=now) == loop_summary(_activity(responses), case_facts(responses), now)


def test_a_units_subtree_and_a_visibility_restriction_agree_too(varied: None) -> None:
    now = START + timedelta(days=5)
    emea = Unit.objects.get(code="EMEA")
    responses = selected_responses(FIRST, LAST, emea)
    expected = loop_summary(_activity(responses), case_facts(responses), now)
    assert loop_summary_for(FIRST, LAST, emea, now=now).by_unit == expected.by_unit
    visible = Unit.objects.filter(code__in=["SUP-UK", "SUP-US"])
    responses = selected_responses(FIRST, LAST, units=visible)
    assert loop_summary_for(FIRST, LAST, units=visible, now=now) == loop_summary(
        _activity(responses), case_facts(responses), now
    )


def test_status_durations_read_the_same_first_entries(varied: None) -> None:
    facts = case_facts(selected_responses(FIRST, LAST))
    for start, end in (("Open", "Closed"), ("Open", "Pending"), ("Pending", "Closed")):
        expected = hours_between_statuses(facts, start, end)
        assert expected is not None
        assert hours_between_statuses_for(FIRST, LAST, start, end) == expected


def test_the_report_reads_a_fixed_number_of_queries_however_many_cases(
    varied: None, django_assert_max_num_queries
) -> None:
    # Grouped counts, the contacted cases' timestamps, root causes, follow-ups, responses and alerts per unit:
    # no query per case.
    with django_assert_max_num_queries(12):
        loop_summary_for(FIRST, LAST, now=START + timedelta(days=5))
