"""/api/v1/activity (customer purchases, renewals, cancellations) and /api/v1/reports/retention."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel

from closeloop.api.auth import TokenAuth, token_of, token_units, unit_limit
from closeloop.api.errors import ApiError, invalid_field, malformed_json_detail
from closeloop.api.openapi import json_body
from closeloop.api.pagination import paginate
from closeloop.api.schemas import Day, ErrorOut
from closeloop.core.periods import default_range
from closeloop.feedback.store import FieldError, RejectedInput
from closeloop.loop.activity import ActivityRow, check_rows, store_rows
from closeloop.loop.models import SpikeAlert
from closeloop.loop.retention import DEFAULT_DAYS, retention_report
from closeloop.org.directory import current_organization
from closeloop.org.models import Unit

router = Router(tags=["loop"])
ERRORS: dict[int, type[ErrorOut]] = {code: ErrorOut for code in (401, 403, 404, 413, 422)}
MAX_DAYS = 3650


class ActivityIn(BaseModel):
    """One thing a customer did; a body is one of these or a list of them."""

    customer_id: str = Field(description="The customer's id, as the survey tool sent it with their responses")
    date: Day
    kind: Literal["purchase", "renewal", "cancellation"]
    amount: Decimal | None = None


class ActivityStoredOut(Schema):
    created: int = Field(description="New rows")
    replayed: int = Field(description="Rows stored before (same customer, date, kind and amount): nothing changed")


def _items(request: HttpRequest) -> tuple[list[Any], bool]:
    """The body's items and whether it was a list (then errors are located by index)."""
    try:
        data = json.loads(request.body or b"")
    except ValueError as exc:
        raise ApiError(422, malformed_json_detail(exc), [((), "the body must be a JSON object or array")]) from exc
    if isinstance(data, list):
        if not data:
            raise ApiError(422, "The list is empty.", [((), "give at least one activity")])
        return data, True
    if isinstance(data, dict):
        return [data], False
    raise ApiError(422, "The body must be a JSON object or an array of objects.", [((), "expected an object")])


@router.post(
    "/activity",
    auth=TokenAuth("ingest"),
    response={200: ActivityStoredOut, 201: ActivityStoredOut, **ERRORS},
    openapi_extra=json_body(ActivityIn, "One activity, or a JSON array of them; all are stored or none."),
    summary="Record customer activity",
)
def post_activity(request: HttpRequest) -> Status:
    """201 when anything new was stored, 200 when every item was a replay; 422 naming each bad field. A token
    limited to units tells only about customers who answered in them (any other is an unknown customer)."""
    items, is_list = _items(request)
    rows: list[ActivityRow] = []
    errors: list[FieldError] = []
    for index, outcome in enumerate(check_rows(items, units=unit_limit(token_of(request)))):
        if isinstance(outcome, ActivityRow):
            rows.append(outcome)
        else:
            errors += [FieldError((index, *e.loc) if is_list else e.loc, e.msg) for e in outcome]
    if errors:
        raise RejectedInput(errors)
    stored = store_rows(rows, now=timezone.now())
    return Status(201 if stored.created else 200, {"created": stored.created, "replayed": stored.replayed})


class RetentionFilters(Schema):
    date_from: Day | None = Field(
        None, alias="from", description="YYYY-MM-DD, first day cases closed; default 29 days ago"
    )
    date_to: Day | None = Field(None, alias="to", description="YYYY-MM-DD, last day, included; default today")
    days: int = Field(DEFAULT_DAYS, description="Days after the case opened in which the customer must buy or renew")
    unit: str | None = Field(None, description="A unit code: that unit and every unit below it")


class RetentionGroupOut(Schema):
    group: str = Field(description="recovered, not_recovered or never_contacted")
    customers: int
    retained: int
    retained_percent: float | None


class RetentionOut(Schema):
    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")
    days: int
    customers: int
    retained: int
    retained_percent: float | None
    groups: list[RetentionGroupOut]


@router.get(
    "/reports/retention",
    auth=TokenAuth("read"),
    response={200: RetentionOut, **ERRORS},
    by_alias=True,
    summary="Retention of customers who complained",
)
def retention(request: HttpRequest, filters: Query[RetentionFilters]) -> dict[str, Any]:
    """Customers of the cases closed `from`..`to`, grouped by how their case ended (recovered: said yes in the
    follow-up, or closed as resolved when they did not answer; not recovered; never contacted: no note that
    spoke to them), and how many of each bought or renewed without cancelling in the `days` after it opened."""
    today = timezone.now().astimezone(ZoneInfo(current_organization().time_zone)).date()
    default_from, default_to = default_range(today)
    date_from, date_to = filters.date_from or default_from, filters.date_to or default_to
    if date_from > date_to:
        raise invalid_field(("to",), "must not be before `from`")
    if not 1 <= filters.days <= MAX_DAYS:
        raise invalid_field(("days",), f"must be 1 to {MAX_DAYS}")
    units = token_units(token_of(request))
    unit = None
    if filters.unit:
        unit = Unit.objects.filter(code=filters.unit).first()
        if unit is None:
            raise invalid_field(("unit",), f"unknown unit {filters.unit!r}")
        if units is not None and not units.filter(pk=unit.pk).exists():
            raise ApiError(404, f"No unit {filters.unit!r}.")
    report = retention_report(date_from, date_to, days=filters.days, unit=unit, units=units)
    data = asdict(report)
    data["from"], data["to"] = data.pop("date_from"), data.pop("date_to")
    return data


class SpikeExampleOut(Schema):
    response: int
    text: str = Field(description="The customer's comment (and interviewer notes), shortened")
    link: str


class SpikeOut(Schema):
    id: int
    unit: str
    category: str
    day: date = Field(description="The day the alerts were counted (organisation's time zone)")
    count: int
    baseline: float = Field(description="The usual count: mean of the same weekday in the baseline weeks")
    open: bool = Field(description="True while later days keep spiking")
    cleared_on: date | None
    created_at: str
    examples: list[SpikeExampleOut]


class SpikePageOut(Schema):
    items: list[SpikeOut]
    count: int
    next: str | None
    count_estimated: bool = Field(
        False, description="true: `count` is the database's estimate (a list past 10,000 rows on PostgreSQL)"
    )


def spike_to_dict(spike: SpikeAlert) -> dict[str, Any]:
    return {
        "id": spike.pk,
        "unit": spike.unit.code,
        "category": spike.category,
        "day": spike.day,
        "count": spike.count,
        "baseline": spike.baseline,
        "open": spike.cleared_on is None,
        "cleared_on": spike.cleared_on,
        "created_at": spike.created_at.isoformat(),
        "examples": spike.examples,
    }


@router.get("/spikes", auth=TokenAuth("read"), response={200: SpikePageOut, **ERRORS}, summary="List spike alerts")
def list_spikes(request: HttpRequest, open: bool | None = None) -> dict[str, Any]:
    """Sudden rises of one category of recovery alerts at one unit, newest first; `?open=true` for the ones
    still going on. Only the units the token's person may see."""
    spikes = SpikeAlert.objects.select_related("unit")
    units = token_units(token_of(request))
    if units is not None:
        spikes = spikes.filter(unit__in=units)
    if open is not None:
        spikes = spikes.filter(cleared_on__isnull=open)
    return paginate(request, spikes.order_by("-day", "-id"), spike_to_dict)
