"""Spike detection on synthetic daily complaint counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from closeloop.core.spikes import Spike, detect_spikes, window_count

MONDAY = date(2026, 11, 23)
INSTALL = ("SUP-EMEA", "Installation issues")
BILLING = ("SUP-EMEA", "Billing")


def weekly_pattern(weeks: int, monday: int, other_day: int, last_day: date = MONDAY) -> list[tuple[date, int]]:
    """Daily counts ending on `last_day`, with a peak every Monday."""
    days = [last_day - timedelta(days=back) for back in range(weeks * 7)]
    return [(day, monday if day.weekday() == 0 else other_day) for day in sorted(days)]


def with_today(series: list[tuple[date, int]], count: int) -> list[tuple[date, int]]:
    return [(day, count if day == MONDAY else value) for day, value in series]


def detect(series, window_days=1, baseline_weeks=4, factor=2.0, min_count=3):
    return detect_spikes(
        series,
        today=MONDAY,
        window_days=window_days,
        baseline_weeks=baseline_weeks,
        factor=factor,
        min_count=min_count,
    )


@pytest.mark.parametrize("window_days", [1, 3, 7])
def test_a_regular_monday_peak_is_not_a_spike(window_days):
    series = {INSTALL: weekly_pattern(weeks=8, monday=10, other_day=2)}
    assert detect(series, window_days=window_days) == []


def test_the_monday_peak_would_look_like_a_spike_against_the_previous_days():
    # The reason the baseline is weekday-aligned: against Sunday the Monday count is five times higher.
    counts = dict(weekly_pattern(weeks=8, monday=10, other_day=2))
    assert window_count(counts, MONDAY, 1) > 2 * window_count(counts, MONDAY - timedelta(days=1), 1)


def test_a_real_jump_is_a_spike_with_its_baseline():
    series = {INSTALL: with_today(weekly_pattern(weeks=8, monday=10, other_day=2), 25)}
    assert detect(series) == [Spike(INSTALL, 25, 10.0)]


def test_a_rise_up_to_the_factor_is_not_a_spike():
    series = {INSTALL: with_today(weekly_pattern(weeks=8, monday=10, other_day=2), 20)}
    assert detect(series) == []


def test_a_jump_below_the_minimum_count_is_not_a_spike():
    series = {INSTALL: with_today(weekly_pattern(weeks=8, monday=0, other_day=0), 2)}
    assert detect(series, min_count=3) == []
    assert detect(series, min_count=2) == [Spike(INSTALL, 2, 0.0)]


def test_a_key_with_no_history_is_judged_by_the_minimum_count_alone():
    series = {INSTALL: [(MONDAY, 6)], BILLING: []}
    assert detect(series, min_count=5) == [Spike(INSTALL, 6, 0.0)]
    assert detect(series, min_count=7) == []


def test_the_baseline_is_the_mean_over_the_requested_weeks():
    # Mondays of the last four weeks had 4, 0, 8 and 0 complaints: a mean of 3.
    history = {MONDAY - timedelta(weeks=1): 4, MONDAY - timedelta(weeks=3): 8, MONDAY - timedelta(weeks=6): 50}
    series = {INSTALL: [*history.items(), (MONDAY, 7)]}
    assert detect(series, baseline_weeks=4) == [Spike(INSTALL, 7, 3.0)]


def test_entries_for_the_same_day_are_added_and_later_days_ignored():
    series = {INSTALL: [(MONDAY, 2), (MONDAY, 2), (MONDAY + timedelta(days=1), 40)]}
    assert detect(series) == [Spike(INSTALL, 4, 0.0)]


def test_spikes_come_largest_excess_first():
    quiet = weekly_pattern(weeks=8, monday=1, other_day=1)
    series = {BILLING: with_today(quiet, 5), INSTALL: with_today(quiet, 30)}
    assert [spike.key for spike in detect(series)] == [INSTALL, BILLING]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"window_days": 0}, "window_days"),
        ({"window_days": 8}, "window_days"),
        ({"baseline_weeks": 0}, "baseline_weeks"),
        ({"factor": 0}, "factor"),
        ({"min_count": 0}, "min_count"),
    ],
)
def test_parameters_out_of_range_are_rejected(arguments, message):
    with pytest.raises(ValueError, match=message):
        detect({}, **arguments)
