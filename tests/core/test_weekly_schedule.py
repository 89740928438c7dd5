"""Weekly summaries: when they run (one run per local week, across DST changes) and which days they cover."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closeloop.core.schedule import Week, next_weekly_run_at, summary_week

NEW_YORK = "America/New_York"
MONDAY = 0
SUNDAY = 6


def test_the_next_run_is_the_coming_weekday_at_its_local_time():
    # Wednesday 18 Nov 2026, noon in New York (EST, UTC-5).
    wednesday = datetime(2026, 11, 18, 17, 0, tzinfo=UTC)
    assert next_weekly_run_at(MONDAY, time(8), NEW_YORK, wednesday) == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    assert next_weekly_run_at(2, time(13), NEW_YORK, wednesday) == datetime(2026, 11, 18, 18, 0, tzinfo=UTC)
    # Exactly at the run: the next one is a week later.
    assert next_weekly_run_at(2, time(12), NEW_YORK, wednesday) == datetime(2026, 11, 25, 17, 0, tzinfo=UTC)


def test_a_week_with_the_autumn_change_is_an_hour_longer_and_keeps_the_local_time():
    # Monday 26 Oct 2026 08:00 EDT is 12:00Z; clocks go back on Sunday 1 Nov; Monday 2 Nov 08:00 EST is 13:00Z.
    first = datetime(2026, 10, 26, 12, 0, tzinfo=UTC)
    following = next_weekly_run_at(MONDAY, time(8), NEW_YORK, first)
    assert following == datetime(2026, 11, 2, 13, 0, tzinfo=UTC)
    assert following - first == timedelta(hours=169)


def test_a_run_in_the_spring_gap_moves_past_it_and_the_week_after_is_back_on_time():
    # Sunday 8 Mar 2026: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist that day.
    saturday = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    in_gap = next_weekly_run_at(SUNDAY, time(2, 30), NEW_YORK, saturday)
    assert in_gap == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT, the end of the gap
    assert next_weekly_run_at(SUNDAY, time(2, 30), NEW_YORK, in_gap) == datetime(2026, 3, 15, 6, 30, tzinfo=UTC)


def test_the_week_is_the_seven_local_days_before_the_run_and_the_seven_before_those():
    run = datetime(2026, 11, 2, 13, 0, tzinfo=UTC)  # Monday 2 Nov, 08:00 in New York
    week = summary_week(run, NEW_YORK)
    assert week == Week(date(2026, 10, 26), date(2026, 11, 1))
    assert week.previous == Week(date(2026, 10, 19), date(2026, 10, 25))
    # 03:00Z on Monday is still Sunday evening in New York: the local day decides.
    assert summary_week(datetime(2026, 11, 2, 3, 0, tzinfo=UTC), NEW_YORK) == Week(
        date(2026, 10, 25), date(2026, 10, 31)
    )


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError):
        next_weekly_run_at(7, time(8), NEW_YORK, datetime(2026, 11, 2, tzinfo=UTC))
    with pytest.raises(ValueError):
        next_weekly_run_at(MONDAY, time(8), NEW_YORK, datetime(2026, 11, 2))  # noqa: DTZ001


@given(
    weekday=st.integers(0, 6),
    at=st.times(),
    after=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)),  # noqa: DTZ001
    zone=st.sampled_from([NEW_YORK, "Europe/London", "Australia/Lord_Howe", "UTC"]),
)
def test_runs_fall_once_a_week_on_their_weekday(weekday, at, after, zone):
    run = next_weekly_run_at(weekday, at, zone, after)
    assert run > after
    assert run - after <= timedelta(days=7, hours=1)
    assert run.astimezone(ZoneInfo(zone)).weekday() == weekday
    following = next_weekly_run_at(weekday, at, zone, run)
    local = ZoneInfo(zone)
    assert (following.astimezone(local).date() - run.astimezone(local).date()).days == 7
