"""Put messages into the outbox. Called inside the caller's transaction; the worker sends them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction

from closeloop.alerts.models import Alert
from closeloop.notify.models import Delivery
from closeloop.org.models import Person


def _insert_if_absent(idempotency_key: str, fields: dict[str, Any]) -> Delivery:
    # get_or_create retries the read when a concurrent insert wins the unique key, so a
    # planner that runs twice (or on two workers) never produces a second message.
    delivery, _ = Delivery.objects.get_or_create(idempotency_key=idempotency_key, defaults=fields)
    return delivery


def enqueue(
    *,
    channel: str,
    address: str,
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
) -> Delivery:
    """A pending delivery due at `now`, or the existing one with the same idempotency key."""
    delivery = _insert_if_absent(
        idempotency_key,
        {
            "channel": channel,
            "address": address,
            "subject": subject[:500],
            "text": text,
            "html": html,
            "payload": payload or {},
            "topic": topic,
            "alert": alert,
            "ref": ref,
            "person": person,
            "status": Delivery.Status.PENDING,
            "next_attempt_at": now,
            "created_at": now,
        },
    )
    from closeloop.worker import wake_worker

    transaction.on_commit(wake_worker)
    return delivery


def record_skipped(
    *,
    channel: str,
    address: str = "",
    subject: str = "",
    text: str = "",
    html: str = "",
    payload: dict[str, Any] | None = None,
    idempotency_key: str,
    now: datetime,
    reason: str,
    topic: str = "alert",
    alert: Alert | None = None,
    ref: str = "",
    person: Person | None = None,
) -> Delivery:
    """A delivery that will not be sent (e.g. "no phone number"), kept so the alert shows why."""
    return _insert_if_absent(
        idempotency_key,
        {
            "channel": channel,
            "address": address,
            "subject": subject[:500],
            "text": text,
            "html": html,
            "payload": payload or {},
            "topic": topic,
            "alert": alert,
            "ref": ref,
            "person": person,
            "status": Delivery.Status.SKIPPED,
            "last_error": reason,
            "next_attempt_at": None,
            "created_at": now,
        },
    )


def retry_now(deliveries: Iterable[Delivery], now: datetime) -> int:
    """Send failed or waiting deliveries again at once, with a fresh attempt budget; returns how many."""
    ids = [d.pk for d in deliveries]
    with transaction.atomic():
        count = Delivery.objects.filter(
            pk__in=ids, status__in=[Delivery.Status.FAILED, Delivery.Status.PENDING]
        ).update(status=Delivery.Status.PENDING, attempts=0, next_attempt_at=now, lease_until=None)
        if count:
            from closeloop.worker import wake_worker

            transaction.on_commit(wake_worker)
    return count
