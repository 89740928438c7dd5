"""Where the time of the ingest paths that miss their targets goes: cProfile by closeloop module, beside
queries and CPU per response measured without the profiler.

    .venv/bin/python bench/profiles.py [--posts 300] [--batches 10] [--rows 5000]

In a fresh temporary CLOSELOOP_HOME on SQLite, in this process (Django's test client, no HTTP server, so
what is measured is closeloop's own work per request, not the server's):

- single posts: `POST /api/v1/responses` with the workload of bench/http_ingest.py (its configuration,
  one response in three unhappy: an alert, a case, an email planned);
- batches: `POST /api/v1/responses/batch` of 100 such responses;
- the realistic import: `closeloop ingest` of the demo's rows as if all were recent (bench/ingest.py's
  realistic file);
- the worker's send of an email (the email channel: MIME build and one SMTP conversation kept open) for
  the alert emails the posts planned, into a local SMTP server in a process of its own.

For each: the CPU milliseconds per response without the profiler, the queries per request (quiet and
unhappy single posts), then one profiled run grouped by closeloop module (cumulative and own time) and the
own time of closeloop, Django, SQLite and the rest. The profiler slows Python calls more than SQLite's
work, so its shares lean towards Python. Prints a Markdown section for docs/benchmarks.md; what the
tables mean for each target is in docs/performance.md.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ingest as import_bench
from latency import CONFIG, free_port

MODULES = 12
BATCH = 100


def item(prefix: str, n: int) -> dict[str, Any]:
    """bench/http_ingest.py's body: one response in three unhappy."""
    answers = (
        {"score": 2, "comment": "Slow and unhelpful."} if n % 3 == 0 else {"score": 9, "comment": "Quick and friendly."}
    )
    return {"survey": "csat", "external_id": f"{prefix}-{n}", "unit": "DESK", "answers": answers}


def profile_table(title: str, stats: pstats.Stats, seconds: float, responses: int) -> list[str]:
    table, where = import_bench.profile_by_module(stats)
    # A middleware module is entered once for each of its classes along the chain, each time around the rest
    # of the request: its cumulative time counts the same seconds several times over, so it is left out.
    table = [row for row in table if row[1] <= seconds]
    lines = [
        f"#### {title}: {seconds:.1f} s under the profiler for {responses:,} responses",
        "",
        "| module | cumulative | share | own |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {cumulative:.2f} s | {cumulative / seconds:.0%} | {own:.2f} s |"
        for name, cumulative, own in table[:MODULES]
    ]
    lines += ["", "| own time in | seconds | share |", "|---|---|---|"]
    lines += [f"| {name} | {spent:.2f} s | {spent / seconds:.0%} |" for name, spent in where.items()]
    return [*lines, ""]


def cpu_ms_per(count: int, work: Callable[[], None]) -> float:
    started = time.process_time()
    work()
    return (time.process_time() - started) * 1000 / count


def profiled(work: Callable[[], None]) -> tuple[pstats.Stats, float]:
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    work()
    profiler.disable()
    return pstats.Stats(profiler), time.perf_counter() - started


def http_sections(posts: int, batches: int) -> list[str]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from closeloop.api.models import ApiToken, hash_token
    from closeloop.config.apply import apply_config

    apply_config(CONFIG)
    secret = ApiToken.generate()
    ApiToken.objects.create(name="bench", token_hash=hash_token(secret), hint=secret[:8], scopes=["ingest"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def post(path: str, body: object) -> None:
        answer = client.post(path, json.dumps(body), content_type="application/json")
        assert answer.status_code in (200, 201), answer.content[:300]

    def singles(prefix: str) -> Callable[[], None]:
        return lambda: [post("/api/v1/responses", item(prefix, n)) for n in range(posts)]  # type: ignore[func-returns-value]

    def batched(prefix: str) -> Callable[[], None]:
        def send() -> None:
            for b in range(batches):
                post("/api/v1/responses/batch", {"items": [item(prefix, b * BATCH + n) for n in range(BATCH)]})

        return send

    singles("warm")()
    counts = {}
    for n, kind in ((1, "quiet"), (3, "unhappy")):
        with CaptureQueriesContext(connection) as queries:
            post("/api/v1/responses", item("counted", n))
        counts[kind] = len(queries.captured_queries)
    single_cpu = cpu_ms_per(posts, singles("timed"))
    batch_cpu = cpu_ms_per(batches * BATCH, batched("timed-batch"))
    lines = [
        f"Single posts: {single_cpu:.2f} ms of CPU a post ({posts} posts), {counts['quiet']} queries for a quiet"
        f" post and {counts['unhappy']} for an unhappy one (its token, the transaction, the replay and customer"
        " look-ups, the inserts). Batches of 100: "
        f"{batch_cpu:.2f} ms of CPU a response. Measured without the profiler, in one process on SQLite.",
        "",
    ]
    stats, seconds = profiled(singles("profiled"))
    lines += profile_table("Single posts", stats, seconds, posts)
    stats, seconds = profiled(batched("profiled-batch"))
    lines += profile_table("Batches of 100", stats, seconds, batches * BATCH)
    return lines


def wait_for_port(port: int) -> None:
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"the SMTP server did not start on port {port}")


def send_section() -> list[str]:
    """The worker's send of each email the posts planned (bench/deliveries.py measures the whole drain)."""
    from closeloop.notify.channels.email import EmailChannel
    from closeloop.notify.models import Delivery

    deliveries = list(Delivery.objects.filter(channel="email").order_by("id")[:1000])
    channel = EmailChannel()

    def send() -> None:
        for delivery in deliveries:
            channel.send(delivery)

    send()  # the conversation opened, the code warm
    cpu = cpu_ms_per(len(deliveries), send)
    stats, seconds = profiled(send)
    channel.close()
    ranked = sorted(stats.stats.items(), key=lambda entry: -entry[1][3])  # type: ignore[attr-defined]
    lines = [
        f"#### The worker's send of an email: {cpu:.2f} ms of CPU a message ({len(deliveries)} alert emails,"
        f" without the profiler); {seconds:.1f} s under it",
        "",
        "| call | cumulative | share |",
        "|---|---|---|",
    ]
    wanted = {
        "build_message": "closeloop: building the message (Django's EmailMultiAlternatives)",
        "message": "Django: the MIME tree (headers encoded and folded)",
        "as_bytes": "email: flattening the MIME tree to bytes",
        "sendmail": "smtplib: MAIL, RCPT, DATA and the reply of each",
    }
    shown = set()
    for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in ranked:
        label = wanted.get(name)
        if label and label not in shown and ("closeloop" in filename or "django" in filename or "python3" in filename):
            shown.add(label)
            lines.append(f"| {label} | {cumulative:.2f} s | {cumulative / seconds:.0%} |")
    return [*lines, ""]


def import_section(home: Path, rows: int) -> list[str]:
    from closeloop.config.apply import apply_config
    from closeloop.demo.generate import organization_yaml

    apply_config(import_bench.without_text_rules(organization_yaml(), alert_max_age="5200w"))
    path = home / "realistic.csv"
    import_bench.write_csv(path, rows, datetime.now(UTC), "realistic")
    _seconds, _summary, _marks, stats = import_bench.time_import(path, 500, profile=True)
    assert stats is not None
    return profile_table("The realistic import", stats, stats.total_tt, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--rows", type=int, default=5000, help="rows of the profiled realistic import")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="closeloop-bench-profiles-") as folder:
        home = Path(folder)
        # The SMTP server in a process of its own, so that its CPU is not counted as the sender's.
        port = free_port()
        smtp = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"]
        )
        wait_for_port(port)
        os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{port}"
        import_bench.setup_django(home)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        lines = [
            "## Where ingest and sending spend their time (profiles)",
            "",
            "`bench/profiles.py`: what bounds the import, HTTP and worker rows against their ceilings, in one"
            " process on SQLite. The profiler slows Python calls more than SQLite's work, so its shares lean"
            " towards Python."
            " Cumulative: from each call into a module from outside it until it returns; own: in the module's"
            " own lines; a module entered again from inside itself by way of another (the middleware chain)"
            " would count its time twice and is left out. What would move each figure: docs/performance.md.",
            "",
        ]
        imported = import_section(home, args.rows)
        # The HTTP workload has a configuration of its own (bench/latency.py's): start it from empty tables.
        call_command("flush", interactive=False, verbosity=0)
        lines += http_sections(args.posts, args.batches) + send_section() + imported
        smtp.terminate()
        smtp.wait(10)
    print("\n".join(lines).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
