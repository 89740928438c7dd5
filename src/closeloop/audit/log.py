"""Writing and reading the audit log. Reads of customer data call `record_view` where they show it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from closeloop.audit.models import AuditEvent
from closeloop.org.models import Person


def record(
    action: str,
    *,
    target: str,
    now: datetime,
    actor: Person | None = None,
    actor_name: str = "",
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one entry; call inside the transaction of the change it records, if there is one."""
    return AuditEvent.objects.create(
        at=now,
        action=action,
        target=target[:200],
        actor=actor,
        actor_name=(actor_name or (actor.name if actor else ""))[:200],
        detail=dict(detail or {}),
    )


def record_many(events: Sequence[Mapping[str, Any]], *, now: datetime) -> list[AuditEvent]:
    """Append several entries in one insert (a file import changes many customers): each a mapping of
    `record`'s keyword arguments (`action`, `target`, and optionally `actor`, `actor_name`, `detail`)."""
    if not events:
        return []
    rows = []
    for event in events:
        actor: Person | None = event.get("actor")
        rows.append(
            AuditEvent(
                at=now,
                action=event["action"],
                target=str(event["target"])[:200],
                actor=actor,
                actor_name=(event.get("actor_name") or (actor.name if actor else ""))[:200],
                detail=dict(event.get("detail") or {}),
            )
        )
    return AuditEvent.objects.bulk_create(rows)


def record_view(target: str, *, now: datetime, actor: Person | None, actor_name: str = "", surface: str) -> AuditEvent:
    """Someone was shown a customer's data: `surface` is web, api, pdf or csv."""
    return record(
        AuditEvent.Action.VIEWED, target=target, now=now, actor=actor, actor_name=actor_name, detail={"on": surface}
    )


def entries(since: datetime | None = None, until: datetime | None = None) -> Iterator[dict[str, Any]]:
    """The log as plain records, oldest first, for an admin's export."""
    events = AuditEvent.objects.select_related("actor").order_by("at", "id")
    if since is not None:
        events = events.filter(at__gte=since)
    if until is not None:
        events = events.filter(at__lt=until)
    for event in events.iterator():
        yield {
            "at": event.at.isoformat(),
            "action": event.action,
            "target": event.target,
            "actor": event.actor.key if event.actor is not None else None,
            "actor_name": event.actor_name,
            "detail": event.detail,
        }
