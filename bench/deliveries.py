"""Draining the outbox: one short write per outcome, what it costs the web requests, and several workers.

    .venv/bin/python bench/deliveries.py [--deliveries 2000] [--postgres URL [--workers 1,2,4]]

(or BENCH_DELIVERIES, BENCH_DELIVERIES_POSTGRES, BENCH_DELIVERIES_WORKERS in the environment)

Fills a fresh SQLite database (temporary CLOSELOOP_HOME) with pending email deliveries and drains it
through the real deliveries step (`run_due_work`) into a local aiosmtpd server, while a second thread
plays the web requests: a short write transaction every 20 ms (what a POST needs of SQLite's single
write lock), timing how long each waited. Two ways of recording outcomes are compared:

- per message (what closeloop does): each outcome is its own write as soon as its send returns, so a
  killed worker repeats at most the message in flight;
- per batch (the ceiling for throughput): the outcomes of a claimed batch of 50 written in one
  transaction after all its sends, so a killed worker repeats the whole batch.

A direct smtplib send of the same number of messages is the SMTP ceiling.

With a PostgreSQL database (`--postgres`, instead of the SQLite runs; a database for benchmarks only,
its outbox is emptied before each run), the same number of pending emails is drained by 1, 2, 4 worker
processes at once (each running the deliveries step until nothing is due), against the same number of
processes sending directly with smtplib as the ceiling; the sink counts messages that arrived twice, and
PostgreSQL's statistics the commits. Prints Markdown sections.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import smtplib
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self) -> None:
        self.count = 0
        self.subjects: Counter[bytes] = Counter()

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        for line in envelope.content.split(b"\r\n", 20):
            if line.startswith(b"Subject: "):
                self.subjects[line] += 1
                break
        return "250 OK"

    def duplicates(self) -> int:
        return sum(times - 1 for times in self.subjects.values())


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


def _pg_worker(env: dict[str, str], counts, start) -> None:
    """One worker process: the deliveries step, its SMTP conversation kept open, until nothing is due."""
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connections
    from django.utils import timezone

    from closeloop.notify.dispatch import channels_kept_open, deliver_due
    from closeloop.worker.runner import run_due_work
    from closeloop.worker.steps import Step

    connections["default"].ensure_connection()
    start.wait()
    cpu = time.process_time()
    with channels_kept_open():
        done = run_due_work(timezone.now(), steps=(Step("deliveries", deliver_due),))
    counts.put((done["deliveries"], time.process_time() - cpu))
    connections.close_all()


def _smtp_sender(port: int, numbers: range, start) -> None:
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        start.wait()
        for i in numbers:
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = "closeloop@bench.example", "lead@bench.example", str(i)
            message.set_content("Call the customer")
            smtp.send_message(message)


def _run_processes(targets: list[tuple]) -> float:
    """Start the processes, let them get ready, release them at once; the wall time until the last ends."""
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    processes = [context.Process(target=target, args=(*args, start)) for target, args in targets]
    for process in processes:
        process.start()
    time.sleep(3)  # Django set up and connected in each before the clock starts
    started = time.perf_counter()
    start.set()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    assert all(process.exitcode == 0 for process in processes), [p.exitcode for p in processes]
    return elapsed


def _commits() -> int:
    """Transactions committed in this database so far (PostgreSQL's statistics; this query's own included)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def postgres_workers(url: str, port: int, count: int, workers: list[int], sink: Sink) -> list[str]:
    env = {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "closeloop.settings",
        "CLOSELOOP_LOG_LEVEL": "ERROR",
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "CLOSELOOP_HOME": tempfile.mkdtemp(prefix="closeloop-bench-deliveries-pg-"),
    }
    os.environ.update(env)
    import django
    from django.db import connection

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from closeloop.notify.models import Delivery

    rows = []
    context = multiprocessing.get_context("spawn")
    for n in workers:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE notify_deliveryattempt, notify_delivery_alerts, notify_delivery CASCADE")
        fill(count, f"pg-{n}")
        connection.close()
        sink.subjects.clear()
        counts = context.Queue()
        commits_before = _commits()
        elapsed = _run_processes([(_pg_worker, (env, counts))] * n)
        results = [counts.get() for _ in range(n)]
        sent, cpu = sum(r[0] for r in results), sum(r[1] for r in results)
        # The workers' server processes have ended, so their statistics are in.
        time.sleep(1)
        commits = _commits() - commits_before - 2
        left = Delivery.objects.exclude(status="sent").count()
        assert sent == count and left == 0, (sent, left)
        duplicates = sink.duplicates()
        chunks = [range(i, count, n) for i in range(n)]
        ceiling = _run_processes([(_smtp_sender, (port, chunk)) for chunk in chunks])
        rows.append(
            f"| {n} | {count} | {elapsed:.2f} s | {count / elapsed:.0f}/s | {duplicates} | "
            f"{count / ceiling:.0f}/s | {ceiling / elapsed:.0%} | {commits / count:.2f} | {cpu / count * 1000:.2f} ms |"
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=int(os.environ.get("BENCH_DELIVERIES", "2000")))
    parser.add_argument("--postgres", default=os.environ.get("BENCH_DELIVERIES_POSTGRES", ""))
    parser.add_argument("--workers", default=os.environ.get("BENCH_DELIVERIES_WORKERS", "1,2,4"))
    args = parser.parse_args()
    count = args.deliveries
    port = free_port()
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        if args.postgres:
            # Django is set up once per process: with a PostgreSQL database, only its runs.
            pg_rows = postgres_workers(args.postgres, port, count, [int(n) for n in args.workers.split(",")], sink)
        else:
            with tempfile.TemporaryDirectory(prefix="closeloop-bench-deliveries-") as home:
                setup_django(Path(home), port)
                from closeloop.notify.dispatch import deliver_due

                per_message = drain(deliver_due, "per-message", count)
                per_batch = drain(deliver_due_per_batch, "per-batch", count)
                smtp_only = direct_smtp(port, count)
    finally:
        controller.stop()
    if args.postgres:
        print("## Outbox drain on PostgreSQL by several workers\n")
        print(
            f"{count} pending emails drained by N worker processes (the deliveries step, batches of 50, each its own\n"
            "SMTP conversation) into one local SMTP server; ceiling: N processes sending the same number directly\n"
            "with smtplib to the same server, no database. Duplicates: messages the server received twice.\n"
        )
        print(
            "| workers | emails | time | emails/s | duplicates | ceiling (N x smtplib) | share of ceiling "
            "| commits/email | worker CPU/email |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        print("\n".join(pg_rows))
        return 0
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
