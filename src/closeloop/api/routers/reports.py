"""/api/v1/reports: the loop summary for integrators and dashboards."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from closeloop.api.auth import TokenAuth, token_of, token_units
from closeloop.api.errors import ApiError, invalid_field
from closeloop.api.schemas import Day, ErrorOut
from closeloop.core.periods import default_range
from closeloop.org.directory import current_organization
from closeloop.org.models import Unit
from closeloop.reports.queries import hours_between_statuses_for, loop_summary_for, summary_to_dict

router = Router(tags=["reports"])


class CategoryShareOut(Schema):
    category: str
    count: int
    percent: float | None = Field(description="Share of the alerts of its kind, one decimal; null when there were none")


class RootCauseShareOut(Schema):
    root_cause: str
    count: int
    percent: float | None = Field(description="Share of the closed cases that were given a root cause")


class FirstContactOut(Schema):
    """How soon customers were first spoken to, from the case's opening to the first note that spoke to them."""

    cases: int
    contacted: int
    within_1h_percent: float | None = Field(
        description="Contacted within an hour, of the cases contacted or open at least an hour"
    )
    within_24h_percent: float | None
    within_48h_percent: float | None
    median_hours: float | None
    p90_hours: float | None


class PersonContactOut(Schema):
    person: str = Field(description="The responsible person's config id: the case's owner, else its unit's lead")
    name: str
    first_contact: FirstContactOut


class UnitSummaryOut(Schema):
    unit: str | None = Field(description="Unit code; null for the whole selection")
    responses: int = Field(description="Valid, current responses submitted in the period")
    needing_recovery: int
    alerts_by_category: list[CategoryShareOut] = Field(
        description="Recovery alerts (the ones that need action) by category, or the alerts of `kind`"
    )
    praise_count: int = Field(description="Praise alerts, counted apart from the categories")
    praise_by_category: list[CategoryShareOut] = Field(description="Praise alerts by category, for their own panel")
    watch_by_category: list[CategoryShareOut] = Field(description="Watch alerts by category, apart too")
    cases: int
    contacted_percent: float | None = Field(description="Cases with a note that spoke to the customer")
    median_hours_to_contact: float | None
    p90_hours_to_contact: float | None
    closed_within_goal_percent: float | None = Field(
        description="Closed by their due time, of the cases closed or already past it"
    )
    resolved_percent: float | None = Field(description="Closed as resolved, of the closed cases")
    recovered_percent: float | None = Field(description="Customers who said so in the follow-up survey")
    root_causes: list[RootCauseShareOut]
    first_contact: FirstContactOut | None


class StatusSpanOut(Schema):
    from_status: str
    to_status: str
    median_hours: float | None = Field(description="Over the cases that entered both, in that order")


class SummaryOut(UnitSummaryOut):
    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")
    by_unit: list[UnitSummaryOut]
    by_person: list[PersonContactOut] = Field(description="Time to first contact per responsible person")
    between_statuses: StatusSpanOut | None = Field(None, description="When `from_status` and `to_status` are given")


class SummaryFilters(Schema):
    """The query parameters of `GET /api/v1/reports/summary`."""

    date_from: Day | None = Field(
        None, alias="from", description="YYYY-MM-DD, first day (organisation's time zone); default 29 days ago"
    )
    date_to: Day | None = Field(None, alias="to", description="YYYY-MM-DD, last day, included; default today")
    unit: str | None = Field(None, description="A unit code: that unit and every unit below it")
    from_status: str | None = Field(
        None, description="With `to_status`: also report the median hours between entering the two statuses"
    )
    to_status: str | None = Field(None, description="See `from_status`")
    kind: Literal["recovery", "praise", "watch"] = Field(
        "recovery", description="Which alerts `alerts_by_category` shares out (default: recovery)"
    )


# Every query parameter the summary understands; any other is a mistake worth saying so (422).
SUMMARY_PARAMETERS = frozenset({"from", "to", "unit", "from_status", "to_status", "kind"})


@router.get(
    "/summary",
    auth=TokenAuth("read"),
    response={200: SummaryOut, **{code: ErrorOut for code in (401, 403, 404, 422)}},
    by_alias=True,
    summary="Loop summary",
)
def summary(request: HttpRequest, filters: Query[SummaryFilters]) -> dict[str, Any]:
    """`?from=YYYY-MM-DD&to=YYYY-MM-DD&unit=CODE`: days in the organisation's time zone, both included
    (default: the last 30 days); the unit with its whole subtree (default: every unit the token sees).
    Percentages and hours are null when there was nothing to measure."""
    unknown = sorted(set(request.GET) - SUMMARY_PARAMETERS)
    if unknown:
        known = ", ".join(sorted(SUMMARY_PARAMETERS))
        raise ApiError(
            422,
            f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
            [((name,), f"unknown parameter; this endpoint takes {known}") for name in unknown],
        )
    today = timezone.now().astimezone(ZoneInfo(current_organization().time_zone)).date()
    default_from, default_to = default_range(today)
    date_from = filters.date_from or default_from
    date_to = filters.date_to or default_to
    if date_from > date_to:
        raise invalid_field(("to",), "must not be before `from`")
    units = token_units(token_of(request))
    unit = None
    code = filters.unit
    if code:
        unit = Unit.objects.filter(code=code).first()
        if unit is None:
            raise invalid_field(("unit",), f"unknown unit {code!r}")
        if units is not None and not units.filter(pk=unit.pk).exists():
            raise ApiError(404, f"No unit {code!r}.")
    result = summary_to_dict(loop_summary_for(date_from, date_to, unit, units=units, kind=filters.kind))
    if bool(filters.from_status) != bool(filters.to_status):
        missing = "to_status" if filters.from_status else "from_status"
        raise invalid_field((missing,), "give both from_status and to_status")
    if filters.from_status and filters.to_status:
        result["between_statuses"] = {
            "from_status": filters.from_status,
            "to_status": filters.to_status,
            "median_hours": hours_between_statuses_for(
                date_from, date_to, filters.from_status, filters.to_status, unit, units=units
            ),
        }
    return {"from": date_from.isoformat(), "to": date_to.isoformat(), **result}
