"""The report's complaint themes: the report's period against the same number of days just before it.

The selection is the loop report's own (closeloop.reports.queries.selected_responses: valid, current,
routed responses of the days, in the unit's subtree, of the units the reader may see); grouping and
comparing are closeloop.loop.themes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet

from closeloop.loop.themes import ThemeReport, ThemeRow, compare_complaints
from closeloop.org.models import Unit
from closeloop.reports.queries import selected_responses

# A panel, not a list: the themes that jumped, then the largest; the rest are counted.
SHOWN = 8


@dataclass(frozen=True)
class ReportThemes:
    date_from: date
    date_to: date
    previous_from: date
    previous_to: date
    report: ThemeReport

    @property
    def shown(self) -> list[ThemeRow]:
        return self.report.themes[:SHOWN]

    @property
    def more(self) -> int:
        return max(len(self.report.themes) - SHOWN, 0)


def report_themes(
    date_from: date, date_to: date, unit: Unit | None = None, *, units: QuerySet[Unit] | None = None
) -> ReportThemes:
    """Themes of the complaints of `date_from`..`date_to` (both included), compared with the days before."""
    days = (date_to - date_from).days + 1
    previous_to = date_from - timedelta(days=1)
    previous_from = previous_to - timedelta(days=days - 1)
    current = selected_responses(date_from, date_to, unit, units=units)
    previous = selected_responses(previous_from, previous_to, unit, units=units)
    return ReportThemes(date_from, date_to, previous_from, previous_to, compare_complaints(previous, current))
