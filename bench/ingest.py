"""Benchmark `closeloop ingest` on SQLite against a raw SQLite ceiling measured in the same run.

    .venv/bin/python bench/ingest.py [--rows 100000] [--batch-size 500] [--profile]

Everything happens in a fresh temporary CLOSELOOP_HOME: the demo organisation is applied
(its rules, case templates and routing make the import do the work a real one does), a CSV
of demo-like responses is written, and the import is timed through the same code path as
the command. The ceiling inserts equivalent rows into a copy of the same schema with plain
`executemany`, one transaction per batch, on the same disk with the same pragmas.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import json
import os
import platform
import pstats
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CSV_COLUMNS = [
    "survey", "external_id", "submitted_at", "unit", "segment", "agent", "ticket",
    "customer_id", "customer_name", "customer_email", "customer_phone", "customer_tier", "contact_ok",
    "interviewer_notes", "interviewer_flag", "audio_url", "overall", "resolved", "factors", "nps", "comment",
]  # fmt: skip


def setup_django(home: Path) -> None:
    os.environ["CLOSELOOP_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)  # the benchmark is about the embedded SQLite default
    os.environ["DJANGO_SETTINGS_MODULE"] = "closeloop.settings"
    os.environ.setdefault("CLOSELOOP_LOG_LEVEL", "WARNING")
    import django

    django.setup()


def csv_row(item: dict[str, Any]) -> dict[str, str]:
    customer = item.get("customer", {})
    answers = item["answers"]

    def cell(value: Any) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, list):
            return ";".join(value)
        return "" if value is None else str(value)

    row = {name: cell(item.get(name)) for name in CSV_COLUMNS[:7]}
    row |= {f"customer_{key}": cell(customer.get(key)) for key in ("id", "name", "email", "phone", "tier")}
    row["contact_ok"] = cell(customer.get("contact_ok"))
    row |= {name: cell(item.get(name)) for name in ("interviewer_notes", "interviewer_flag", "audio_url")}
    row |= {key: cell(answers.get(key)) for key in ("overall", "resolved", "factors", "nps", "comment")}
    return row


def make_quiet(item: dict[str, Any]) -> dict[str, Any]:
    """The same response with middling answers that match no rule: the ingest path without alerting."""
    quiet = {key: value for key, value in item.items() if key not in ("interviewer_flag", "interviewer_notes")}
    quiet["answers"] = {"nps": 8} if "nps" in item["answers"] else {"overall": 8, "resolved": True}
    return quiet


def write_csv(path: Path, rows: int, anchor: datetime, mix: str) -> list[dict[str, Any]]:
    import yaml

    from closeloop.demo.generate import CONFIG_PATH
    from closeloop.demo.responses import demo_responses

    config = yaml.safe_load(CONFIG_PATH.read_text(encoding="utf-8"))
    items = [response.item for response in demo_responses(config, anchor, count=rows)]
    if mix == "quiet":
        items = [make_quiet(item) for item in items]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(csv_row(item) for item in items)
    return items


def time_import(path: Path, batch_size: int, profile: bool) -> tuple[float, str, str]:
    from django.core.management import call_command

    out = io.StringIO()
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    call_command("ingest", str(path), "--source", "bench", "--batch-size", str(batch_size), stdout=out)
    if profiler is not None:
        profiler.disable()
    elapsed = time.perf_counter() - started
    report = ""
    if profiler is not None:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(35)
        report = text.getvalue()
    return elapsed, out.getvalue(), report


def time_sqlite_ceiling(database: Path, items: list[dict[str, Any]], batch_size: int, folder: Path) -> float:
    """Insert equivalent rows into a copy of the real schema with plain executemany."""
    ceiling_path = folder / "ceiling.sqlite3"
    source = sqlite3.connect(database)
    schema = [sql for (sql,) in source.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")]
    source.close()
    target = sqlite3.connect(ceiling_path, isolation_level=None)
    target.execute("PRAGMA journal_mode=WAL")
    target.execute("PRAGMA synchronous=NORMAL")
    for sql in schema:
        if not sql.startswith("CREATE TABLE sqlite_"):
            target.execute(sql)
    now = datetime.now(UTC).isoformat()
    customer_sql = (
        "INSERT OR IGNORE INTO feedback_customer (external_id, name, email, phone, tier, contact_ok, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    response_sql = (
        "INSERT INTO feedback_response (survey_id, external_id, source, submitted_at, received_at, valid_since, "
        "unit_code, unit_id, segment, agent_code, agent_id, ticket, customer_id, answers, interviewer_notes, "
        "interviewer_flag, audio_url, status, problems, overall, needs_recovery) "
        "VALUES (?, ?, 'bench', ?, ?, ?, ?, 1, ?, ?, NULL, ?, NULL, ?, ?, ?, ?, 'valid', '[]', ?, ?)"
    )
    started = time.perf_counter()
    for start in range(0, len(items), batch_size):
        batch = items[start : start + batch_size]
        target.execute("BEGIN IMMEDIATE")
        target.executemany(
            customer_sql,
            [
                (c["id"], c.get("name", ""), c.get("email", ""), c.get("phone", ""), c.get("tier", ""), 1, now)
                for c in (item["customer"] for item in batch)
            ],
        )
        target.executemany(
            response_sql,
            [
                (
                    1 if item["survey"] == "support-csat" else 2,
                    item["external_id"],
                    item["submitted_at"],
                    now,
                    now,
                    item.get("unit", ""),
                    item.get("segment", ""),
                    item.get("agent", ""),
                    item.get("ticket", ""),
                    json.dumps(item["answers"]),
                    item.get("interviewer_notes", ""),
                    int(bool(item.get("interviewer_flag"))),
                    item.get("audio_url", ""),
                    item["answers"].get("overall", item["answers"].get("nps")),
                    0,
                )
                for item in batch
            ],
        )
        target.execute("COMMIT")
    elapsed = time.perf_counter() - started
    target.close()
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument(
        "--mix",
        choices=["realistic", "quiet"],
        default="realistic",
        help="realistic: the demo's answers (about a third raise alerts and open cases); "
        "quiet: middling answers that match no rule, to measure storing alone",
    )
    parser.add_argument("--profile", action="store_true", help="print where the import spends its time (cProfile)")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.batch_size < 1:
        parser.error("--rows and --batch-size must be at least 1")

    with tempfile.TemporaryDirectory(prefix="closeloop-bench-") as folder:
        home = Path(folder)
        setup_django(home)
        from django.conf import settings
        from django.core.management import call_command

        from closeloop.demo.generate import organization_yaml
        from closeloop.org.config.apply import apply_config

        call_command("migrate", verbosity=0)
        apply_config(organization_yaml())
        path = home / "responses.csv"
        items = write_csv(path, args.rows, datetime.now(UTC), args.mix)
        elapsed, summary, profile = time_import(path, args.batch_size, args.profile)
        ceiling = time_sqlite_ceiling(Path(settings.DATABASES["default"]["NAME"]), items, args.batch_size, home)

    rate, ceiling_rate = args.rows / elapsed, args.rows / ceiling
    print(f"closeloop ingest benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.node()}, {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"rows: {args.rows}, batch size: {args.batch_size}, answers: {args.mix}")
    print(summary.rstrip())
    print(f"closeloop ingest:   {elapsed:8.2f} s  {rate:10.0f} rows/s")
    print(f"raw SQLite ceiling: {ceiling:8.2f} s  {ceiling_rate:10.0f} rows/s  (executemany, same schema and batches)")
    print(f"closeloop reaches {rate / ceiling_rate:.1%} of the ceiling")
    if profile:
        print(profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
