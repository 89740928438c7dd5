"""The Performance Monitor: my open cases, the most urgent first, and the loop's counters for today."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from closeloop.alerts.models import Alert
from closeloop.cases.models import Case
from closeloop.cases.queries import escalations_to
from closeloop.feedback.queries import local_day_bounds
from closeloop.org.directory import current_organization
from closeloop.web.lists import sort_order
from closeloop.web.permissions import Viewer, web_view
from closeloop.web.status import DUE_SOON
from closeloop.web.timeline import escalation_words
from closeloop.web.views.case_list import case_rows
from closeloop.web.views.common import org_today, page

MONITOR_ROWS = 100
REFRESH_SECONDS = 30
# Ascending due time (the default) puts the overdue first, oldest deadline on top, then the ones due soon.
MONITOR_ORDERS = {
    "due": ("due_at", "id"),
    "opened": ("opened_at", "id"),
    "severity": ("-severity_rank", "due_at", "id"),
    "status": ("status", "due_at", "id"),
    "unit": ("unit__code", "due_at", "id"),
}


def monitor_counters(viewer: Viewer, cases: QuerySet[Case], now: datetime, start_of_day: datetime) -> dict[str, int]:
    """The counters over `cases` (already narrowed to what the viewer sees, and to the scope), in three queries.

    Open, overdue and due soon are one aggregate over the open cases: the visibility condition is tested once per
    open case, on the (state, due_at) index, instead of once per counter. Contacted today is its own count on the
    contacted_at index: it takes closed cases too, and one WHERE for both (state open OR contacted today) made
    SQLite scan every case. Praise counts responses, not alerts (two praise rules can fire on one response).
    """
    counts = cases.filter(state=Case.State.OPEN).aggregate(
        open=Count("pk"),
        overdue=Count("pk", filter=Q(due_at__lte=now)),
        due_soon=Count("pk", filter=Q(due_at__gt=now, due_at__lte=now + DUE_SOON)),
    )
    # COUNT(DISTINCT) on the (kind, created_at) index: a SELECT DISTINCT subquery instead made SQLite walk every
    # alert in response order to skip the sort, ~70 ms at 1M responses.
    praise = viewer.alerts(Alert.objects.filter(kind="praise", created_at__gte=now - timedelta(days=7)))
    return {
        **counts,
        "contacted_today": cases.filter(contacted_at__gte=start_of_day).count(),
        "praise_week": praise.aggregate(responses=Count("response_id", distinct=True))["responses"],
    }


def monitor_context(request: HttpRequest) -> dict[str, Any]:
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    now = timezone.now()
    # People see the cases they work on; admins and accounts without cases of their own may widen to all.
    scope = request.GET.get("scope") or ("mine" if viewer.person else "all")
    if scope != "all":
        scope = "mine"
    cases = viewer.cases(Case.objects.all())
    if scope == "mine":
        cases = viewer.team_cases(cases)
    open_cases = cases.filter(state=Case.State.OPEN)
    sort, fields = sort_order(request.GET.get("sort", ""), MONITOR_ORDERS, "due")
    rows = list(case_rows(open_cases).order_by(*fields)[:MONITOR_ROWS])
    # Cases escalated to the viewer say so, with their level and why, so they stand out from their own.
    escalated = (
        {
            case_id: escalation_words(notice)
            for case_id, notice in escalations_to(viewer.person, [c.pk for c in rows]).items()
        }
        if viewer.person is not None
        else {}
    )
    start_of_day = local_day_bounds(org_today(now), current_organization().time_zone)[0]
    return {
        "scope": scope,
        # The counters and "see them all" open the case list on the same cases.
        "list_scope": "&mine=true" if scope == "mine" else "",
        "sort": sort,
        "cases": rows,
        "escalated": escalated,
        "refresh_seconds": REFRESH_SECONDS,
        "counters": monitor_counters(viewer, cases, now, start_of_day),
    }


@web_view
def home(request: HttpRequest) -> HttpResponse:
    return page(request, "web/home.html", monitor_context(request))


@web_view
def monitor_fragment(request: HttpRequest) -> HttpResponse:
    """The monitor's body alone: the page's script swaps it in every 30 seconds."""
    return page(request, "web/_monitor.html", monitor_context(request))
