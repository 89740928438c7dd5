"""core.moments: instants written for people, in a unit's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from closeloop.core.moments import format_moment, format_span

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("instant", "zone", "expected"),
    [
        (datetime(2026, 12, 3, 16, 0, 0, 123456, tzinfo=UTC), "Europe/Berlin", "Thu 3 Dec, 17:00 CET"),
        (datetime(2026, 12, 3, 16, 0, tzinfo=UTC), "Europe/London", "Thu 3 Dec, 16:00 GMT"),
        (datetime(2026, 7, 3, 16, 0, tzinfo=UTC), "Europe/London", "Fri 3 Jul, 17:00 BST"),
        (datetime(2026, 12, 3, 16, 0, tzinfo=UTC), "America/New_York", "Thu 3 Dec, 11:00 EST"),
        (datetime(2026, 12, 3, 16, 0, tzinfo=UTC), "UTC", "Thu 3 Dec, 16:00 UTC"),
        (datetime(2026, 12, 3, 16, 0, tzinfo=UTC), "Asia/Dubai", "Thu 3 Dec, 20:00 +04"),
    ],
)
def test_an_instant_reads_as_weekday_day_month_time_and_zone(instant: datetime, zone: str, expected: str) -> None:
    assert format_moment(instant, zone, now=NOW) == expected


def test_another_year_is_named() -> None:
    assert format_moment(datetime(2025, 12, 4, 16, 0, tzinfo=UTC), "UTC", now=NOW) == "Thu 4 Dec 2025, 16:00 UTC"


def test_the_year_is_compared_on_the_zones_own_calendar() -> None:
    late = datetime(2027, 1, 1, 2, 0, tzinfo=UTC)  # still New Year's Eve in New York
    assert format_moment(late, "America/New_York", now=late) == "Thu 31 Dec, 21:00 EST"
    assert format_moment(late, "Europe/Berlin", now=late) == "Fri 1 Jan, 03:00 CET"
    assert format_moment(late, "America/New_York", now=late.replace(month=3)) == "Thu 31 Dec 2026, 21:00 EST"


def test_a_span_names_both_ends() -> None:
    start, end = datetime(2026, 12, 2, 9, 0, tzinfo=UTC), datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    assert format_span(start, end, "Europe/London", now=NOW) == "Wed 2 Dec, 09:00 GMT to Thu 3 Dec, 09:00 GMT"


def test_naive_instants_and_unknown_zones_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_moment(datetime(2026, 12, 3, 16, 0), "UTC", now=NOW)  # noqa: DTZ001
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        format_moment(NOW, "Mars/Olympus", now=NOW)
