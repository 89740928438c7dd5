"""The loop report adds up tallies counted in the database (reports.tallies); closeloop.core.metrics is the
definition. On the same data, the report's figures must equal loop_summary over every case's facts, on
SQLite and on PostgreSQL, at several instants and for a unit's subtree."""

from __future__ import annotations

from datetime import timedelta

import pytest

from closeloop.cases.models import Case
from closeloop.core.metrics import hours_between_statuses, loop_summary
from closeloop.org.models import Unit
from closeloop.reports.queries import (
    case_facts,
    hours_between_statuses_for,
    loop_summary_for,
    selected_responses,
)
from tests.reports.varied import FIRST, LAST, START, reference_activity


@pytest.mark.parametrize("hours_after", [0, 30, 60, 200])
def test_the_database_counts_as_the_metrics_define(varied: None, hours_after: int) -> None:
    now = START + timedelta(days=3, hours=hours_after)
    responses = selected_responses(FIRST, LAST)
    expected = loop_summary(reference_activity(responses), case_facts(responses), now)
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
        assert loop_summary_for(FIRST, LAST, now=now) == loop_summary(
            reference_activity(responses), case_facts(responses), now
        )


def test_a_units_subtree_and_a_visibility_restriction_agree_too(varied: None) -> None:
    now = START + timedelta(days=5)
    emea = Unit.objects.get(code="EMEA")
    responses = selected_responses(FIRST, LAST, emea)
    expected = loop_summary(reference_activity(responses), case_facts(responses), now)
    assert loop_summary_for(FIRST, LAST, emea, now=now).by_unit == expected.by_unit
    visible = Unit.objects.filter(code__in=["SUP-UK", "SUP-US"])
    responses = selected_responses(FIRST, LAST, units=visible)
    assert loop_summary_for(FIRST, LAST, units=visible, now=now) == loop_summary(
        reference_activity(responses), case_facts(responses), now
    )


def test_status_durations_read_the_same_first_entries(varied: None) -> None:
    facts = case_facts(selected_responses(FIRST, LAST))
    for start, end in (("Open", "Closed"), ("Open", "Pending"), ("Pending", "Closed")):
        expected = hours_between_statuses(facts, start, end)
        assert expected is not None
        assert hours_between_statuses_for(FIRST, LAST, start, end) == expected
