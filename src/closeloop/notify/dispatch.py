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
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Field, Q, QuerySet
from django.utils import timezone

from closeloop.notify.attempts import attempt_for, leads_to_fallback, record_attempt
from closeloop.notify.channels import Channel, DeliveryError, PermanentError, SendResult, get_channel
from closeloop.notify.channels.base import TemporaryError, server_of
from closeloop.notify.models import Delivery, DeliveryAttempt
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


def _sent_changes(result: SendResult) -> dict[str, Any]:
    return {
        "status": Delivery.Status.SENT,
        "sent_at": result.accepted_at,
        "provider_id": result.provider_id[:300],
        "next_attempt_at": None,
        "lease_until": None,
        "failing_since": None,
        "last_error": "",
    }


def _failure_changes(delivery: Delivery, error: DeliveryError, now: datetime) -> dict[str, Any]:
    """A retry scheduled, or given up (a permanent error, or temporary ones for longer than the retry window)."""
    failing_since = delivery.failing_since or now
    if isinstance(error, PermanentError) or gives_up(failing_since, now):
        status, next_attempt_at = Delivery.Status.FAILED, None
    else:
        status, next_attempt_at = Delivery.Status.PENDING, now + retry_delay(delivery.attempts)
    return {
        "status": status,
        "next_attempt_at": next_attempt_at,
        "lease_until": None,
        "failing_since": failing_since,
        "last_error": str(error)[:2000],
    }


def record_sent(delivery: Delivery, result: SendResult, now: datetime) -> bool:
    """The guarded UPDATE of a sent delivery (False when the claim was lost); `record` adds its attempt row."""
    return bool(_still_ours(delivery).update(**_sent_changes(result)))


def record_failure(delivery: Delivery, error: DeliveryError, now: datetime) -> str:
    """Schedule a retry or give up; returns the new status, "lost" when the claim was lost.

    The guarded UPDATE only: `record` adds the attempt row."""
    changes = _failure_changes(delivery, error, now)
    return str(changes["status"]) if _still_ours(delivery).update(**changes) else "lost"


def _record_in_one_statement(delivery: Delivery, changes: dict[str, Any], attempt: DeliveryAttempt) -> bool:
    """PostgreSQL: the guarded UPDATE and the attempt's INSERT as one statement, which commits on its own
    (`WITH upd AS (UPDATE ... RETURNING id) INSERT ... SELECT ... FROM upd`): no attempt row when the
    UPDATE matched nothing. False when the claim was lost."""
    quote = connection.ops.quote_name
    sets, params = [], []
    for name, value in changes.items():
        field = Delivery._meta.get_field(name)
        assert isinstance(field, Field)
        sets.append(f"{quote(field.column or name)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    params += [delivery.id, Delivery.Status.SENDING, delivery.attempts]
    columns, values = [], []
    for field in DeliveryAttempt._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(quote(field.column or field.name))
        if field.name == "delivery":
            values.append("upd.id")
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(getattr(attempt, field.attname), connection))
    sql = (
        f"WITH upd AS (UPDATE {quote(Delivery._meta.db_table)} SET {', '.join(sets)}"
        " WHERE id = %s AND status = %s AND attempts = %s RETURNING id)"
        f" INSERT INTO {quote(DeliveryAttempt._meta.db_table)} ({', '.join(columns)})"
        f" SELECT {', '.join(values)} FROM upd"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


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
    """Write the outcome of an attempt; returns the resulting status ("lost" when the claim had expired).

    One commit per message: the guarded UPDATE of the delivery first, then, only if the claim still
    held, its attempt row (and an SMS's email fallback), in one transaction. A worker whose lease expired
    writes nothing: the row belongs to the worker that took it over, whose own attempt has the next
    number; only the log says that this one may have sent the message too.
    """
    changes = _failure_changes(delivery, outcome, now) if isinstance(outcome, DeliveryError) else _sent_changes(outcome)
    if connection.vendor == "postgresql" and not leads_to_fallback(delivery, outcome):
        # One statement, one round trip, its own commit: in bench/deliveries.py about a quarter less
        # worker CPU per message than the transaction below, with the same one commit.
        updated = _record_in_one_statement(delivery, changes, attempt_for(delivery, outcome, now))
    else:
        with transaction.atomic():
            updated = bool(_still_ours(delivery).update(**changes))
            if updated:
                record_attempt(delivery, outcome, now)
    status = str(changes["status"]) if updated else "lost"
    # Logged after the commit, so the write lock (SQLite) is held only for the two statements.
    if isinstance(outcome, DeliveryError):
        logger.warning(
            "delivery %s (%s) attempt %d: %s -> %s", delivery.id, delivery.channel, delivery.attempts, outcome, status
        )
    elif status == Delivery.Status.SENT:
        logger.info("delivery %s (%s) sent on attempt %d", delivery.id, delivery.channel, delivery.attempts)
    else:
        # Our lease expired and another worker took the row over; it will record its own outcome.
        logger.warning("delivery %s (%s) sent after its lease expired", delivery.id, delivery.channel)
    return status


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

    Each outcome is its own short transaction, one commit (on SQLite every write queues for the database's single
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
