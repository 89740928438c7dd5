"""Report periods: which days a report covers when the reader does not say."""

from __future__ import annotations

from datetime import date, timedelta

# Reports and lists cover the last 30 days unless asked otherwise.
DEFAULT_REPORT_DAYS = 30


def default_range(today: date) -> tuple[date, date]:
    """The last 30 days up to and including today."""
    return today - timedelta(days=DEFAULT_REPORT_DAYS - 1), today
