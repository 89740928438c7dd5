"""Escalation timing: which steps of a case's policy are due, and when the next one could be."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closeloop.core.escalation import CaseClock, Step, due_steps, fires_at, next_due_at, step_deadline
from closeloop.core.sla import BusinessCalendar

OPENED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def at(n: float) -> datetime:
    return OPENED + hours(n)


# The contract's `standard` policy.
STANDARD = (
    Step(0, "not_viewed", hours(24), ({"level": 1},)),
    Step(1, "not_viewed", hours(72), ({"level": 2},)),
    Step(2, "not_contacted", hours(48), ({"level": 1},)),
    Step(3, "overdue", None, ({"level": 1}, "unit_leads")),
    Step(4, "closed_unresolved", None, ({"level": 1}, {"level": 2})),
)


def clock(**changes) -> CaseClock:
    return replace(CaseClock(opened_at=OPENED, due_at=at(96)), **changes)


def indexes(steps: list[Step]) -> list[int]:
    return [step.index for step in steps]


def test_a_manager_who_never_opens_the_case_is_escalated_one_level_at_24h_and_two_at_72h():
    never_viewed = clock()
    assert indexes(due_steps(STANDARD, never_viewed, at(23.9))) == []
    assert indexes(due_steps(STANDARD, never_viewed, at(24))) == [0]
    fired_level_one = replace(never_viewed, fired=frozenset({0}))
    assert indexes(due_steps(STANDARD, fired_level_one, at(71))) == [2]
    fired_more = replace(never_viewed, fired=frozenset({0, 2}))
    assert indexes(due_steps(STANDARD, fired_more, at(72))) == [1]


def test_viewing_at_hour_23_prevents_both_not_viewed_steps():
    viewed = clock(viewed_at=at(23))
    assert indexes(due_steps(STANDARD, viewed, at(80))) == [2]


def test_viewing_exactly_at_the_deadline_is_in_time_but_viewing_later_is_not():
    assert fires_at(STANDARD[0], clock(viewed_at=at(24))) is None
    assert fires_at(STANDARD[0], clock(viewed_at=at(25))) == at(24)


def test_a_late_worker_still_fires_a_step_whose_deadline_passed_before_the_view():
    viewed_late = clock(viewed_at=at(30))
    assert indexes(due_steps(STANDARD, viewed_late, at(31))) == [0]


def test_contacting_the_customer_in_time_prevents_the_not_contacted_step():
    contacted = clock(viewed_at=at(1), contacted_at=at(47))
    assert indexes(due_steps(STANDARD, contacted, at(95))) == []


def test_a_case_still_open_at_its_due_time_is_overdue():
    handled = clock(viewed_at=at(1), contacted_at=at(2))
    assert indexes(due_steps(STANDARD, handled, at(95.9))) == []
    assert indexes(due_steps(STANDARD, handled, at(96))) == [3]


def test_closing_as_unresolved_fires_at_once():
    closed = clock(viewed_at=at(1), contacted_at=at(2), closed_at=at(5), resolution="unresolved")
    assert indexes(due_steps(STANDARD, closed, at(5))) == [4]
    assert next_due_at(STANDARD, closed) == at(5)


def test_closing_resolved_cancels_every_pending_step():
    closed = clock(closed_at=at(5), resolution="resolved")
    assert indexes(due_steps(STANDARD, closed, at(1000))) == []
    assert next_due_at(STANDARD, closed) is None


def test_closing_after_a_deadline_keeps_the_step_that_was_already_due():
    closed_late = clock(closed_at=at(30), resolution="resolved")
    assert indexes(due_steps(STANDARD, closed_late, at(30))) == [0]
    assert next_due_at(STANDARD, closed_late) == at(24)


def test_a_step_fires_at_most_once():
    never_viewed = clock(fired=frozenset({0, 1, 2, 3}))
    assert due_steps(STANDARD, never_viewed, at(1000)) == []
    assert next_due_at(STANDARD, never_viewed) is None


def test_several_due_steps_come_in_the_order_they_became_due():
    assert indexes(due_steps(STANDARD, clock(), at(100))) == [0, 2, 1, 3]


def test_a_case_without_a_due_time_is_never_overdue():
    assert fires_at(STANDARD[3], clock(due_at=None)) is None


def test_next_due_at_is_the_earliest_pending_instant():
    assert next_due_at(STANDARD, clock()) == at(24)
    assert next_due_at(STANDARD, clock(viewed_at=at(1))) == at(48)
    assert next_due_at(STANDARD, clock(viewed_at=at(1), contacted_at=at(2))) == at(96)
    assert next_due_at(STANDARD, clock(viewed_at=at(1), contacted_at=at(2), fired=frozenset({3}))) is None


def test_after_counts_real_hours_across_a_dst_change():
    # Opened on Saturday 31 October 2026 at 12:00 New York time; clocks go back on Sunday 1 November.
    opened = datetime(2026, 10, 31, 12, 0, tzinfo=ZoneInfo("America/New_York"))
    deadline = fires_at(STANDARD[0], CaseClock(opened_at=opened))
    assert deadline == opened.astimezone(UTC) + hours(24)
    assert deadline.astimezone(ZoneInfo("America/New_York")).hour == 11


def test_naive_instants_are_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        CaseClock(opened_at=datetime(2026, 11, 23, 10, 0))  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        due_steps(STANDARD, clock(), datetime(2026, 11, 23, 10, 0))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("when", "after", "message"),
    [
        ("not_viewed", None, "needs `after`"),
        ("not_contacted", hours(-1), "negative"),
        ("overdue", hours(1), "takes no `after`"),
        ("forgotten", None, "unknown escalation condition"),
    ],
)
def test_inconsistent_steps_are_rejected(when, after, message):
    with pytest.raises(ValueError, match=message):
        Step(0, when, after)


instants = st.floats(min_value=0, max_value=200, allow_nan=False).map(at)
maybe_instants = st.none() | instants


@given(
    viewed_at=maybe_instants,
    contacted_at=maybe_instants,
    closed_at=maybe_instants,
    resolution=st.sampled_from([None, "resolved", "unresolved"]),
    now=instants,
)
def test_next_due_at_is_exactly_when_the_first_step_becomes_due(viewed_at, contacted_at, closed_at, resolution, now):
    case = clock(viewed_at=viewed_at, contacted_at=contacted_at, closed_at=closed_at, resolution=resolution)
    upcoming = next_due_at(STANDARD, case)
    due = due_steps(STANDARD, case, now)
    if upcoming is None or upcoming > now:
        assert due == []
    else:
        assert due
        assert fires_at(due[0], case) == upcoming


# --- business time and satisfied customers -----------------------------------------------------------

PARIS = "Europe/Paris"
# Mon-Fri 09:00-17:00 in Paris with the French public holidays.
PARIS_OFFICE = BusinessCalendar.from_config(["mon", "tue", "wed", "thu", "fri"], "09:00", "17:00", "FR", PARIS)
# Wednesday 13 May 2026, 16:00 in Paris (14:00 UTC); Thursday 14 May is Ascension Day in France.
WEDNESDAY_1600_PARIS = datetime(2026, 5, 13, 16, 0, tzinfo=ZoneInfo(PARIS))


def test_with_a_calendar_after_counts_working_time_so_8h_is_one_working_day() -> None:
    step = Step(0, "not_viewed", hours(8), ({"level": 1},))
    case = CaseClock(opened_at=WEDNESDAY_1600_PARIS, due_at=WEDNESDAY_1600_PARIS + hours(96), calendar=PARIS_OFFICE)
    # One hour on Wednesday, none on Ascension Day, seven on Friday: Friday 16:00 Paris.
    assert fires_at(step, case) == datetime(2026, 5, 15, 14, 0, tzinfo=UTC)
    assert step_deadline(step, case) == datetime(2026, 5, 15, 14, 0, tzinfo=UTC)
    assert due_steps([step], case, datetime(2026, 5, 15, 13, 59, tzinfo=UTC)) == []
    assert due_steps([step], case, datetime(2026, 5, 15, 14, 0, tzinfo=UTC)) == [step]


def test_without_a_calendar_after_is_wall_clock_time() -> None:
    step = Step(0, "not_viewed", hours(8), ({"level": 1},))
    assert fires_at(step, CaseClock(opened_at=WEDNESDAY_1600_PARIS)) == datetime(2026, 5, 13, 22, 0, tzinfo=UTC)


def test_a_view_in_working_time_before_the_business_deadline_prevents_the_step() -> None:
    step = Step(0, "not_viewed", hours(8), ({"level": 1},))
    # Thursday is a holiday: a view on Thursday evening is long after 8 wall-clock hours but in time.
    viewed = datetime(2026, 5, 14, 20, 0, tzinfo=ZoneInfo(PARIS))
    case = CaseClock(opened_at=WEDNESDAY_1600_PARIS, calendar=PARIS_OFFICE, viewed_at=viewed)
    assert fires_at(step, case) is None


def test_a_satisfied_customer_stops_every_pending_step_but_closing_unresolved() -> None:
    satisfied = clock(satisfied_at=at(10))
    assert indexes(due_steps(STANDARD, satisfied, at(200))) == []
    assert next_due_at(STANDARD, satisfied) is None
    closed = clock(satisfied_at=at(10), closed_at=at(12), resolution="unresolved")
    assert indexes(due_steps(STANDARD, closed, at(200))) == [4]


def test_steps_whose_deadline_passed_before_the_customer_was_satisfied_still_fire() -> None:
    late = clock(satisfied_at=at(30))
    assert indexes(due_steps(STANDARD, late, at(30))) == [0]


def test_the_deadline_of_closing_unresolved_is_the_closing() -> None:
    step = STANDARD[4]
    assert step_deadline(step, clock()) is None
    assert step_deadline(step, clock(closed_at=at(5), resolution="unresolved")) == at(5)
    assert step_deadline(STANDARD[3], clock()) == at(96)
