"""Case events as webhooks: endpoints that subscribe to `case.opened`, `case.status`, `case.escalated`,
`case.closed` or `case.reopened` (`webhooks[].events`) get a signed JSON POST for each, through the outbox,
in the transaction that wrote the event (signing is the webhook channel's, the same as for alerts)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from closeloop.cases.models import Case, CaseEvent
from closeloop.cases.notifications import case_link
from closeloop.core.routing import endpoint_wants_event
from closeloop.notify.endpoints import active_endpoints
from closeloop.notify.models import Delivery
from closeloop.notify.outbox import enqueue_all, planned
from closeloop.org.directory import unit_path

# The timeline's event types that endpoints can subscribe to, by the name they subscribe with.
WEBHOOK_EVENT_OF: dict[str, str] = {
    CaseEvent.Type.OPENED: "case.opened",
    CaseEvent.Type.STATUS: "case.status",
    CaseEvent.Type.ESCALATED: "case.escalated",
    CaseEvent.Type.CLOSED: "case.closed",
    CaseEvent.Type.REOPENED: "case.reopened",
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def case_payload(case: Case, event: CaseEvent, name: str) -> dict[str, Any]:
    """The body: the event, the case as the API shows it (without its timeline) and its link."""
    return {
        "type": name,
        "event": {
            "id": event.pk,
            "at": event.at.isoformat(),
            "type": event.type,
            "actor": event.actor.key if event.actor is not None else None,
            "data": event.data,
        },
        "case": {
            "id": case.pk,
            "response": case.response_id,
            "template": case.template_key,
            "unit": case.unit.code,
            "category": case.category,
            "severity": case.severity,
            "tier": case.tier or None,
            "status": case.status,
            "state": case.state,
            "opened_at": _iso(case.opened_at),
            "due_at": _iso(case.due_at),
            "owner": case.owner.key if case.owner is not None else None,
            "viewed_at": _iso(case.viewed_at),
            "contacted_at": _iso(case.contacted_at),
            "closed_at": _iso(case.closed_at),
            "resolution": case.resolution,
            "escalation_level": case.escalation_level,
            "previous_case": case.previous_case_id,
        },
        "links": {"case": case_link(case)},
    }


def publish_case_event(case: Case, event: CaseEvent, *, now: datetime) -> int:
    """Plan one delivery per endpoint subscribed to this event in the case's unit; returns how many."""
    return publish_case_events([(case, event)], now=now)


def publish_case_events(events: Sequence[tuple[Case, CaseEvent]], *, now: datetime) -> int:
    """As `publish_case_event` for several cases' events, in one insert; returns how many deliveries."""
    endpoints = active_endpoints()
    if not endpoints:
        return 0
    deliveries: list[Delivery] = []
    for case, event in events:
        name = WEBHOOK_EVENT_OF.get(event.type)
        if name is None:
            continue
        path = unit_path(case.unit)
        wanting = [
            endpoint
            for endpoint in endpoints
            if endpoint_wants_event(endpoint.events, endpoint.units, event=name, unit_path=path)
        ]
        if not wanting:
            continue
        payload = case_payload(case, event, name)
        deliveries.extend(
            planned(
                channel="webhook",
                address=endpoint.key,
                payload=payload,
                idempotency_key=f"case-event:{event.pk}:webhook:{endpoint.key}",
                now=now,
                topic="case",
                ref=f"case:{case.pk}",
            )
            for endpoint in wanting
        )
    enqueue_all(deliveries)
    return len(deliveries)
