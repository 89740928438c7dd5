"""Sending the outbox: claim due deliveries, send them, record each outcome (the worker's deliveries step).

Two clocks are at work. Whether a delivery is *due* is decided by the `now` the step is given
(`closeloop tick --at T` sends what is due at T). Who *holds* a delivery is decided by the real
clock: a lease is taken, compared and expires in real time whatever `now` says, so a
`tick --at` a day ahead never takes over the deliveries a running worker is sending.

Claiming is a short transaction that marks rows `sending` with a lease; the send itself happens
outside any transaction; each outcome is written as soon as that send returns, and only if the
row is still held by the same claim (same `attempts`). A worker killed mid-batch leaves only the
delivery it was sending claimed; once the lease expires another worker sends that one again
(at-least-once delivery, with the same Message-ID), and nothing it had already sent.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from closeloop.notify.attempts import record_attempt
from closeloop.notify.channels import Channel, DeliveryError, PermanentError, SendResult, get_channel
from closeloop.notify.channels.base import TemporaryError, server_of
from closeloop.notify.models import Delivery
from closeloop.notify.retry import gives_up, retry_delay

logger = logging.getLogger("closeloop.worker")

# Longer than any channel's network timeout, so a live worker never loses its claim mid-send.
DEFAULT_LEASE = timedelta(minutes=2)
CLAIM_BATCH = 50
# Most severe first, then the oldest: after an outage the backlog goes out in this order.
CLAIM_ORDER = ("priority", "created_at", "id")

# Set by a worker that is stopping, so the deliveries step stops between two sends.
stop_requested: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "closeloop_worker_stop", default=None
)
# Set by a running worker: the channels it keeps open from batch to batch (one SMTP conversation per
# worker rather than one per batch); otherwise each batch opens its own and closes them after it.
kept_channels: contextvars.ContextVar[dict[str, Channel] | None] = contextvars.ContextVar(
    "closeloop_worker_channels", default=None
)


@contextlib.contextmanager
def channels_kept_open() -> Iterator[None]:
    """Within it, the deliveries step keeps its channels (and their connections) open across batches."""
    channels: dict[str, Channel] = {}
    token = kept_channels.set(channels)
    try:
        yield
    finally:
        kept_channels.reset(token)
        for channel in channels.values():
            channel.close()


def _due(now: datetime, clock: datetime) -> Q:
    return Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Delivery.Status.SENDING, next_attempt_at__lte=now, lease_until__lte=clock
    )


def claim_due(now: datetime, limit: int = CLAIM_BATCH, lease: timedelta = DEFAULT_LEASE) -> list[Delivery]:
    """Mark up to `limit` deliveries due at `now` as `sending`, leased for `lease` of real time."""
    clock = timezone.now()
    claimed = {"status": Delivery.Status.SENDING, "lease_until": clock + lease, "attempts": F("attempts") + 1}
    with transaction.atomic():
        due = Delivery.objects.filter(_due(now, clock)).order_by(*CLAIM_ORDER)
        if connection.vendor == "postgresql":
            # Rows another worker is claiming right now are skipped, not waited for.
            ids = list(due.select_for_update(skip_locked=True).values_list("id", flat=True)[:limit])
            Delivery.objects.filter(id__in=ids).update(**claimed)
        else:
            # SQLite: the transaction is IMMEDIATE, so this connection holds the write lock from
            # its first statement: nobody can claim the selected rows between the read and the update.
            ids = list(due.values_list("id", flat=True)[:limit])
            Delivery.objects.filter(id__in=ids).update(**claimed)
    return list(Delivery.objects.filter(id__in=ids).select_related("person").order_by(*CLAIM_ORDER))


def _still_ours(delivery: Delivery) -> QuerySet[Delivery]:
    return Delivery.objects.filter(id=delivery.id, status=Delivery.Status.SENDING, attempts=delivery.attempts)


def record_sent(delivery: Delivery, result: SendResult, now: datetime) -> bool:
    updated = _still_ours(delivery).update(
        status=Delivery.Status.SENT,
        sent_at=result.accepted_at,
        provider_id=result.provider_id[:300],
        next_attempt_at=None,
        lease_until=None,
        failing_since=None,
        last_error="",
    )
    return bool(updated)


def record_failure(delivery: Delivery, error: DeliveryError, now: datetime) -> str:
    """Schedule a retry, or give up (a permanent error, or temporary ones for longer than the retry window);
    returns the new status."""
    failing_since = delivery.failing_since or now
    if isinstance(error, PermanentError) or gives_up(failing_since, now):
        status, next_attempt_at = Delivery.Status.FAILED, None
    else:
        status, next_attempt_at = Delivery.Status.PENDING, now + retry_delay(delivery.attempts)
    updated = _still_ours(delivery).update(
        status=status,
        next_attempt_at=next_attempt_at,
        lease_until=None,
        failing_since=failing_since,
        last_error=str(error)[:2000],
    )
    return status if updated else "lost"


def release(delivery: Delivery) -> None:
    """Hand back a claimed delivery that was not attempted (the worker is stopping, or the batch is re-sorted)."""
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
        # A bug in a channel must not stop the worker; the retry window bounds the retries.
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


def _waiting_on(server: tuple[str, str], now: datetime) -> QuerySet[Delivery]:
    """Deliveries of `server` that failed before and wait for a later retry."""
    channel, address = server
    waiting = Delivery.objects.filter(
        status=Delivery.Status.PENDING, channel=channel, failing_since__isnull=False, next_attempt_at__gt=now
    )
    return waiting.filter(address=address) if address else waiting


def _bring_forward_backlog(server: tuple[str, str], now: datetime) -> int:
    """A server that accepts a message again gets its waiting retries at once instead of at their backoff."""
    waiting = _waiting_on(server, now)
    if not waiting.exists():
        return 0
    count = waiting.update(next_attempt_at=now)
    logger.info("%s answers again: %d waiting deliveries are due now", server[0], count)
    return count


def deliver_due(now: datetime) -> int:
    """The deliveries step: claim one batch of due deliveries, send them, record each outcome as it comes.

    Each outcome is its own short write (on SQLite every write queues for the database's single
    write lock, which web requests also need, so none is held across a send). A server that cannot
    be reached fails the rest of the batch's messages to it without trying each; one that answers
    again after failures brings its backlog forward and ends the batch, so the next claim takes the
    whole backlog most severe first, oldest first.
    """
    batch = claim_due(now)
    stop = stop_requested.get()
    claimed_at = time.monotonic()
    kept = kept_channels.get()
    channels: dict[str, Channel] = {} if kept is None else kept
    unreachable: dict[tuple[str, str], TemporaryError] = {}
    answering: set[tuple[str, str]] = set()
    attempted = 0
    try:
        for index, delivery in enumerate(batch):
            stopping = stop is not None and stop.is_set()
            # Slow servers must not outlast the lease: another worker would then send the rest again.
            if stopping or time.monotonic() - claimed_at > DEFAULT_LEASE.total_seconds() / 2:
                for unsent in batch[index:]:
                    release(unsent)
                break
            server = server_of(delivery)
            outcome: Outcome = unreachable[server] if server in unreachable else attempt(delivery, channels)
            record(delivery, outcome, now)
            attempted += 1
            if isinstance(outcome, TemporaryError) and outcome.unreachable:
                unreachable[server] = outcome
            elif isinstance(outcome, SendResult) and server not in answering:
                answering.add(server)
                if _bring_forward_backlog(server, now):
                    for unsent in batch[index + 1 :]:
                        release(unsent)
                    break
    finally:
        if kept is None:
            for channel in channels.values():
                channel.close()
    return attempted
