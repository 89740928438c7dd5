"""/api/v1/alerts: every alert raised, with who was told through which channel."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.dateparse import parse_date, parse_datetime
from ninja import Router

from closeloop.alerts.models import KIND_CHOICES, Alert
from closeloop.alerts.serialize import alert_fields
from closeloop.api.auth import TokenAuth, token_alerts, token_of
from closeloop.api.errors import invalid_field
from closeloop.api.models import ApiToken
from closeloop.api.pagination import paginate
from closeloop.api.schemas import ErrorOut
from closeloop.core.limits import instant_problem
from closeloop.notify.models import Delivery
from closeloop.org.directory import current_organization
from closeloop.org.models import Unit

router = Router(tags=["alerts"])
KINDS = [value for value, _ in KIND_CHOICES]


def alert_to_dict(alert: Alert) -> dict[str, Any]:
    return {
        **alert_fields(alert),
        "response": alert.response_id,
        "mode": alert.mode,
        # Every message that told someone about this alert; one message may tell about several alerts of
        # the same response (`delivery` is its id, the same in each of them).
        "recipients": [
            {
                "person": d.person.key if d.person else None,
                "channel": d.channel,
                "address": d.address if d.channel == "webhook" else None,
                "status": d.status,
                "sent_at": d.sent_at.isoformat() if d.sent_at else None,
                "error": d.last_error or None,
                "delivery": d.pk,
                "alerts": sorted(other.pk for other in d.alerts.all()),
                "attempts": [
                    {"number": a.number, "at": a.at.isoformat(), "outcome": a.outcome, "error": a.error or None}
                    for a in d.attempt_log.all()
                ],
            }
            for d in alert.messages.all()
        ],
    }


def _since(raw: str) -> datetime:
    moment = parse_datetime(raw)
    if moment is None:
        day = parse_date(raw) if len(raw) == 10 else None
        if day is None:
            raise invalid_field(("since",), f"{raw!r} is not an ISO-8601 date or time")
        # A bare date starts at midnight in the organisation's time zone.
        moment = datetime.combine(day, time.min, tzinfo=ZoneInfo(current_organization().time_zone))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(current_organization().time_zone))
    problem = instant_problem(moment)
    if problem:
        raise invalid_field(("since",), problem)
    return moment


def visible_alerts(token: ApiToken) -> QuerySet[Alert]:
    messages = Delivery.objects.select_related("person").prefetch_related("alerts", "attempt_log").order_by("id")
    alerts = Alert.objects.select_related("unit").prefetch_related(Prefetch("messages", queryset=messages))
    return token_alerts(token, alerts)


@router.get(
    "", auth=TokenAuth("read"), response={200: dict, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}, summary="List alerts"
)
def list_alerts(
    request: HttpRequest,
    kind: str | None = None,
    unit: str | None = None,
    category: str | None = None,
    since: str | None = None,
    page: int = 1,
) -> dict[str, Any]:
    """Newest first. `unit` includes its whole subtree; `since` is an ISO-8601 time or date."""
    alerts = visible_alerts(token_of(request))
    if kind:
        if kind not in KINDS:
            raise invalid_field(("kind",), f"must be one of {', '.join(KINDS)}, not {kind!r}")
        alerts = alerts.filter(kind=kind)
    if unit:
        found = Unit.objects.filter(code=unit).first()
        if found is None:
            raise invalid_field(("unit",), f"unknown unit {unit!r}")
        alerts = alerts.filter(unit__path__startswith=found.path)
    if category:
        alerts = alerts.filter(category=category)
    if since:
        alerts = alerts.filter(created_at__gte=_since(since))
    return paginate(request, alerts.order_by("-created_at", "-id"), alert_to_dict)
