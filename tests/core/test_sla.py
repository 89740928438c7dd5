"""Business-hours deadlines: the SLA clock counts only opening hours of working days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from closeloop.core.sla import (
    FALLBACK_GOAL,
    BusinessCalendar,
    SlaChoice,
    add_working_time,
    calendar_for_case,
    choose_sla,
    holiday_dates,
    local_to_instant,
    working_time_between,
)

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
HOUR = timedelta(hours=1)


def office(holidays: str | None = None, zone: str = "America/New_York", days=("mon", "tue", "wed", "thu", "fri")):
    return BusinessCalendar.from_config(days=days, start="09:00", end="17:00", holidays=holidays, time_zone=zone)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


def test_from_config_reads_weekday_names_and_clock_times():
    calendar = office(holidays="US")
    assert calendar.days == frozenset({0, 1, 2, 3, 4})
    assert calendar.start == time(9, 0)
    assert calendar.end == time(17, 0)
    assert calendar.holidays_country == "US"
    assert calendar.time_zone == "America/New_York"


@pytest.mark.parametrize(
    ("days", "start", "end", "holidays", "zone", "message"),
    [
        (["mon", "funday"], "09:00", "17:00", None, "UTC", "unknown weekday"),
        ([], "09:00", "17:00", None, "UTC", "at least one working day"),
        (["mon"], "9am", "17:00", None, "UTC", "not a time of day"),
        (["mon"], "17:00", "09:00", None, "UTC", "must be before"),
        (["mon"], "09:00", "17:00", "ZZ", "UTC", "no public holidays"),
        (["mon"], "09:00", "17:00", None, "Mars/Olympus", "unknown time zone"),
    ],
)
def test_from_config_rejects_bad_values_with_a_clear_message(days, start, end, holidays, zone, message):
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_config(days=days, start=start, end=end, holidays=holidays, time_zone=zone)


def test_opening_times_with_a_time_zone_are_rejected():
    with pytest.raises(ValueError, match="local times of day"):
        BusinessCalendar(frozenset({0}), time(9, tzinfo=UTC), time(17), None, "UTC")


def test_without_a_calendar_the_goal_is_wall_clock_time():
    start = ny(2026, 11, 20, 16, 0)  # a Friday
    assert add_working_time(start, timedelta(hours=8), None) == ny(2026, 11, 21, 0, 0)
    assert working_time_between(start, ny(2026, 11, 23, 16, 0), None) == timedelta(hours=72)


def test_friday_afternoon_case_with_eight_hour_goal_is_due_monday_afternoon():
    due = add_working_time(ny(2026, 11, 20, 16, 0), timedelta(hours=8), office())
    assert due == ny(2026, 11, 23, 16, 0)


def test_public_holiday_on_the_monday_pushes_the_deadline_to_tuesday():
    # Memorial Day 2026 is Monday 25 May.
    due = add_working_time(ny(2026, 5, 22, 16, 0), timedelta(hours=8), office(holidays="US"))
    assert due == ny(2026, 5, 26, 16, 0)


def test_holidays_of_another_country_do_not_count():
    # 25 May 2026 is a bank holiday in Britain and Whit Monday in much of Europe, but a working day in Japan.
    due = add_working_time(ny(2026, 5, 22, 16, 0), timedelta(hours=8), office(holidays="JP"))
    assert due == ny(2026, 5, 25, 16, 0)


def test_a_subdivision_adds_its_own_holidays():
    # Cesar Chavez Day (31 March) is a California state holiday, not a federal one.
    assert date(2026, 3, 31) in holiday_dates("US-CA", 2026)
    assert date(2026, 3, 31) not in holiday_dates("US", 2026)


def test_weekend_with_us_spring_forward_still_lands_at_local_afternoon():
    # Clocks go forward on Sunday 8 March 2026, so the weekend is one hour shorter in real time.
    start = ny(2026, 3, 6, 16, 0)
    due = add_working_time(start, timedelta(hours=8), office())
    assert due == ny(2026, 3, 9, 16, 0)
    assert due.utcoffset() == timedelta(hours=-4)
    assert due.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=71)


def test_weekend_with_us_fall_back_still_lands_at_local_afternoon():
    start = ny(2026, 10, 30, 16, 0)
    due = add_working_time(start, timedelta(hours=8), office())
    assert due == ny(2026, 11, 2, 16, 0)
    assert due.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=73)


@pytest.mark.parametrize(
    ("day", "real_hours_of_the_day"),
    [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25)],
)
def test_a_working_day_containing_the_eu_change_keeps_its_local_opening_hours(day, real_hours_of_the_day):
    every_day = office(zone="Europe/Berlin", days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    opening = datetime.combine(day, time(9), tzinfo=BERLIN)
    assert add_working_time(opening, timedelta(hours=8), every_day) == datetime.combine(day, time(17), tzinfo=BERLIN)
    # From 10:00 on the day of the change seven hours fit, the eighth ends at 10:00 the next day.
    late = opening + HOUR
    next_day = datetime.combine(day + timedelta(days=1), time(10), tzinfo=BERLIN)
    assert add_working_time(late, timedelta(hours=8), every_day) == next_day
    midnight = datetime.combine(day, time(0), tzinfo=BERLIN)
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=BERLIN)
    assert next_midnight.astimezone(UTC) - midnight.astimezone(UTC) == timedelta(hours=real_hours_of_the_day)
    assert working_time_between(midnight, next_midnight, every_day) == timedelta(hours=8)


def test_deadline_is_returned_in_the_time_zone_of_the_start():
    start = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # 16:00 in New York
    due = add_working_time(start, timedelta(hours=8), office())
    assert due.tzinfo is UTC
    assert due == ny(2026, 11, 23, 16, 0)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (ny(2026, 11, 18, 20, 0), ny(2026, 11, 19, 11, 0)),  # Wednesday evening -> Thursday opening + 2h
        (ny(2026, 11, 19, 6, 0), ny(2026, 11, 19, 11, 0)),  # Thursday early morning -> same day
        (ny(2026, 11, 21, 10, 0), ny(2026, 11, 23, 11, 0)),  # Saturday -> Monday
        (ny(2026, 11, 20, 17, 0), ny(2026, 11, 23, 11, 0)),  # exactly at Friday's closing
    ],
)
def test_a_start_outside_working_hours_counts_from_the_next_opening(start, expected):
    assert add_working_time(start, timedelta(hours=2), office()) == expected


def test_a_goal_that_ends_exactly_at_closing_is_due_at_closing_not_next_morning():
    assert add_working_time(ny(2026, 11, 20, 16, 0), HOUR, office()) == ny(2026, 11, 20, 17, 0)


def test_a_zero_goal_is_due_at_once_in_working_hours_and_at_the_next_opening_outside():
    calendar = office()
    assert add_working_time(ny(2026, 11, 19, 10, 30), timedelta(0), calendar) == ny(2026, 11, 19, 10, 30)
    assert add_working_time(ny(2026, 11, 21, 10, 30), timedelta(0), calendar) == ny(2026, 11, 23, 9, 0)


def test_goals_of_several_weeks_skip_weekends_and_holidays():
    calendar = office(holidays="US")
    # Working days of 8 hours from Monday 2 November 2026 09:00; Veterans Day (Wednesday 11 November) and
    # Thanksgiving (Thursday 26 November) are skipped, so the 15th working day is Monday 23 November.
    due = add_working_time(ny(2026, 11, 2, 9, 0), timedelta(hours=8 * 15), calendar)
    assert due == ny(2026, 11, 23, 17, 0)
    due = add_working_time(ny(2026, 11, 2, 9, 0), timedelta(hours=8 * 18), calendar)
    assert due == ny(2026, 11, 27, 17, 0)


def test_a_year_long_goal_is_computed_quickly_and_exactly():
    calendar = office(holidays="US")
    start = ny(2026, 1, 5, 9, 0)
    # 2026 has 261 weekdays; two of them (1 and 2 January) come before the start and the weekday holidays
    # after it are skipped, so the remaining working days end on Thursday 31 December at 17:00.
    weekday_holidays = sum(1 for day in holiday_dates("US", 2026) if day.weekday() < 5 and day >= start.date())
    working_days = 261 - 2 - weekday_holidays
    due = add_working_time(start, timedelta(hours=8 * working_days), calendar)
    assert due == ny(2026, 12, 31, 17, 0)
    assert working_time_between(start, due, calendar) == timedelta(hours=8 * working_days)


def test_working_time_between_counts_only_opening_hours():
    calendar = office(holidays="US")
    assert working_time_between(ny(2026, 11, 20, 16, 0), ny(2026, 11, 23, 10, 0), calendar) == 2 * HOUR
    assert working_time_between(ny(2026, 11, 21, 8, 0), ny(2026, 11, 22, 20, 0), calendar) == timedelta(0)
    assert working_time_between(ny(2026, 11, 23, 10, 0), ny(2026, 11, 20, 16, 0), calendar) == -2 * HOUR


def test_naive_datetimes_are_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_time(datetime(2026, 11, 20, 16, 0), HOUR, office())  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        working_time_between(ny(2026, 11, 20, 16, 0), datetime(2026, 11, 21), None)  # noqa: DTZ001


def test_a_negative_goal_is_rejected():
    with pytest.raises(ValueError, match="negative"):
        add_working_time(ny(2026, 11, 20, 16, 0), -HOUR, None)


def test_local_to_instant_moves_a_skipped_time_to_the_end_of_the_gap():
    instant = local_to_instant(datetime(2026, 3, 8, 2, 30), NEW_YORK)  # noqa: DTZ001
    assert instant == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)


def test_local_to_instant_takes_the_first_of_a_repeated_time():
    instant = local_to_instant(datetime(2026, 11, 1, 1, 30), NEW_YORK)  # noqa: DTZ001
    assert instant == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_opening_that_falls_into_a_gap_starts_at_the_end_of_the_gap():
    # Chile moves its clocks from 00:00 to 01:00; a calendar opening at midnight opens at 01:00 that day.
    calendar = BusinessCalendar(frozenset(range(7)), time(0, 0), time(8, 0), None, "America/Santiago")
    opening, closing = calendar.opening_span(date(2026, 9, 6))
    assert opening.astimezone(ZoneInfo("America/Santiago")).time() == time(1, 0)
    assert closing - opening == timedelta(hours=7)


starts = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(NEW_YORK))  # noqa: DTZ001
goals = st.integers(min_value=0, max_value=6 * 5 * 8 * 60).map(lambda minutes: timedelta(minutes=minutes))


@settings(max_examples=300, deadline=None)
@given(start=starts, goal=goals)
def test_working_time_until_the_deadline_equals_the_goal(start, goal):
    calendar = office(holidays="US")
    due = add_working_time(start, goal, calendar)
    assert due >= start
    assert working_time_between(start, due, calendar) == goal


@settings(max_examples=100, deadline=None)
@given(start=starts, goal=goals, extra=goals)
def test_a_longer_goal_never_ends_earlier(start, goal, extra):
    calendar = office(holidays="US")
    assert add_working_time(start, goal + extra, calendar) >= add_working_time(start, goal, calendar)


@pytest.mark.parametrize("country", ["XX", "US-ZZ"])
def test_unknown_holiday_countries_and_subdivisions_are_refused(country: str) -> None:
    with pytest.raises(ValueError, match=f"no public holidays are known for '{country}'"):
        holiday_dates(country, 2026)


# --- choosing the SLA entry -------------------------------------------------------------------------

SLA = {
    "Gold": {"severity": "urgent", "closure_goal": 24 * 3600},
    "Silver": {"severity": "", "closure_goal": 48 * 3600},
    "default": {"severity": "normal", "closure_goal": 72 * 3600},
}


def test_the_customers_tier_picks_severity_and_goal() -> None:
    assert choose_sla(SLA, "Gold", "high") == SlaChoice("urgent", timedelta(hours=24), "Gold")


def test_an_entry_without_severity_keeps_the_rules() -> None:
    assert choose_sla(SLA, "Silver", "high") == SlaChoice("high", timedelta(hours=48), "Silver")


@pytest.mark.parametrize("tier", ["Platinum", ""])
def test_unknown_or_missing_tiers_use_the_default_entry(tier: str) -> None:
    assert choose_sla(SLA, tier, "high") == SlaChoice("normal", timedelta(hours=72), "default")


def test_without_a_default_entry_the_rules_severity_and_72_hours_apply() -> None:
    assert choose_sla({"Gold": SLA["Gold"]}, "Bronze", "low") == SlaChoice("low", FALLBACK_GOAL, None)
    assert timedelta(hours=72) == FALLBACK_GOAL


@pytest.mark.parametrize("tier", ["gold", "GOLD", " Gold "])
def test_tiers_pick_their_entry_whatever_their_case_as_rules_match_them(tier: str) -> None:
    assert choose_sla(SLA, tier, "high") == SlaChoice("urgent", timedelta(hours=24), "Gold")


def test_a_tier_called_default_in_another_case_is_not_the_catch_all_entry() -> None:
    assert choose_sla({"Gold": SLA["Gold"]}, "DEFAULT", "low") == SlaChoice("low", FALLBACK_GOAL, None)


@pytest.mark.parametrize(
    ("unit", "template", "chosen"),
    [
        ("paris-office", "office", "paris-office"),  # the unit's own calendar wins
        ("paris-office", None, "paris-office"),
        (None, "office", "office"),  # a unit without one leaves it to the template
        (None, None, None),  # wall-clock time
    ],
)
def test_the_units_calendar_overrides_the_templates(unit: str | None, template: str | None, chosen: str | None) -> None:
    assert calendar_for_case(unit, template) == chosen
