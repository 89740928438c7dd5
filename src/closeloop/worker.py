"""The background worker: claims due deliveries, sends them, and runs every periodic step.

Each step is a function of `now` that does the work due at that instant and returns how
much it did; `run_due_work(now)` runs them all until none finds anything more. The
deliveries step is registered here; escalations, digests and follow-ups register theirs
from their own apps with `register_step`.

Claiming is a short transaction that marks rows `sending` with a lease; the send itself
happens outside any transaction; the outcome is written only if the row is still held by
the same claim (same `attempts`). A worker killed mid-send leaves its rows `sending`;
once the lease expires another worker claims them again (at-least-once delivery).
"""

from __future__ import annotations

import contextvars
import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType

from django.db import close_old_connections, connection, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from closeloop.notify.channels import Channel, DeliveryError, PermanentError, SendResult, get_channel
from closeloop.notify.models import Delivery
from closeloop.notify.retry import max_attempts, retry_delay

logger = logging.getLogger("closeloop.worker")

# Longer than any channel's network timeout, so a live worker never loses its claim mid-send.
DEFAULT_LEASE = timedelta(minutes=2)
CLAIM_BATCH = 50
POLL_SECONDS = 0.25
# A guard against a step that always reports work: after this many rounds the caller comes back later.
MAX_ROUNDS = 1000

Step = Callable[[datetime], int]
_steps: dict[str, Step] = {}
_wake = threading.Event()
# Set by a Worker that is stopping, so the deliveries step stops between two sends.
_stop_requested: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "closeloop_worker_stop", default=None
)


def wake_worker() -> None:
    """Make an in-process worker look for due work now instead of at its next poll."""
    _wake.set()


def register_step(name: str, fn: Step) -> None:
    """Add (or replace) a periodic step; `fn(now)` returns how much work it did."""
    _steps[name] = fn


def registered_steps() -> list[str]:
    return list(_steps)


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


def _still_ours(delivery: Delivery):  # type: ignore[no-untyped-def]
    return Delivery.objects.filter(id=delivery.id, status=Delivery.Status.SENDING, attempts=delivery.attempts)


def record_sent(delivery: Delivery, result: SendResult, now: datetime) -> bool:
    updated = _still_ours(delivery).update(
        status=Delivery.Status.SENT,
        sent_at=now,
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
    stop = _stop_requested.get()
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


register_step("deliveries", deliver_due)


def run_due_work(now: datetime, stop: threading.Event | None = None) -> dict[str, int]:
    """Run every step at `now` until none does any more work; returns the work done per step."""
    done = dict.fromkeys(_steps, 0)
    token = _stop_requested.set(stop)
    try:
        for _ in range(MAX_ROUNDS):
            worked = False
            for name, step in list(_steps.items()):
                if stop is not None and stop.is_set():
                    return done
                try:
                    count = step(now)
                except Exception:
                    # One broken step must not hold back the others (deliveries above all).
                    logger.exception("step %s failed", name)
                    count = 0
                done[name] = done.get(name, 0) + count
                worked = worked or count > 0
            if not worked:
                break
    finally:
        _stop_requested.reset(token)
    return done


class Worker:
    """Runs due work whenever woken (`wake_worker`) or every 250 ms, until `stop_event` is set.

    In a thread next to the web server: `Worker(stop_event).run()`. As the main thread
    (`closeloop worker`) it also stops on SIGTERM and SIGINT, after the send in progress.
    """

    def __init__(self, stop_event: threading.Event | None = None, poll_seconds: float = POLL_SECONDS) -> None:
        self.stop_event = stop_event or threading.Event()
        self.poll_seconds = poll_seconds

    def stop(self) -> None:
        self.stop_event.set()
        wake_worker()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        logger.info("worker stopping on signal %s", signal.Signals(signum).name)
        self.stop()

    def _sleep(self) -> None:
        """Until woken, stopped or the poll interval is over; the stop event is checked at least every 250 ms."""
        deadline = time.monotonic() + self.poll_seconds
        while not self.stop_event.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or _wake.wait(min(remaining, POLL_SECONDS)):
                break
        _wake.clear()

    def run(self) -> None:
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, self._on_signal)
        logger.info("worker started")
        try:
            while not self.stop_event.is_set():
                close_old_connections()
                try:
                    run_due_work(timezone.now(), stop=self.stop_event)
                except Exception:
                    # A database hiccup must not end the worker; the next round tries again.
                    logger.exception("worker round failed")
                self._sleep()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            connections.close_all()
            logger.info("worker stopped")
