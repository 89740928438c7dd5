"""Sending the outbox: claim due deliveries, send them, record each outcome (the worker's deliveries step).

Claiming is a short transaction that marks rows `sending` with a lease; the send itself
happens outside any transaction; the outcome is written only if the row is still held by
the same claim (same `attempts`). A worker killed mid-send leaves its rows `sending`;
once the lease expires another worker claims them again (at-least-once delivery).
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet

from closeloop.notify.attempts import record_attempt
from closeloop.notify.channels import Channel, DeliveryError, PermanentError, SendResult, get_channel
from closeloop.notify.models import Delivery
from closeloop.notify.retry import max_attempts, retry_delay

logger = logging.getLogger("closeloop.worker")

# Longer than any channel's network timeout, so a live worker never loses its claim mid-send.
DEFAULT_LEASE = timedelta(minutes=2)
CLAIM_BATCH = 50

# Set by a worker that is stopping, so the deliveries step stops between two sends.
stop_requested: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "closeloop_worker_stop", default=None
)


def _due(now: datetime) -> Q:
    return Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Delivery.Status.SENDING, next_attempt_at__lte=now, lease_until__lte=now
    )


def claim_due(now: datetime, limit: int = CLAIM_BATCH, lease: timedelta = DEFAULT_LEASE) -> list[Delivery]:
    """Mark up to `limit` due deliveries as `sending` for this worker until `now + lease`."""
    lease_until = now + lease
    claimed = {"status": Delivery.Status.SENDING, "lease_until": lease_until, "attempts": F("attempts") + 1}
    with transaction.atomic():
        due = Delivery.objects.filter(_due(now)).order_by("next_attempt_at", "id")
        if connection.vendor == "postgresql":
            # Rows another worker is claiming right now are skipped, not waited for.
            ids = list(due.select_for_update(skip_locked=True).values_list("id", flat=True)[:limit])
            Delivery.objects.filter(id__in=ids).update(**claimed)
        else:
            # SQLite: the transaction is IMMEDIATE, so this connection holds the write lock from
            # its first statement: nobody can claim the selected rows between the read and the update.
            ids = list(due.values_list("id", flat=True)[:limit])
            Delivery.objects.filter(id__in=ids).update(**claimed)
    return list(Delivery.objects.filter(id__in=ids).select_related("person").order_by("next_attempt_at", "id"))


def _still_ours(delivery: Delivery) -> QuerySet[Delivery]:
    return Delivery.objects.filter(id=delivery.id, status=Delivery.Status.SENDING, attempts=delivery.attempts)


def record_sent(delivery: Delivery, result: SendResult, now: datetime) -> bool:
    updated = _still_ours(delivery).update(
        status=Delivery.Status.SENT,
        sent_at=result.accepted_at,
        provider_id=result.provider_id[:300],
        next_attempt_at=None,
        lease_until=None,
        last_error="",
    )
    return bool(updated)


def record_failure(delivery: Delivery, error: DeliveryError, now: datetime) -> str:
    """Schedule a retry or give up; returns the new status."""
    give_up = isinstance(error, PermanentError) or delivery.attempts >= max_attempts()
    if give_up:
        status, next_attempt_at = Delivery.Status.FAILED, None
    else:
        status, next_attempt_at = Delivery.Status.PENDING, now + retry_delay(delivery.attempts)
    updated = _still_ours(delivery).update(
        status=status, next_attempt_at=next_attempt_at, lease_until=None, last_error=str(error)[:2000]
    )
    return status if updated else "lost"


def release(delivery: Delivery) -> None:
    """Hand back a claimed delivery that was not attempted (the worker is stopping)."""
    _still_ours(delivery).update(status=Delivery.Status.PENDING, lease_until=None, attempts=F("attempts") - 1)


Outcome = SendResult | DeliveryError


def attempt(delivery: Delivery, channels: dict[str, Channel]) -> Outcome:
    """Send a claimed delivery through its channel (kept in `channels` for the batch); never raises."""
    try:
        if delivery.channel not in channels:
            channels[delivery.channel] = get_channel(delivery.channel)
        return channels[delivery.channel].send(delivery)
    except DeliveryError as error:
        return error
    except Exception as error:
        # A bug in a channel must not stop the worker; the attempt budget bounds the retries.
        logger.exception("delivery %s (%s) attempt %d crashed", delivery.id, delivery.channel, delivery.attempts)
        return DeliveryError(f"internal error ({type(error).__name__})")


def record(delivery: Delivery, outcome: Outcome, now: datetime) -> str:
    """Write the outcome of an attempt; returns the resulting status ("lost" when the claim had expired)."""
    record_attempt(delivery, outcome, now)
    if isinstance(outcome, DeliveryError):
        status = record_failure(delivery, outcome, now)
        logger.warning(
            "delivery %s (%s) attempt %d: %s -> %s", delivery.id, delivery.channel, delivery.attempts, outcome, status
        )
        return status
    if record_sent(delivery, outcome, now):
        logger.info("delivery %s (%s) sent on attempt %d", delivery.id, delivery.channel, delivery.attempts)
        return Delivery.Status.SENT
    # Our lease expired and another worker took the row over; it will record its own outcome.
    logger.warning("delivery %s (%s) sent after its lease expired", delivery.id, delivery.channel)
    return "lost"


def send_one(delivery: Delivery, now: datetime, channels: dict[str, Channel] | None = None) -> str:
    """Send a claimed delivery and record the outcome; returns the resulting status."""
    return record(delivery, attempt(delivery, {} if channels is None else channels), now)


def deliver_due(now: datetime) -> int:
    """The deliveries step: claim one batch of due deliveries, send them, record every outcome.

    The outcomes are written in one transaction after the sends: on SQLite every write
    transaction queues for the database's single write lock, which the web requests also need.
    """
    batch = claim_due(now)
    stop = stop_requested.get()
    claimed_at = time.monotonic()
    channels: dict[str, Channel] = {}
    outcomes: list[tuple[Delivery, Outcome]] = []
    try:
        for index, delivery in enumerate(batch):
            stopping = stop is not None and stop.is_set()
            # Slow servers must not outlast the lease: another worker would then send the rest again.
            if stopping or time.monotonic() - claimed_at > DEFAULT_LEASE.total_seconds() / 2:
                for unsent in batch[index:]:
                    release(unsent)
                break
            outcomes.append((delivery, attempt(delivery, channels)))
    finally:
        for channel in channels.values():
            channel.close()
        with transaction.atomic():
            for delivery, outcome in outcomes:
                record(delivery, outcome, now)
    return len(outcomes)
