"""The case list's free-text search over the customer's name, the ticket and the customer's words.

    .venv/bin/python bench/search.py [--cases 100000] [--engine sqlite|postgres]

Fills a fresh database with `--cases` open cases whose responses carry realistic comments, then times what
the case list does for one search (the total count and the first page of 50, due first) with closeloop's
own query (closeloop.cases.queries.search), and compares it in the same run with the alternative:

- SQLite: closeloop's LIKE over name, ticket and words, against an FTS5 index of the same text (a virtual
  table that would have to be kept in step with every insert);
- PostgreSQL: closeloop's full-text search (to_tsvector at query time), against a plain ILIKE.

SQLite runs in a temporary CLOSELOOP_HOME. PostgreSQL uses the database CLOSELOOP_TEST_POSTGRES names, in a
schema of its own (`bench_search`) that is dropped afterwards, so no other data is touched.

Prints a Markdown section for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
SCHEMA = "bench_search"
PAGE = 50
FIRST = ["Olivia", "Liam", "Maya", "Noah", "Priya", "Tom", "Aisha", "Ben", "Chloe", "Jamal", "Lucia", "Marcus"]
LAST = ["Walsh", "Okafor", "Reyes", "Patel", "Nguyen", "Kowalski", "Brennan", "Haddad", "Silva", "Ito"]
SENTENCES = [
    "The engineer never turned up and nobody called to say why.",
    "I was on hold for forty minutes and then the line went dead.",
    "My broadband has dropped every evening this week.",
    "The router you sent does not work with my landline.",
    "I was promised a call back within a day and heard nothing.",
    "The bill is twice what I was quoted in the shop.",
    "Staff in the store were friendly but could not fix it.",
    "I want a refund for the days without internet.",
    "If this is not sorted I will cancel and switch provider.",
    "The installer left cables all over the hallway.",
    "Speeds are nowhere near what the contract says.",
    "Your app keeps logging me out before I can pay.",
]
QUERIES = [
    ("a common word", "evening"),
    ("two words", "refund days"),
    ("a customer's name", "Kowalski"),
    ("a ticket", "T-77777"),
]


def connect(engine: str, home: Path) -> None:
    os.environ["CLOSELOOP_HOME"] = str(home)
    os.environ["DJANGO_SETTINGS_MODULE"] = "closeloop.settings"
    os.environ.setdefault("CLOSELOOP_LOG_LEVEL", "WARNING")
    if engine == "postgres":
        url = os.environ.get("CLOSELOOP_TEST_POSTGRES")
        if not url:
            raise SystemExit("--engine postgres needs CLOSELOOP_TEST_POSTGRES=postgres://user@host:port/db")
        parts = urlsplit(url)
        # Every table of this run lives in a schema of its own, dropped at the end.
        options = urlencode({"options": f"-c search_path={SCHEMA}"})
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(query=options))
        import psycopg

        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            admin.execute(f"CREATE SCHEMA {SCHEMA}")
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def drop_schema() -> None:
    import psycopg

    url = os.environ["CLOSELOOP_TEST_POSTGRES"]
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def fill(cases: int) -> float:
    """An organisation and `cases` responses with customers, comments and open cases; returns seconds."""
    from django.db import connection, transaction

    from closeloop.cases.models import Case
    from closeloop.feedback.models import Customer, Response, Survey
    from closeloop.org.models import Organization, Unit

    started = time.perf_counter()
    rng = random.Random(7)
    Organization.objects.create(pk=1, name="Bench", time_zone="UTC")
    unit = Unit.objects.create(code="STORE", name="Store", path="/STORE/")
    survey = Survey.objects.create(key="visit", name="Visit", overall="overall")
    batch = 5000
    for start in range(0, cases, batch):
        numbers = range(start + 1, min(start + batch, cases) + 1)
        with transaction.atomic():
            customers = Customer.objects.bulk_create(
                [
                    Customer(external_id=f"C-{n}", name=f"{rng.choice(FIRST)} {rng.choice(LAST)}", updated_at=NOW)
                    for n in numbers
                ]
            )
            responses = Response.objects.bulk_create(
                [
                    Response(
                        survey=survey,
                        external_id=f"r-{n}",
                        source="bench",
                        submitted_at=NOW - timedelta(minutes=n),
                        received_at=NOW,
                        valid_since=NOW,
                        unit_code="STORE",
                        unit=unit,
                        ticket=f"T-{n}",
                        customer=customer,
                        answers={"overall": 2},
                        words=" ".join(rng.sample(SENTENCES, 2)),
                        status="valid",
                        overall=2,
                        needs_recovery=True,
                    )
                    for n, customer in zip(numbers, customers, strict=True)
                ]
            )
            Case.objects.bulk_create(
                [
                    Case(
                        response=response,
                        template_key="bench",
                        unit=unit,
                        category="Bench",
                        severity="normal",
                        status="Open",
                        opened_at=response.submitted_at,
                        due_at=response.submitted_at + timedelta(days=3),
                        statuses=["Open", "Closed"],
                    )
                    for response in responses
                ]
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def timed(fn: Callable[[], object], repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def list_page(queryset: object) -> tuple[int, int]:
    """What the case list does with a selection: count it, read its first page (due first)."""
    count = queryset.count()  # type: ignore[attr-defined]
    rows = list(queryset.order_by("due_at", "id")[:PAGE])  # type: ignore[attr-defined]
    return count, len(rows)


def run(engine: str, cases: int) -> str:
    with tempfile.TemporaryDirectory(prefix="closeloop-bench-search-") as home:
        connect(engine, Path(home))
        try:
            return measure(engine, cases)
        finally:
            if engine == "postgres":
                from django.db import connection

                connection.close()
                drop_schema()


def measure(engine: str, cases: int) -> str:
    from django.db import connection
    from django.db.models import Q

    from closeloop.cases.models import Case
    from closeloop.cases.queries import search

    fill_seconds = fill(cases)
    open_cases = Case.objects.filter(state="open")
    rows = []
    if connection.vendor == "sqlite":
        # The alternative: an FTS5 index of the same three texts, keyed by case id.
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("CREATE VIRTUAL TABLE case_search USING fts5(name, ticket, words)")
            cursor.execute(
                "INSERT INTO case_search (rowid, name, ticket, words) SELECT c.id, cu.name, r.ticket, r.words"
                " FROM cases_case c JOIN feedback_response r ON r.id = c.response_id"
                " JOIN feedback_customer cu ON cu.id = r.customer_id"
            )
        index_seconds = time.perf_counter() - started
        for label, text in QUERIES:
            ours = timed(lambda text=text: list_page(search(open_cases, text)))
            count = search(open_cases, text).count()
            match = " ".join(f'"{word}"' for word in text.split())

            def fts(match: str = match) -> None:
                selected = open_cases.extra(
                    where=["cases_case.id IN (SELECT rowid FROM case_search WHERE case_search MATCH %s)"],
                    params=[match],
                )
                list_page(selected)

            rows.append((label, text, count, ours, timed(fts)))
        alternative = f"FTS5 (index built in {index_seconds:.1f} s)"
        version = f"SQLite {sqlite3.sqlite_version}"
    else:
        for label, text in QUERIES:
            ours = timed(lambda text=text: list_page(search(open_cases, text)))
            count = search(open_cases, text).count()
            like = Q()
            for word in text.split():
                like &= (
                    Q(response__customer__name__icontains=word)
                    | Q(response__ticket__icontains=word)
                    | Q(response__words__icontains=word)
                )
            rows.append((label, text, count, ours, timed(lambda like=like: list_page(open_cases.filter(like)))))
        alternative = "ILIKE"
        server = connection.cursor().connection.info.server_version
        version = f"PostgreSQL {server // 10000}.{server % 100}"
    ours_name = "LIKE (closeloop)" if connection.vendor == "sqlite" else "full-text search (closeloop)"
    lines = [
        f"### {version}",
        "",
        f"{cases:,} open cases, each with a customer and two sentences of comment (filled in {fill_seconds:.1f} s).",
        f"Each figure is the median of 5 runs of the case list's work: the total count and the first {PAGE} rows.",
        "",
        f"| search | for | cases found | {ours_name} | {alternative} |",
        "|---|---|---|---|---|",
    ]
    for label, text, count, ours, other in rows:
        lines.append(f"| {label} | `{text}` | {count:,} | {ours * 1000:.0f} ms | {other * 1000:.0f} ms |")
    return "\n".join(lines)


INTRO = """## Case list search

The case list's search box reads the customer's name, the ticket and the customer's words. On SQLite
closeloop uses LIKE; on PostgreSQL, full-text search on GIN indexes (feedback/migrations/0004)."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--engine", choices=["sqlite", "postgres"], help="default: SQLite, and PostgreSQL when set")
    args = parser.parse_args()
    engines = (
        [args.engine]
        if args.engine
        else ["sqlite", *(["postgres"] if os.environ.get("CLOSELOOP_TEST_POSTGRES") else [])]
    )
    # Each engine in a process of its own: Django is set up once per process.
    if len(engines) > 1:
        import subprocess

        sections = [
            subprocess.run(
                [sys.executable, __file__, "--cases", str(args.cases), "--engine", engine],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            for engine in engines
        ]
        print("\n\n".join([INTRO, *sections]))
        return 0
    print(run(engines[0], args.cases) if args.engine else INTRO + "\n\n" + run(engines[0], args.cases))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    sys.exit(main())
