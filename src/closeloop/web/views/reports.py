"""Reports: the loop summary as charts, a table and a CSV download, for the viewer's units."""

from __future__ import annotations

import csv
from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse

from closeloop.core.metrics import CONTACT_WINDOWS, RECOVERED_DEFINITION, LoopSummary
from closeloop.core.periods import default_range
from closeloop.org.directory import directory
from closeloop.reports.queries import loop_summary_for, needing_recovery_by_week
from closeloop.reports.themes import report_themes
from closeloop.web import charts
from closeloop.web.forms import ReportFilterForm, ServiceReportForm
from closeloop.web.permissions import Viewer, web_view
from closeloop.web.views.common import org_today, page

CSV_COLUMNS = [
    ("unit", "Unit"),
    ("responses", "Responses"),
    ("needing_recovery", "Needing recovery"),
    ("cases", "Cases"),
    ("contacted_percent", "Contacted %"),
    ("median_hours_to_contact", "Median hours to contact"),
    ("p90_hours_to_contact", "90th percentile hours to contact"),
    ("closed_within_goal_percent", "Closed within goal %"),
    ("resolved_percent", "Resolved %"),
    ("recovered_percent", "Recovered %"),
]
# The time to first contact, after the contract's columns.
CONTACT_COLUMNS = [
    *[(hours, f"Contacted within {hours} h %") for hours in CONTACT_WINDOWS],
]


def _selection(request: HttpRequest) -> tuple[ReportFilterForm, date, date, Any]:
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    date_from, date_to = default_range(org_today())
    form = ReportFilterForm(
        request.GET or None,
        units=list(viewer.unit_choices()),
        initial={"date_from": date_from, "date_to": date_to},
    )
    unit = None
    if form.is_bound and form.is_valid():
        date_from = form.cleaned_data["date_from"] or date_from
        date_to = form.cleaned_data["date_to"] or date_to
        unit = form.chosen_unit()
    return form, date_from, date_to, unit


@web_view
def reports(request: HttpRequest) -> HttpResponse:
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    form, date_from, date_to, unit = _selection(request)
    summary = loop_summary_for(date_from, date_to, unit, units=viewer.units)
    weeks = needing_recovery_by_week(date_from, date_to, unit, units=viewer.units)
    names = {key: person.name for key, person in directory().people.items()}
    context = {
        "recovered_definition": RECOVERED_DEFINITION,
        "contact_windows": CONTACT_WINDOWS,
        "people_contact": [(names.get(row.person, row.person), row.contact) for row in summary.by_person],
        "pdf_form": ServiceReportForm(
            units=list(viewer.unit_choices()), initial={"unit": unit.code if unit else "", "date": org_today()}
        ),
        "form": form,
        "summary": summary,
        "date_from": date_from,
        "date_to": date_to,
        "unit": unit,
        "csv_query": request.GET.urlencode(),
        # The themes panel is filled in by the page's script from reports/themes/ (grouping takes seconds).
        "themes_query": request.GET.urlencode(),
        "charts": {
            "categories": charts.categories_chart(summary) if summary.alerts_by_category else "",
            "units": charts.units_chart(summary) if summary.by_unit else "",
            "weeks": charts.weekly_chart(weeks) if weeks else "",
        },
    }
    return page(request, "web/reports.html", context)


@web_view
def reports_themes(request: HttpRequest) -> HttpResponse:
    """The complaint themes of the report's period and unit: the panel alone for the reports page's script
    (X-Requested-With: fetch), else a page of its own (without the script, the reports page links here)."""
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    form, date_from, date_to, unit = _selection(request)
    context = {"themes": report_themes(date_from, date_to, unit, units=viewer.units), "unit": unit, "form": form}
    if request.headers.get("X-Requested-With") == "fetch":
        return page(request, "web/_themes.html", context)
    return page(request, "web/themes.html", context)


def _row(summary: LoopSummary, label: str) -> list[object]:
    values = [getattr(summary, key) for key, _ in CSV_COLUMNS[1:]]
    contact = summary.contact
    values += [contact.within_hours.get(hours) if contact else None for hours, _ in CONTACT_COLUMNS]
    return [label, *["" if value is None else value for value in values]]


@web_view
def reports_csv(request: HttpRequest) -> HttpResponse:
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    _, date_from, date_to, unit = _selection(request)
    summary = loop_summary_for(date_from, date_to, unit, units=viewer.units)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="loop-summary-{date_from}-{date_to}.csv"'
    writer = csv.writer(response)
    writer.writerow([title for _, title in CSV_COLUMNS] + [title for _, title in CONTACT_COLUMNS])
    writer.writerow(_row(summary, f"All ({unit.code})" if unit else "All"))
    for unit_summary in summary.by_unit:
        writer.writerow(_row(unit_summary, unit_summary.unit or ""))
    return response
