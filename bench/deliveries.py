"""Draining the outbox on SQLite: one short write per outcome, and what it costs the web requests.

    .venv/bin/python bench/deliveries.py [--deliveries 2000]

Fills a fresh SQLite database (temporary CLOSELOOP_HOME) with pending email deliveries and drains it
through the real deliveries step (`run_due_work`) into a local aiosmtpd server, while a second thread
plays the web requests: a short write transaction every 20 ms (what a POST needs of SQLite's single
write lock), timing how long each waited. Two ways of recording outcomes are compared:

- per message (what closeloop does): each outcome is its own write as soon as its send returns, so a
  killed worker repeats at most the message in flight;
- per batch (the ceiling for throughput): the outcomes of a claimed batch of 50 written in one
  transaction after all its sends, so a killed worker repeats the whole batch.

A direct smtplib send of the same number of messages is the SMTP ceiling. Prints a Markdown section.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import statistics
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup_django(home: Path, port: int) -> None:
    os.environ["CLOSELOOP_HOME"] = str(home)
    os.environ["DJANGO_SETTINGS_MODULE"] = "closeloop.settings"
    os.environ["CLOSELOOP_LOG_LEVEL"] = "ERROR"
    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{port}"
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(count: int, label: str) -> None:
    from django.utils import timezone

    from closeloop.notify.models import Delivery

    now = timezone.now()
    Delivery.objects.bulk_create(
        Delivery(
            channel="email",
            address=f"lead{i}@bench.example",
            subject=f"{label} {i}",
            text="Call the customer",
            idempotency_key=f"{label}:{i}",
            status="pending",
            next_attempt_at=now,
            created_at=now,
        )
        for i in range(count)
    )


def deliver_due_per_batch(now) -> int:
    """The outcomes of a whole claimed batch written in one transaction after the sends."""
    from django.db import transaction

    from closeloop.notify import dispatch

    batch = dispatch.claim_due(now)
    channels: dict = {}
    outcomes = [(delivery, dispatch.attempt(delivery, channels)) for delivery in batch]
    for channel in channels.values():
        channel.close()
    with transaction.atomic():
        for delivery, outcome in outcomes:
            dispatch.record(delivery, outcome, now)
    return len(outcomes)


class WebWrites:
    """A thread doing one short write transaction every 20 ms, timing each from BEGIN to COMMIT."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        from django.db import connection, transaction

        from closeloop.org.models import Organization

        while not self.stop.is_set():
            started = time.perf_counter()
            with transaction.atomic():
                Organization.objects.filter(pk=1).update(name="Bench")
            self.waits.append(time.perf_counter() - started)
            self.stop.wait(0.02)
        connection.close()

    def __enter__(self) -> WebWrites:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def drain(step, label: str, count: int) -> tuple[float, list[float]]:
    from django.utils import timezone

    from closeloop.worker.runner import run_due_work
    from closeloop.worker.steps import Step

    fill(count, label)
    with WebWrites() as web:
        started = time.perf_counter()
        done = run_due_work(timezone.now(), steps=(Step("deliveries", step),))
        elapsed = time.perf_counter() - started
    assert done["deliveries"] == count, done
    return elapsed, web.waits


def direct_smtp(port: int, count: int) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(count):
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = "closeloop@bench.example", "lead@bench.example", str(i)
            message.set_content("Call the customer")
            smtp.send_message(message)
    return time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def row(label: str, count: int, elapsed: float, waits: list[float] | None) -> str:
    web = (
        f"{statistics.median(waits) * 1000:.1f} ms | {percentile(waits, 0.99) * 1000:.1f} ms | "
        f"{max(waits) * 1000:.1f} ms"
        if waits
        else "| |"
    )
    return f"| {label} | {count} | {elapsed:.2f} s | {count / elapsed:.0f}/s | {web} |"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=2000)
    args = parser.parse_args()
    count = args.deliveries
    port = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory(prefix="closeloop-bench-deliveries-") as home:
            setup_django(Path(home), port)
            from closeloop.notify.dispatch import deliver_due

            per_message = drain(deliver_due, "per-message", count)
            per_batch = drain(deliver_due_per_batch, "per-batch", count)
            smtp_only = direct_smtp(port, count)
    finally:
        controller.stop()
    print("## Outbox drain on SQLite (outcome per message vs per batch)\n")
    print(
        f"{count} pending emails drained by the deliveries step into a local SMTP server, batches of 50, while a\n"
        "thread does one short write transaction every 20 ms as a web request would; the web columns are how long\n"
        "that write took (waiting for SQLite's write lock included).\n"
    )
    print("| recording | emails | time | emails/s | web write p50 | p99 | max |")
    print("|---|---|---|---|---|---|---|")
    print(row("per message (closeloop)", count, *per_message))
    print(row("per batch of 50 (throughput ceiling)", count, *per_batch))
    print(row("ceiling: direct smtplib, no database", count, smtp_only, None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
