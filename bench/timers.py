"""Escalation timers at scale: the worker's selection of due cases among 1,000,000 open ones.

    .venv/bin/python bench/timers.py [--cases 1000000] [--due 1000] [--engine sqlite|postgres]

Builds a fresh database (SQLite in a temporary CLOSELOOP_HOME; with CLOSELOOP_TEST_POSTGRES set, also a
separate PostgreSQL database `<name>_bench_timers` on that server, dropped afterwards), fills it with open
cases of which `--due` have an escalation due, and measures:

- the worker's selection (`next_escalation_at <= now`, the first batch) with its query plan;
- the ceiling it is compared with: the same query with the index switched off (a full scan);
- one real escalation pass over every due case (`escalate_due` until it finds nothing), outbox included.

Prints a Markdown section for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
STEPS = '[{"when": "not_viewed", "after": 86400, "notify": ["unit_leads"]}]'


def setup_django(engine: str, home: Path) -> None:
    os.environ["CLOSELOOP_HOME"] = str(home)
    os.environ["DJANGO_SETTINGS_MODULE"] = "closeloop.settings"
    os.environ.setdefault("CLOSELOOP_LOG_LEVEL", "WARNING")
    if engine == "sqlite":
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def bench_database_url(url: str) -> str:
    """The server of `url`, with a database of its own so the benchmark never touches anyone's data."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "postgres"
    return urlunsplit(parts._replace(path=f"/{name}_bench_timers"))


def recreate_postgres_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')


def drop_postgres_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}"')


def fill(cases: int, due: int) -> float:
    """Insert an organisation, `cases` responses and `cases` open cases in set-based SQL; returns seconds."""
    from django.db import connection, transaction

    from closeloop.feedback.models import Survey
    from closeloop.org.models import Organization, Person, Role, Unit

    started = time.perf_counter()
    Organization.objects.create(pk=1, name="Bench", time_zone="UTC")
    unit = Unit.objects.create(code="STORE", name="Store", path="/STORE/")
    lead = Person.objects.create(key="lead", name="Lea Lead", email="lead@example.com")
    Role.objects.create(person=lead, unit=unit, role=Role.Kind.LEAD)
    survey = Survey.objects.create(key="visit", name="Visit")
    every = max(cases // max(due, 1), 1)
    postgres = connection.vendor == "postgresql"
    if postgres:
        series = f"SELECT generate_series(1, {cases}) AS n"
        true, false = "true", "false"
    else:
        series = (
            f"WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {cases}) SELECT n FROM seq"
        )
        true, false = "1", "0"
    stamp = NOW if postgres else NOW.strftime("%Y-%m-%d %H:%M:%S")

    def shifted(seconds: str) -> str:
        """NOW moved by an SQL expression of seconds, in the column format of the engine."""
        if postgres:
            return f"(%s::timestamptz + ({seconds}) * interval '1 second')"
        return f"strftime('%%Y-%%m-%%d %%H:%%M:%%S', %s, ({seconds}) || ' seconds')"

    # One case in `every` was opened 25 hours ago and nobody viewed it: its first step is due. The others
    # opened in the last ten hours and wait until their 24th hour.
    opened = f"(CASE WHEN r.id %% {every} = 0 THEN -90000 - r.id %% 600 ELSE -(r.id %% 36000) END)"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO feedback_response (survey_id, external_id, source, submitted_at, received_at, valid_since,"
            " unit_code, unit_id, segment, agent_code, ticket, answers, interviewer_notes, interviewer_flag,"
            " audio_url, status, problems, needs_recovery, intake_problems, customer_name, customer_email,"
            " customer_phone, contact_ok, audio_url_allowed, audio_file, audio_type, text_judgement, words)"
            f" SELECT %s, 'r-' || n, 'bench', {shifted('-n')}, {shifted('-n')}, {shifted('-n')}, 'STORE', %s, '', '',"
            f" 'T-' || n, '{{}}', '', {false}, '', 'valid', '[]', {true}, '[]', '', '', '', {false}, {false}, '', '',"
            f" '{{}}', '' FROM ({series}) AS s",
            [survey.pk, stamp, stamp, stamp, unit.pk],
        )
        cursor.execute(
            "INSERT INTO cases_case (response_id, template_key, unit_id, category, severity, tier, status, state,"
            " opened_at, due_at, escalation_level, statuses, team, notify_on, calendar, sla, escalation_steps,"
            " fired_steps, next_escalation_at, auto_close_on_recovered, contacted_statuses, action_taken, root_cause)"
            f" SELECT r.id, 'bench', %s, 'Bench', 'normal', '', 'Open', 'open', {shifted(opened)},"
            f" {shifted(opened + ' + 259200')}, 0, '[\"Open\", \"Closed\"]', '{{}}', '[]', '', '{{}}', %s, '[]',"
            f" {shifted(opened + ' + 86400')}, {false}, '[]', '', '' FROM feedback_response AS r",
            [unit.pk, stamp, stamp, STEPS, stamp],
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds of `repeat` runs."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def run(engine: str, cases: int, due: int) -> str:
    with tempfile.TemporaryDirectory(prefix="closeloop-bench-timers-") as home:
        setup_django(engine, Path(home))
        from django.db import connection

        from closeloop.cases.escalation import BATCH, escalate_due
        from closeloop.cases.models import Case
        from closeloop.notify.models import Delivery

        fill_seconds = fill(cases, due)
        due_rows = Case.objects.filter(next_escalation_at__lte=NOW).count()
        selection = Case.objects.filter(next_escalation_at__lte=NOW).order_by("next_escalation_at", "id")
        first_batch = selection.values_list("id", flat=True)[:BATCH]
        select_seconds = timed(lambda: list(first_batch.all()), 50)  # .all(): a fresh query each time
        plan = first_batch.explain(analyze=True) if connection.vendor == "postgresql" else first_batch.explain()

        sql, params = first_batch.query.sql_with_params()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET enable_indexscan = off")
                cursor.execute("SET enable_bitmapscan = off")
                scan = sql
            else:
                scan = sql.replace('FROM "cases_case"', 'FROM "cases_case" NOT INDEXED', 1)

            def full_scan() -> None:
                cursor.execute(scan, params)
                cursor.fetchall()

            ceiling_seconds = timed(full_scan, 3)
            if connection.vendor == "postgresql":
                cursor.execute("RESET enable_indexscan")
                cursor.execute("RESET enable_bitmapscan")

        started = time.perf_counter()
        handled = 0
        while worked := escalate_due(NOW):
            handled += worked
        escalate_seconds = time.perf_counter() - started
        mails = Delivery.objects.filter(topic="escalation").count()
        vendor = connection.vendor
        version = connection.cursor().connection.info.server_version if vendor == "postgresql" else None

    engine_name = (
        f"PostgreSQL {version // 10000}.{version % 100}"
        if version
        else "SQLite " + __import__("sqlite3").sqlite_version
    )
    return "\n".join(
        [
            f"### {engine_name}",
            "",
            f"- {cases:,} open cases, {due_rows:,} with an escalation due (filled in {fill_seconds:.1f} s)",
            f"- worker selection of the first {BATCH} due cases: **{select_seconds * 1000:.2f} ms** (median of 50)",
            f"- the same query with the index switched off (full scan): {ceiling_seconds * 1000:.1f} ms"
            f" ({ceiling_seconds / select_seconds:,.0f}x slower)",
            f"- escalating all {handled:,} due cases (lock, decide, outbox, event): {escalate_seconds:.2f} s,"
            f" {handled / escalate_seconds:,.0f} cases/s, {mails:,} emails queued",
            "",
            "Query plan of the selection:",
            "",
            "```",
            plan,
            "```",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--engine", choices=["sqlite", "postgres"], help="one engine only (default: all available)")
    args = parser.parse_args(argv)
    if args.engine:
        if args.engine == "postgres":
            os.environ["DATABASE_URL"] = os.environ["CLOSELOOP_BENCH_DATABASE_URL"]
        print(run(args.engine, args.cases, args.due))
        return 0

    print(
        f"## Escalation timers ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()},"
    )
    print(f"{os.cpu_count()} CPUs, Python {platform.python_version()})")
    print()
    engines = ["sqlite"]
    server = os.environ.get("CLOSELOOP_TEST_POSTGRES")
    if server:
        engines.append("postgres")
    for engine in engines:
        env = dict(os.environ)
        if engine == "postgres":
            url = bench_database_url(server)  # type: ignore[arg-type]
            recreate_postgres_database(url)
            env["CLOSELOOP_BENCH_DATABASE_URL"] = url
        try:
            # One process per engine: Django is configured once per process.
            command = [sys.executable, __file__, "--engine", engine, "--cases", str(args.cases), "--due", str(args.due)]
            subprocess.run(command, env=env, check=True)
        finally:
            if engine == "postgres":
                drop_postgres_database(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
