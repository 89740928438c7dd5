"""Put messages into the outbox. Called inside the caller's transaction; the worker sends them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction

from closeloop.notify.models import Delivery, priority_of
from closeloop.notify.wake import wake_on_commit
from closeloop.org.models import Person

if TYPE_CHECKING:
    # Outbox rows may name the alert they are about; the outbox itself knows nothing of alerts.
    from closeloop.alerts.models import Alert


def planned(
    *,
    channel: str,
    address: str = "",
    subject: str = "",
    text: str = "",
    html: str = "",
    payload: dict[str, Any] | None = None,
    idempotency_key: str,
    now: datetime,
    topic: str = "alert",
    alert: Alert | None = None,
    ref: str = "",
    person: Person | None = None,
    skipped_because: str = "",
    severity: str | None = None,
) -> Delivery:
    """An unsaved delivery: pending and due at `now`, or skipped with the reason (e.g. "no phone number").

    `severity` (else the alert's) orders it among due deliveries: urgent ones are sent first.
    """
    return Delivery(
        channel=channel,
        address=address,
        subject=subject[:500],
        text=text,
        html=html,
        payload=payload or {},
        topic=topic,
        alert=alert,
        ref=ref,
        person=person,
        idempotency_key=idempotency_key,
        status=Delivery.Status.SKIPPED if skipped_because else Delivery.Status.PENDING,
        priority=priority_of(severity or (alert.severity if alert is not None else None)),
        last_error=skipped_because,
        next_attempt_at=None if skipped_because else now,
        created_at=now,
    )


def _insert_if_absent(delivery: Delivery) -> Delivery:
    # get_or_create retries the read when a concurrent insert wins the unique key, so a
    # planner that runs twice (or on two workers) never produces a second message.
    fields = {f.name: getattr(delivery, f.name) for f in Delivery._meta.concrete_fields if not f.primary_key}
    del fields["idempotency_key"]
    stored, _ = Delivery.objects.get_or_create(idempotency_key=delivery.idempotency_key, defaults=fields)
    return stored


def enqueue(*, now: datetime, idempotency_key: str, **message: Any) -> Delivery:
    """A pending delivery due at `now`, or the existing one with the same idempotency key.

    Takes the keyword arguments of `planned`; call it inside the caller's transaction.
    """
    delivery = _insert_if_absent(planned(now=now, idempotency_key=idempotency_key, **message))
    wake_on_commit()
    return delivery


def record_skipped(*, reason: str, now: datetime, idempotency_key: str, **message: Any) -> Delivery:
    """A delivery that will not be sent, kept so the alert shows why."""
    return _insert_if_absent(planned(now=now, idempotency_key=idempotency_key, skipped_because=reason, **message))


def enqueue_all(deliveries: Sequence[Delivery]) -> None:
    """Insert many planned deliveries in one statement; any whose idempotency key exists already is left
    as it is (a re-run planner never produces a second message)."""
    if not deliveries:
        return
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    if any(d.status == Delivery.Status.PENDING for d in deliveries):
        wake_on_commit()


# Keys looked up per query when linking messages to their alerts (well inside SQLite's variable limit).
_LINK_CHUNK = 500


def link_alerts(links: Mapping[str, Sequence[int]]) -> None:
    """Record which alerts each message (named by its idempotency key) tells about; links that exist already
    are kept. Call inside the transaction that enqueued the messages."""
    keys = [key for key, alert_ids in links.items() if alert_ids]
    through = Delivery.alerts.through
    rows: list[Any] = []
    for start in range(0, len(keys), _LINK_CHUNK):
        chunk = keys[start : start + _LINK_CHUNK]
        for key, delivery_id in Delivery.objects.filter(idempotency_key__in=chunk).values_list("idempotency_key", "id"):
            rows.extend(through(delivery_id=delivery_id, alert_id=alert_id) for alert_id in links[key])
    through.objects.bulk_create(rows, ignore_conflicts=True)


def retry_now(deliveries: Iterable[Delivery], now: datetime) -> int:
    """Send failed or waiting deliveries again at once, with a fresh retry window; returns how many."""
    ids = [d.pk for d in deliveries]
    with transaction.atomic():
        count = Delivery.objects.filter(
            pk__in=ids, status__in=[Delivery.Status.FAILED, Delivery.Status.PENDING]
        ).update(status=Delivery.Status.PENDING, attempts=0, next_attempt_at=now, lease_until=None, failing_since=None)
        if count:
            wake_on_commit()
    return count
