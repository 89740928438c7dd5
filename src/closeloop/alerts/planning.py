"""Turn new alerts into outbox rows: who, by which channel, with what message.

Runs inside the transaction that created the alerts, so an alert and its deliveries are
committed together (nothing acknowledged is ever lost) and the worker sends them after commit.

Deliveries are planned per person and response, not per alert: when three rules fire for one
response, its lead gets one email listing all three, at most one SMS (for the most severe alert
that asks for SMS), and each webhook endpoint one call with every alert it subscribes to. Each
message records every alert it tells about (`Delivery.alerts`), so each alert still lists the
deliveries that told each person about it; the message's `alert` is the one it leads with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db.models import Prefetch

from closeloop.alerts.messages import Rendered, lead_first, render_alerts, render_alerts_for, shared_context
from closeloop.alerts.models import Alert
from closeloop.core.routing import channels_for, endpoint_wants, resolve
from closeloop.feedback.models import Response
from closeloop.notify.models import Delivery, WebhookEndpoint
from closeloop.notify.outbox import enqueue_all, link_alerts, planned
from closeloop.org.directory import Directory, unit_path
from closeloop.org.models import Person

# Channels whose message names the recording (an SMS stays short and never links to it).
CHANNELS_WITH_RECORDING = ("email", "chat", "webhook")

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
    _load_repeated([alert for alert, _ in immediate])
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
    told: dict[str, list[Alert]] = {}  # idempotency key -> the alerts that message tells about
    for group in _by_response(immediate):
        # person -> channel -> the alerts that want this person told on this channel, in detection order
        wanted: dict[str, dict[str, list[Alert]]] = {}
        for alert, notify in group:
            for channel in channels_for(alert.severity, notify.get("channels")):
                if channel == "webhook":
                    continue  # endpoints subscribe themselves below, whatever the rule lists
                for recipient in chosen[alert.pk]:
                    wanted.setdefault(recipient.person, {}).setdefault(channel, []).append(alert)
        messages = _messages_for(wanted, people)
        for key, by_channel in wanted.items():
            for channel, alerts_here in by_channel.items():
                ordered = lead_first(alerts_here)
                delivery = _person_delivery(ordered, key, people.get(key), channel, now, messages.get((key, channel)))
                deliveries.append(delivery)
                told[delivery.idempotency_key] = ordered
        for endpoint in endpoints:
            subscribed = lead_first([alert for alert, _ in group if _endpoint_wants(endpoint, alert)])
            if not subscribed:
                continue
            message = render_alerts(subscribed, None, "webhook")
            delivery = planned(
                channel="webhook",
                address=endpoint.key,
                payload=message.payload,
                idempotency_key=f"alert:{_first_pk(subscribed)}:webhook:{endpoint.key}",
                now=now,
                alert=subscribed[0],
            )
            deliveries.append(delivery)
            told[delivery.idempotency_key] = subscribed
    enqueue_all(deliveries)
    link_alerts({key: [alert.pk for alert in alerts] for key, alerts in told.items()})
    return sum(d.status == Delivery.Status.PENDING for d in deliveries)


def _load_repeated(alerts: Sequence[Alert]) -> None:
    """The earlier responses repeat failures link to (a message names when it was), in one query."""
    wanted = {alert.repeat_of_id for alert in alerts if alert.repeat_of_id is not None}
    if not wanted:
        return
    earlier = Response.objects.only("id", "submitted_at").in_bulk(wanted)
    for alert in alerts:
        if alert.repeat_of_id in earlier:
            alert.repeat_of = earlier[alert.repeat_of_id]


def _by_response(alerts: Sequence[tuple[Alert, Mapping]]) -> list[list[tuple[Alert, Mapping]]]:
    """The alerts grouped by their response, in the order the responses first appear."""
    groups: dict[int, list[tuple[Alert, Mapping]]] = {}
    for alert, notify in alerts:
        groups.setdefault(alert.response_id, []).append((alert, notify))
    return list(groups.values())


def _first_pk(alerts: Sequence[Alert]) -> int:
    # The lowest alert id names the message: the same key as before for a message about one alert, and
    # unique, as an alert belongs to one response and is planned once.
    return min(alert.pk for alert in alerts)


def _messages_for(
    wanted: Mapping[str, Mapping[str, Sequence[Alert]]], people: Mapping[str, Person]
) -> dict[tuple[str, str], Rendered]:
    """The message of each (person, channel) of one response that has an address to go to: rendered once per
    channel and set of alerts, then filled in for each of its recipients."""
    recipients: dict[tuple[str, tuple[int, ...]], list[Person]] = {}
    told: dict[tuple[str, tuple[int, ...]], list[Alert]] = {}
    for key, by_channel in wanted.items():
        person = people.get(key)
        if person is None:
            continue
        for channel, alerts_here in by_channel.items():
            if not _address(person, channel)[0]:
                continue
            ordered = lead_first(alerts_here)
            group = (channel, tuple(alert.pk for alert in ordered))
            recipients.setdefault(group, []).append(person)
            told[group] = ordered
    messages = {}
    # What the message says to everyone is worked out once per set of alerts, whatever the channels.
    contexts: dict[tuple[int, ...], dict[str, Any]] = {}
    for group, persons in recipients.items():
        channel, pks = group
        if pks not in contexts:
            contexts[pks] = shared_context(told[group])
        rendered = render_alerts_for(told[group], persons, channel, contexts[pks])
        for person, message in zip(persons, rendered, strict=True):
            messages[(person.key, channel)] = message
    return messages


def _person_delivery(
    alerts: Sequence[Alert],
    key: str,
    person: Person | None,
    channel: str,
    now: datetime,
    message: Rendered | None = None,
) -> Delivery:
    """One message to one person on one channel about `alerts` (one response's, the leading one first);
    `message` is what it says, when rendered already for several recipients at once."""
    alert = alerts[0]
    idempotency_key = f"alert:{_first_pk(alerts)}:{key}:{channel}"
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
    message = message or render_alerts(alerts, person, channel)
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


def refresh_pending_messages(response: Response) -> int:
    """Render again the alert messages of `response` that no worker has picked up yet, so that they carry
    what arrived since they were planned (an uploaded recording); returns how many changed.

    A message already claimed, tried or sent is left as it is: the response page plays the recording.
    """
    waiting = dict(status=Delivery.Status.PENDING, attempts=0, lease_until__isnull=True)
    alerts = Alert.objects.select_related("rule", "unit").order_by("id")
    pending = (
        Delivery.objects.filter(alerts__response=response, channel__in=CHANNELS_WITH_RECORDING, **waiting)
        .distinct()
        .select_related("person")
        .prefetch_related(Prefetch("alerts", queryset=alerts))
    )
    changed = 0
    for delivery in pending:
        told = lead_first(list(delivery.alerts.all()))
        if not told:
            continue
        for alert in told:
            alert.response = response
        message = render_alerts(told, delivery.person if delivery.channel != "webhook" else None, delivery.channel)
        changed += Delivery.objects.filter(pk=delivery.pk, **waiting).update(
            subject=message.subject[:500], text=message.text, html=message.html, payload=message.payload
        )
    return changed
