"""core.detection: a repeat failure is another recovery alert of the customer within the window before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from closeloop.core.detection import is_repeat_failure, latest_earlier_failure

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
