"""One simulated run: 10M synthetic responses in PostgreSQL and the p95 of the pages `make bench` measures at 1M.

    .venv/bin/python bench/simulate.py [--responses 10000000] [--server postgres://...]

Not part of `make bench` (it takes far longer). Creates a database of its own, `<name>_simulate`, on the server
`--server` names (default: CLOSELOOP_TEST_POSTGRES, else postgres://postgres@127.0.0.1:5432/postgres), fills it
with bench/queries.py's fill (set-based INSERT ... SELECT generate_series, the filled tables' indexes and
constraints built after the inserts, then VACUUM ANALYZE), measures the same pages section as bench/queries.py
and drops the database. Prints a Markdown section for docs/scaling.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import queries
from run_all import machine

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def database_url(server: str) -> str:
    return queries.bench_database_url(server, "simulate")


def simulate(responses: int, budget: float) -> str:
    from django.db import connection

    from closeloop.alerts.models import Alert
    from closeloop.cases.models import Case

    started = time.perf_counter()
    steps = queries.fill(responses)
    fill_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        (size,) = cursor.fetchone()
        cursor.execute("SELECT pg_total_relation_size('feedback_response'), pg_relation_size('feedback_response')")
        response_total, response_heap = cursor.fetchone()
    inserts = sum(seconds for name, seconds in steps.items() if name not in queries.FILL_AFTER_STEPS)
    lines = [
        f"## One simulated run: {responses:,} synthetic responses in PostgreSQL",
        "",
        f"`bench/simulate.py --responses {responses}` on {queries.engine_name(connection)}, {machine()};"
        f" measured {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC.",
        "",
        f"{responses:,} responses over 90 days, {Alert.objects.count():,} alerts, {Case.objects.count():,} cases;"
        f" database {size_of(size)} (responses {size_of(response_heap)},"
        f" {size_of(response_total)} with their indexes). Filled in {fill_seconds / 60:,.1f} min"
        f" ({responses / inserts:,.0f} responses/s through the inserts):",
        "",
        "| step | seconds |",
        "|---|---|",
        *[f"| {name} | {seconds:,.1f} |" for name, seconds in steps.items()],
        "",
        *queries.pages(responses, budget),
    ]
    return "\n".join(lines)


def size_of(octets: int) -> str:
    return f"{octets / 2**30:,.1f} GiB" if octets >= 2**30 else f"{octets / 2**20:,.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=10_000_000)
    parser.add_argument(
        "--server", default=os.environ.get("CLOSELOOP_TEST_POSTGRES") or DEFAULT_SERVER, help="a PostgreSQL URL"
    )
    parser.add_argument(
        "--page-budget",
        type=float,
        default=60.0,
        help="seconds each page's requests may take in all (default 60; a slower page is timed once)",
    )
    args = parser.parse_args(argv)
    url = database_url(args.server)
    name = urlsplit(url).path.lstrip("/")
    queries._admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    queries._admin(url, f'CREATE DATABASE "{name}"')
    try:
        os.environ["DATABASE_URL"] = url
        with tempfile.TemporaryDirectory(prefix="closeloop-simulate-") as home:
            queries.setup_django("postgres", Path(home))
            print(simulate(args.responses, args.page_budget), flush=True)
            from django.db import connections

            connections.close_all()
    finally:
        queries._admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
