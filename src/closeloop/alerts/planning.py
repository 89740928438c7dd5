"""Turn new alerts into outbox rows: who, by which channel, with what message.

Runs inside the transaction that created the alerts, so an alert and its deliveries are
committed together (nothing acknowledged is ever lost) and the worker sends them after commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from closeloop.alerts.messages import render_alert
from closeloop.alerts.models import Alert
from closeloop.core.routing import channels_for, endpoint_wants, resolve
from closeloop.notify.models import Delivery, WebhookEndpoint
from closeloop.notify.outbox import enqueue_all, planned
from closeloop.org.directory import Directory, unit_path
from closeloop.org.models import Person

# Where each person-addressed channel finds its address, and what to say when it is missing.
ADDRESS = {
    "email": ("email", "no email address"),
    "sms": ("phone", "no phone number"),
    "chat": ("chat_url", "no chat URL"),
}


def _address(person: Person, channel: str) -> tuple[str, str]:
    attribute, missing = ADDRESS[channel]
    return getattr(person, attribute) or "", missing


def _endpoint_wants(endpoint: WebhookEndpoint, alert: Alert) -> bool:
    return endpoint_wants(
        endpoint.kinds, endpoint.units, alert_kind=alert.kind, unit_path=unit_path(alert.unit), events=endpoint.events
    )


def plan_alert_deliveries(
    alerts: Sequence[tuple[Alert, Mapping]],
    *,
    org: Directory,
    endpoints: Sequence[WebhookEndpoint],
    now: datetime,
) -> int:
    """Create the deliveries of `alerts` (each with its rule's notify section) in one insert; returns how
    many will be sent (skipped ones are stored too, with the reason)."""
    immediate = [(a, n) for a, n in alerts if a.mode == Alert.Mode.IMMEDIATE]
    if not immediate:
        return 0
    tree = org.tree
    chosen = {
        alert.pk: resolve(
            notify.get("to") or ["unit_leads", "unit_also_alerts"],
            unit=alert.unit.code if alert.unit else None,
            agent=alert.response.agent.key if alert.response.agent else None,
            tree=tree,
        )
        for alert, notify in immediate
    }
    people = org.people_by_key({r.person for recipients in chosen.values() for r in recipients})
    deliveries: list[Delivery] = []
    for alert, notify in immediate:
        for channel in channels_for(alert.severity, notify.get("channels")):
            if channel == "webhook":
                continue  # endpoints subscribe themselves below, whatever the rule lists
            for recipient in chosen[alert.pk]:
                deliveries.append(_person_delivery(alert, recipient.person, people.get(recipient.person), channel, now))
        for endpoint in endpoints:
            if _endpoint_wants(endpoint, alert):
                message = render_alert(alert, None, "webhook")
                deliveries.append(
                    planned(
                        channel="webhook",
                        address=endpoint.key,
                        payload=message.payload,
                        idempotency_key=f"alert:{alert.pk}:webhook:{endpoint.key}",
                        now=now,
                        alert=alert,
                    )
                )
    enqueue_all(deliveries)
    return sum(d.status == Delivery.Status.PENDING for d in deliveries)


def _person_delivery(alert: Alert, key: str, person: Person | None, channel: str, now: datetime) -> Delivery:
    idempotency_key = f"alert:{alert.pk}:{key}:{channel}"
    if person is None:
        return planned(
            channel=channel,
            idempotency_key=idempotency_key,
            now=now,
            alert=alert,
            skipped_because=f"unknown person {key!r}",
        )
    address, missing = _address(person, channel)
    if not address:
        return planned(
            channel=channel,
            idempotency_key=idempotency_key,
            now=now,
            alert=alert,
            person=person,
            skipped_because=f"{missing} for {person.name}",
        )
    message = render_alert(alert, person, channel)
    return planned(
        channel=channel,
        address=address,
        subject=message.subject,
        text=message.text,
        html=message.html,
        payload=message.payload,
        idempotency_key=idempotency_key,
        now=now,
        alert=alert,
        person=person,
    )
