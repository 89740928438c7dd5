"""Running the steps: once until nothing is due (`closeloop tick`), or for ever (`closeloop worker`, `run`)."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from types import FrameType

from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone

from closeloop.notify.dispatch import channels_kept_open, stop_requested
from closeloop.notify.wake import Listener, clear_wake, wait_for_wake, wake_worker
from closeloop.worker.heartbeat import Heartbeat
from closeloop.worker.steps import STEPS, Step

logger = logging.getLogger("closeloop.worker")

POLL_SECONDS = 0.25
# A guard against a step that always reports work: after this many rounds the caller comes back later.
MAX_ROUNDS = 1000


def run_round(now: datetime, stop: threading.Event | None = None, steps: Sequence[Step] = STEPS) -> dict[str, int]:
    """Run every step once at `now`; returns the work each did."""
    done = {step.name: 0 for step in steps}
    token = stop_requested.set(stop)
    try:
        for step in steps:
            if stop is not None and stop.is_set():
                break
            try:
                done[step.name] = step.run(now)
            except Exception:
                # One broken step must not hold back the others (deliveries above all).
                logger.exception("step %s failed", step.name)
    finally:
        stop_requested.reset(token)
    return done


def run_due_work(now: datetime, stop: threading.Event | None = None, steps: Sequence[Step] = STEPS) -> dict[str, int]:
    """Run every step at `now` until none does any more work; returns the work done per step."""
    done = {step.name: 0 for step in steps}
    for _ in range(MAX_ROUNDS):
        if stop is not None and stop.is_set():
            break
        worked = run_round(now, stop, steps)
        for name, count in worked.items():
            done[name] += count
        if not any(worked.values()):
            break
    return done


class Worker:
    """Runs due work whenever woken or every `poll_seconds` (250 ms by default), until `stop_event` is set.

    Woken by `closeloop.notify.wake`: at once by a commit in this process that enqueued deliveries and,
    on PostgreSQL (`listen`, the default), by such a commit in any process, through a LISTEN connection
    of its own; the poll finds the rest (SQLite across processes, a listen connection that is down).
    In a thread next to the web server: `Worker(stop_event).run()`. As the main thread
    (`closeloop worker`) it also stops on SIGTERM and SIGINT, after the send in progress.
    """

    def __init__(
        self,
        stop_event: threading.Event | None = None,
        poll_seconds: float = POLL_SECONDS,
        steps: Sequence[Step] = STEPS,
        listen: bool = True,
    ) -> None:
        self.stop_event = stop_event or threading.Event()
        self.poll_seconds = poll_seconds
        self.steps = steps
        self.listener = Listener() if listen else None
        self._heartbeat: Heartbeat | None = None

    def stop(self) -> None:
        self.stop_event.set()
        wake_worker()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        logger.info("worker stopping on signal %s", signal.Signals(signum).name)
        self.stop()

    def _sleep(self) -> None:
        """Until woken, stopped or the poll interval is over; the stop event is checked at least every 250 ms.

        A long poll interval (woken by LISTEN instead) still beats the heartbeat on time, so the worker
        is not taken for stopped while it waits."""
        deadline = time.monotonic() + self.poll_seconds
        while not self.stop_event.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or wait_for_wake(min(remaining, POLL_SECONDS)):
                break
            try:
                if self._heartbeat is not None:
                    self._heartbeat.beat()
            except DatabaseError:
                logger.exception("worker heartbeat failed")
        clear_wake()

    def run(self) -> None:
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, self._on_signal)
        logger.info("worker started")
        if self.listener is not None:
            self.listener.start()
        heartbeat = self._heartbeat = Heartbeat()
        busy_rounds = 0
        try:
            # The deliveries step keeps its SMTP conversation open from one batch to the next.
            with channels_kept_open():
                while not self.stop_event.is_set():
                    close_old_connections()
                    worked = False
                    try:
                        heartbeat.beat()
                        # Each round reads the clock afresh: a long backlog records when each batch really went.
                        worked = any(run_round(timezone.now(), stop=self.stop_event, steps=self.steps).values())
                    except Exception:
                        # A database hiccup must not end the worker; the next round tries again.
                        logger.exception("worker round failed")
                    busy_rounds = busy_rounds + 1 if worked else 0
                    # Straight on while there is work, but never for ever without a pause.
                    if not worked or busy_rounds >= MAX_ROUNDS:
                        busy_rounds = 0
                        self._sleep()
        finally:
            if self.listener is not None:
                self.listener.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            with contextlib.suppress(DatabaseError):
                heartbeat.stop()
            connections.close_all()
            logger.info("worker stopped")
