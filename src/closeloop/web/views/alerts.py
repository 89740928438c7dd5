"""The alerts list: every alert the viewer's units raised, sortable and filterable."""

from __future__ import annotations

from django.db.models import Case as SqlCase
from django.db.models import IntegerField, Value, When
from django.http import HttpRequest, HttpResponse

from closeloop.alerts.models import Alert, Rule
from closeloop.cases.models import Case
from closeloop.core.rules import threshold_rule
from closeloop.org.directory import current_organization
from closeloop.web.forms import AlertFilterForm
from closeloop.web.lists import in_date_range, page_of, sort_order
from closeloop.web.permissions import Viewer, web_view
from closeloop.web.views.common import page

# Severity sorts by how bad it is, not alphabetically.
SEVERITY_RANK = SqlCase(
    When(severity="urgent", then=Value(4)),
    When(severity="high", then=Value(3)),
    When(severity="normal", then=Value(2)),
    default=Value(1),
    output_field=IntegerField(),
)
ALERT_ORDERS = {
    "date": ("created_at", "id"),
    "severity": ("severity_rank", "-created_at", "-id"),
    "unit": ("unit__code", "-created_at", "-id"),
}


def alert_categories() -> list[str]:
    """The categories the configured rules (and the built-in threshold rule) raise alerts in.

    Read from the rules rather than from the alerts, so the filter costs nothing however many alerts exist.
    """
    configured = set(Rule.objects.values_list("category", flat=True))
    return sorted(configured | {threshold_rule(0).category})


@web_view
def alert_list(request: HttpRequest) -> HttpResponse:
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    alerts = viewer.alerts(Alert.objects.select_related("unit", "response", "response__customer"))
    categories = alert_categories()
    form = AlertFilterForm(request.GET or None, units=list(viewer.unit_choices()), categories=categories)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        unit = form.chosen_unit()
        if unit is not None:
            alerts = alerts.filter(unit__path__startswith=unit.path)
        if data["kind"]:
            alerts = alerts.filter(kind=data["kind"])
        if data["category"]:
            alerts = alerts.filter(category=data["category"])
        alerts = in_date_range(
            alerts, "created_at", data["date_from"], data["date_to"], current_organization().time_zone
        )
    elif form.is_bound:
        alerts = alerts.none()
    sort, fields = sort_order(request.GET.get("sort", ""), ALERT_ORDERS, "-date")
    alerts = alerts.annotate(severity_rank=SEVERITY_RANK).order_by(*fields)
    listing = page_of(request, alerts)
    cases = cases_of_alerts(listing.rows)
    rows = [{"alert": alert, "case": cases.get(alert.pk)} for alert in listing.rows]
    return page(request, "web/alerts.html", {"form": form, "page": listing, "rows": rows, "sort": sort})


def cases_of_alerts(alerts: list[Alert]) -> dict[int, Case]:
    """The case each alert led to (by alert id), in one query: its response's case, or, once the customer
    resubmitted the same ticket, the case that moved on to the newer response."""
    wanted: dict[int, list[int]] = {}
    for alert in alerts:
        for response_id in (alert.response_id, alert.response.superseded_by_id):
            if response_id is not None:
                wanted.setdefault(response_id, []).append(alert.pk)
    found: dict[int, Case] = {}
    for case in Case.objects.filter(response_id__in=list(wanted)).select_related("owner").order_by("id"):
        for alert_id in wanted.get(case.response_id, []):
            found.setdefault(alert_id, case)
    return found
