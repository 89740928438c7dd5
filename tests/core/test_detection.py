"""core.detection: a repeat failure is another recovery alert of the customer within the window before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from closeloop.core.detection import is_repeat_failure, latest_earlier_failure, survey_threshold

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=90)


@pytest.mark.parametrize(
    ("earlier", "repeat"),
    [
        ([], False),
        ([NOW - timedelta(days=1)], True),
        ([NOW - WINDOW], True),
        ([NOW - WINDOW - timedelta(seconds=1)], False),
        ([NOW], False),
        ([NOW + timedelta(hours=1)], False),
        ([NOW - timedelta(days=200), NOW - timedelta(days=10)], True),
    ],
)
def test_repeat_failure_counts_earlier_failures_inside_the_window_only(earlier: list[datetime], repeat: bool) -> None:
    assert is_repeat_failure(NOW, earlier, WINDOW) is repeat


@pytest.mark.parametrize(
    ("organization", "own", "low", "high", "expected"),
    [
        (6, None, 1, 5, 3.4),
        (6, None, 0, 100, 60),
        (6, None, 1, 7, 4.6),
        (5, None, -2, 2, 0),
        # Scores out of ten read the threshold as written (NPS, 0-10, 1-10), as the contract says.
        (6, None, 0, 10, 6),
        (6, None, 1, 10, 6),
        (0, None, 1, 10, 0),
        # No known range: as written.
        (6, None, None, None, 6),
        # The survey's own threshold, in its own scale, always wins.
        (6, 2, 1, 5, 2),
        (6, 8, 1, 10, 8),
    ],
)
def test_the_recovery_threshold_is_converted_onto_the_surveys_scale(
    organization: float, own: float | None, low: float | None, high: float | None, expected: float
) -> None:
    got = survey_threshold(organization, own_threshold=own, scale_min=low, scale_max=high)
    assert got == pytest.approx(expected)


def test_a_perfect_score_on_a_five_point_survey_is_above_the_converted_threshold() -> None:
    threshold = survey_threshold(6, own_threshold=None, scale_min=1, scale_max=5)
    assert 3 <= threshold < 4


def test_a_repeat_failure_names_the_latest_earlier_failure_inside_the_window() -> None:
    earlier = [
        (NOW - timedelta(days=200), "long ago"),
        (NOW - timedelta(days=30), "last month"),
        (NOW - timedelta(days=3), "this week"),
        (NOW + timedelta(days=1), "later"),
    ]
    assert latest_earlier_failure(NOW, earlier, WINDOW) == "this week"
    assert latest_earlier_failure(NOW, earlier[:1], WINDOW) is None
    assert latest_earlier_failure(NOW, [], WINDOW) is None
