"""Digest schedules: daily runs at a local time, the window each run covers, weekend SMS deferral."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from closeloop.core.schedule import digest_window, next_run_at, reported_day_words, sms_time

NEW_YORK = ZoneInfo("America/New_York")
DAY = timedelta(hours=24)


def ny(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK, fold=fold)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_next_run_is_later_the_same_day_or_else_the_next_day():
    assert next_run_at(time(9), "America/New_York", ny(2026, 11, 23, 8, 0)) == utc(2026, 11, 23, 14, 0)
    assert next_run_at(time(9), "America/New_York", ny(2026, 11, 23, 9, 0)) == utc(2026, 11, 24, 14, 0)
    assert next_run_at(time(9), "America/New_York", ny(2026, 11, 23, 22, 0)) == utc(2026, 11, 24, 14, 0)


def test_next_run_uses_the_local_date_not_the_utc_date():
    # 02:00 UTC on the 24th is still the evening of the 23rd in New York.
    assert next_run_at(time(23), "America/New_York", utc(2026, 11, 24, 2, 0)) == utc(2026, 11, 24, 4, 0)


def test_a_run_time_skipped_at_spring_forward_moves_to_the_end_of_the_gap():
    runs = []
    after = ny(2026, 3, 6, 12, 0)
    for _ in range(3):
        after = next_run_at(time(2, 30), "America/New_York", after)
        runs.append(after)
    assert runs == [utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7, 0), utc(2026, 3, 9, 6, 30)]
    assert runs[1].astimezone(NEW_YORK).time() == time(3, 0)


def test_a_run_time_repeated_at_fall_back_runs_once_at_its_first_occurrence():
    first = next_run_at(time(1, 30), "America/New_York", ny(2026, 10, 31, 12, 0))
    assert first == utc(2026, 11, 1, 5, 30)
    assert next_run_at(time(1, 30), "America/New_York", first) == utc(2026, 11, 2, 6, 30)
    second_occurrence = ny(2026, 11, 1, 1, 30, fold=1)
    assert next_run_at(time(1, 30), "America/New_York", second_occurrence) == utc(2026, 11, 2, 6, 30)


def test_morning_runs_are_23_or_25_hours_apart_across_the_eu_changes():
    london = "Europe/London"
    spring = next_run_at(time(9), london, utc(2026, 3, 28, 12, 0))
    assert next_run_at(time(9), london, spring - timedelta(seconds=1)) == spring
    assert spring - next_run_at(time(9), london, utc(2026, 3, 27, 12, 0)) == timedelta(hours=23)
    autumn = next_run_at(time(9), london, utc(2026, 10, 25, 0, 0))
    assert autumn - next_run_at(time(9), london, utc(2026, 10, 24, 0, 0)) == timedelta(hours=25)


@settings(deadline=None, max_examples=50)
@given(
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)),  # noqa: DTZ001
    at=st.times(),
    zone=st.sampled_from(["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago"]),
)
def test_runs_come_once_per_local_day_at_the_local_time(start, at, zone):
    local = ZoneInfo(zone)
    run = start
    seen_days = []
    for _ in range(60):
        previous, run = run, next_run_at(at, zone, run)
        assert run > previous
        assert run.tzinfo is UTC
        local_run = run.astimezone(local)
        seen_days.append(local_run.date())
        # Only a skipped local time may move, and then no further than past the gap.
        if local_run.time() != at:
            assert local_run.replace(tzinfo=None) > datetime.combine(local_run.date(), at)
    assert all(later - earlier == timedelta(days=1) for earlier, later in pairwise(seen_days))


def test_digest_window_covers_the_24_hours_before_the_run():
    start, end = digest_window(ny(2026, 11, 23, 9, 0), DAY, "America/New_York")
    assert (start, end) == (utc(2026, 11, 22, 14, 0), utc(2026, 11, 23, 14, 0))
    # The seed's example: a response at 08:00 on Monday is in Monday's 09:00 digest.
    assert start <= ny(2026, 11, 23, 8, 0) < end


def test_a_response_submitted_exactly_at_the_run_belongs_to_the_next_digest():
    _, end = digest_window(ny(2026, 11, 23, 9, 0), DAY, "America/New_York")
    next_start, _ = digest_window(ny(2026, 11, 24, 9, 0), DAY, "America/New_York")
    assert end == next_start


def test_daily_windows_tile_time_across_dst_changes():
    run = ny(2026, 10, 20, 12, 0)
    previous_end = None
    for _ in range(150):
        run = next_run_at(time(9), "America/New_York", run)
        start, end = digest_window(run, DAY, "America/New_York")
        if previous_end is not None:
            assert start == previous_end
        previous_end = end
    assert previous_end.astimezone(NEW_YORK).date().month == 3


def test_the_window_after_fall_back_is_25_real_hours():
    start, end = digest_window(ny(2026, 11, 1, 9, 0), DAY, "America/New_York")
    assert end - start == timedelta(hours=25)


def test_without_a_time_zone_the_window_is_real_time():
    start, end = digest_window(ny(2026, 11, 1, 9, 0), DAY)
    assert end - start == DAY
    assert end == utc(2026, 11, 1, 14, 0)


def test_digest_window_rejects_empty_windows_and_naive_times():
    with pytest.raises(ValueError, match="positive"):
        digest_window(ny(2026, 11, 1, 9, 0), timedelta(0))
    with pytest.raises(ValueError, match="timezone-aware"):
        digest_window(datetime(2026, 11, 1, 9, 0), DAY)  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        next_run_at(time(9), "America/New_York", datetime(2026, 11, 1, 9, 0))  # noqa: DTZ001
    with pytest.raises(ValueError, match="unknown time zone"):
        next_run_at(time(9), "Nowhere/Special", ny(2026, 11, 1, 9, 0))


@pytest.mark.parametrize(
    ("run_at", "expected"),
    [
        (ny(2026, 11, 20, 9, 0), ny(2026, 11, 20, 9, 0)),  # Friday: sent with the run
        (ny(2026, 11, 21, 9, 0), ny(2026, 11, 23, 9, 0)),  # Saturday: Monday morning
        (ny(2026, 11, 22, 9, 0), ny(2026, 11, 23, 9, 0)),  # Sunday: Monday morning
        (ny(2026, 11, 23, 9, 0), ny(2026, 11, 23, 9, 0)),  # Monday: sent with the run
    ],
)
def test_weekend_sms_wait_for_monday_when_weekend_sms_are_off(run_at, expected):
    assert sms_time(run_at, "America/New_York", time(9), weekend_sms=False) == expected


def test_weekend_sms_go_with_the_run_when_allowed():
    saturday = ny(2026, 11, 21, 9, 0)
    assert sms_time(saturday, "America/New_York", time(9), weekend_sms=True) == saturday


def test_deferred_sms_lands_on_mondays_local_time_after_fall_back():
    saturday = ny(2026, 10, 31, 9, 0)
    monday = sms_time(saturday, "America/New_York", time(9), weekend_sms=False)
    assert monday == utc(2026, 11, 2, 14, 0)
    assert monday.astimezone(NEW_YORK).time() == time(9)


def test_the_weekend_is_the_units_local_weekend():
    auckland = ZoneInfo("Pacific/Auckland")
    monday_morning = datetime(2026, 11, 23, 9, 0, tzinfo=auckland)  # still Sunday in UTC
    assert monday_morning.astimezone(UTC).weekday() == 6
    assert sms_time(monday_morning, "Pacific/Auckland", time(9), weekend_sms=False) == monday_morning
    saturday_morning = datetime(2026, 11, 21, 9, 0, tzinfo=auckland)  # still Friday in UTC
    assert sms_time(saturday_morning, "Pacific/Auckland", time(9), weekend_sms=False) == monday_morning


@pytest.mark.parametrize(
    ("run_at", "delivered_at", "words"),
    [
        # Tuesday's 09:00 run, delivered at once: Monday is "yesterday".
        (datetime(2026, 11, 24, 14, tzinfo=UTC), datetime(2026, 11, 24, 14, tzinfo=UTC), "yesterday"),
        # Saturday's and Sunday's runs, their SMS deferred to Monday 09:00: Friday and Saturday by name.
        (datetime(2026, 11, 28, 14, tzinfo=UTC), datetime(2026, 11, 30, 14, tzinfo=UTC), "on Friday"),
        (datetime(2026, 11, 29, 14, tzinfo=UTC), datetime(2026, 11, 30, 14, tzinfo=UTC), "on Saturday"),
        # Late the same local day (23:30 in New York is 04:30 UTC the next day) is still that day.
        (datetime(2026, 11, 24, 14, tzinfo=UTC), datetime(2026, 11, 25, 4, 30, tzinfo=UTC), "yesterday"),
    ],
)
def test_a_digest_message_names_the_day_it_reports_on(run_at: datetime, delivered_at: datetime, words: str) -> None:
    assert reported_day_words(run_at, "America/New_York", delivered_at) == words
