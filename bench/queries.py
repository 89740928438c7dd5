"""Reports, the repeat-failure lookup and the response lists at scale, each beside a ceiling from the same run.

    .venv/bin/python bench/queries.py [--responses 100000] [--engine sqlite|postgres]

Builds a fresh database (SQLite in a temporary CLOSELOOP_HOME; with CLOSELOOP_TEST_POSTGRES set, also a
separate PostgreSQL database `<name>_bench_queries` on that server, dropped afterwards) and fills it in
set-based SQL over 90 days: five units, one customer per five responses, a third of the responses
needing recovery with a recovery alert and a case each, half of those cases contacted (a note that spoke
to the customer), a quarter closed, some with a note that did not speak to the customer. Then measures
(median of several runs, warm cache):

- the loop report (`reports.queries.loop_summary_for`, what `/reports/` and `/api/v1/reports/summary`
  compute) over 30 and 90 days; ceiling: one GROUP BY over the same responses and one over their cases;
- the repeat-failure lookup of one ingest batch of 500 (`alerts.detection._recent_recovery`), and the same
  query sorted by Alert's default ordering (how it ran before); ceiling: the bare join by customer;
- the response list of the API (`/api/v1/responses?srn=...`, through the test client with a token):
  page 1 and the count; ceiling: a response page (`/api/v1/responses/{id}`).

Prints a Markdown section for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
UNITS = ["EAST", "WEST", "NORTH", "SOUTH", "ONLINE"]
CATEGORIES = ["Waiting time", "Staff", "Product", "Billing"]


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
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "postgres"
    return urlunsplit(parts._replace(path=f"/{name}_bench_queries"))


def _admin(url: str, statement: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
        admin.execute(statement)


def fill(responses: int) -> float:
    """Organisation, units, customers, responses, alerts, cases and notes in set-based SQL; returns seconds."""
    from django.db import connection, transaction
    from django.db.models import Exists, OuterRef

    from closeloop.cases.models import CaseEvent
    from closeloop.feedback.models import Response, Survey
    from closeloop.org.models import Organization, Person, Role, Unit

    started = time.perf_counter()
    Organization.objects.create(pk=1, name="Bench", time_zone="UTC")
    root = Unit.objects.create(code="ROOT", name="Root", path="/ROOT/")
    unit_ids = []
    for code in UNITS:
        unit = Unit.objects.create(code=code, name=code.title(), parent=root, path=f"/ROOT/{code}/", depth=1)
        lead = Person.objects.create(key=f"lead-{code.lower()}", name=f"Lead {code}", email=f"{code}@example.com")
        Role.objects.create(person=lead, unit=unit, role=Role.Kind.LEAD)
        unit_ids.append(unit.pk)
    survey = Survey.objects.create(key="visit", name="Visit")
    postgres = connection.vendor == "postgresql"
    if postgres:
        series = f"SELECT generate_series(1, {responses}) AS n"
        true, false = "true", "false"
    else:
        series = (
            f"WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {responses})"
            " SELECT n FROM seq"
        )
        true, false = "1", "0"
    # Literals instead of parameters: no parameters means no %-escaping of the SQL below.
    stamp = "'2026-11-23 15:00:00+00'::timestamptz" if postgres else "'2026-11-23 15:00:00'"
    span = 90 * 86400
    customers = max(responses // 5, 1)

    def shifted(seconds: str) -> str:
        if postgres:
            return f"({stamp} + ({seconds}) * interval '1 second')"
        return f"strftime('%Y-%m-%d %H:%M:%S', {stamp}, ({seconds}) || ' seconds')"

    def unit_of(n: str) -> str:
        return "CASE " + " ".join(f"WHEN {n} % 5 = {i} THEN {pk}" for i, pk in enumerate(unit_ids)) + " END"

    def category_of(n: str) -> str:
        return "CASE " + " ".join(f"WHEN {n} % 4 = {i} THEN '{c}'" for i, c in enumerate(CATEGORIES)) + " END"

    def ago(n: str) -> str:
        """Seconds from NOW to the submission of response n: spread evenly over 90 days."""
        return f"-(({n} * {span // responses}) % {span})"

    statements = [
        "INSERT INTO feedback_customer (external_id, name, email, phone, tier, contact_ok, updated_at)"
        f" SELECT 'C-' || n, 'Customer ' || n, '', '', '', {true}, {stamp} FROM ({series}) AS s WHERE n <= {customers}",
        "INSERT INTO feedback_response (survey_id, external_id, source, submitted_at, received_at, valid_since,"
        " unit_code, unit_id, segment, agent_code, ticket, customer_id, answers, words, interviewer_notes,"
        " interviewer_flag, audio_url, audio_file, audio_type, status, problems, intake_problems, needs_recovery,"
        " customer_name, customer_email, customer_phone, contact_ok, audio_url_allowed, text_judgement)"
        f" SELECT {survey.pk}, 'r-' || n, 'bench', {shifted(ago('n'))}, {shifted(ago('n'))}, {shifted(ago('n'))},"
        f" '', {unit_of('n')}, '', '', 'T-' || n,"
        f" (SELECT id FROM feedback_customer WHERE external_id = 'C-' || (1 + n % {customers})),"
        f" '{{\"overall\": 3}}', '', '', {false}, '', '', '', 'valid', '[]', '[]',"
        f" CASE WHEN n % 3 = 0 THEN {true} ELSE {false} END,"
        f" 'Customer ' || (1 + n % {customers}), '', '', {true}, {false}, '{{}}' FROM ({series}) AS s",
        "UPDATE feedback_response SET unit_code = (SELECT code FROM org_unit WHERE org_unit.id = unit_id)",
        "INSERT INTO alerts_alert (response_id, rule_key, kind, severity, category, unit_id, repeat, mode, created_at)"
        f" SELECT r.id, 'unhappy', 'recovery', 'normal', {category_of('r.id')}, r.unit_id, {false}, 'immediate',"
        " r.submitted_at FROM feedback_response AS r WHERE r.needs_recovery",
        "INSERT INTO alerts_alert (response_id, rule_key, kind, severity, category, unit_id, repeat, mode, created_at)"
        f" SELECT r.id, 'praise', 'praise', 'low', 'Staff', r.unit_id, {false}, 'immediate', r.submitted_at"
        " FROM feedback_response AS r WHERE r.id % 7 = 1",
        "INSERT INTO cases_case (response_id, template_key, unit_id, category, severity, tier, status, state,"
        " opened_at, due_at, contacted_at, closed_at, resolution, root_cause, action_taken, escalation_level,"
        " statuses, contacted_statuses, auto_close_on_recovered, team, notify_on, calendar, sla,"
        " escalation_steps, fired_steps)"
        f" SELECT r.id, 'bench', r.unit_id, {category_of('r.id')}, 'normal', '',"
        " CASE WHEN r.id % 4 = 0 THEN 'Closed' ELSE 'Open' END, CASE WHEN r.id % 4 = 0 THEN 'closed' ELSE 'open' END,"
        f" r.submitted_at, {shifted(ago('r.id') + ' + 259200')},"
        f" CASE WHEN r.id % 2 = 0 THEN {shifted(ago('r.id') + ' + (r.id % 50) * 3600')} END,"
        f" CASE WHEN r.id % 4 = 0 THEN {shifted(ago('r.id') + ' + (r.id % 90) * 3600')} END,"
        " CASE WHEN r.id % 4 = 0 THEN (CASE WHEN r.id % 8 = 0 THEN 'resolved' ELSE 'unresolved' END) END,"
        " CASE WHEN r.id % 12 = 0 THEN 'Training' ELSE '' END, '', 0,"
        f" '[\"Open\", \"Closed\"]', '[]', {false}, '{{}}', '[]', '', '{{}}', '[]', '[]'"
        " FROM feedback_response AS r WHERE r.needs_recovery",
        "INSERT INTO cases_caseevent (case_id, at, type, actor_name, data, redacted)"
        " SELECT c.id, c.contacted_at, 'note', 'Lead', '{\"text\": \"Called.\", \"spoke_to_customer\": true}',"
        f" {false} FROM cases_case AS c WHERE c.contacted_at IS NOT NULL",
        "INSERT INTO cases_caseevent (case_id, at, type, actor_name, data, redacted)"
        " SELECT c.id, c.opened_at, 'note', 'Lead', '{\"text\": \"No answer.\", \"spoke_to_customer\": false}',"
        f" {false} FROM cases_case AS c WHERE c.contacted_at IS NULL AND c.id % 5 = 0",
        "INSERT INTO cases_caseevent (case_id, at, type, actor_name, data, redacted)"
        f" SELECT c.id, c.closed_at, 'closed', 'Lead', '{{\"to\": \"Closed\"}}', {false}"
        " FROM cases_case AS c WHERE c.closed_at IS NOT NULL",
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        # The notes above went in without the case services, which keep the responses' `srn` flags: set
        # them as the migration that added them did.
        notes = CaseEvent.objects.filter(case__response=OuterRef("pk"), type=CaseEvent.Type.NOTE)
        spoken = notes.filter(data__spoke_to_customer=True)
        Response.objects.filter(Exists(notes)).update(has_notes=True, spoken_to=Exists(spoken))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds of `repeat` runs, after one warm-up run."""
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def run(engine: str, responses: int) -> str:
    with tempfile.TemporaryDirectory(prefix="closeloop-bench-queries-") as home:
        setup_django(engine, Path(home))
        from django.db import connection
        from django.test import Client

        from closeloop.alerts import detection
        from closeloop.alerts.models import Alert
        from closeloop.api.models import ApiToken, hash_token
        from closeloop.cases.models import Case
        from closeloop.feedback.models import Response
        from closeloop.reports.queries import hours_between_statuses_for, loop_summary_for, selected_responses

        fill_seconds = fill(responses)
        cases = Case.objects.count()
        alerts = Alert.objects.count()
        lines = [
            f"### {engine_name(connection)}",
            "",
            f"{responses:,} responses over 90 days, {alerts:,} alerts, {cases:,} cases"
            f" (filled in {fill_seconds:.1f} s).",
            "",
            "| what | closeloop | ceiling, same run | ceiling is |",
            "|---|---|---|---|",
        ]
        today = NOW.date()
        for days in (30, 90):
            start = today - timedelta(days=days - 1)

            def report(start: object = start) -> None:
                loop_summary_for(start, today, now=NOW)  # type: ignore[arg-type]

            def bare(start: object = start) -> None:
                selected = selected_responses(start, today)  # type: ignore[arg-type]
                sql, params = selected.order_by().values("id").query.sql_with_params()
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT unit_id, COUNT(*), SUM(CASE WHEN needs_recovery THEN 1 ELSE 0 END)"
                        f" FROM feedback_response WHERE id IN ({sql}) GROUP BY unit_id",
                        params,
                    )
                    cursor.fetchall()
                    cursor.execute(
                        "SELECT unit_id, COUNT(*), COUNT(contacted_at), COUNT(closed_at)"
                        f" FROM cases_case WHERE response_id IN ({sql}) GROUP BY unit_id",
                        params,
                    )
                    cursor.fetchall()

            lines.append(
                f"| loop report, {days} days | {ms(timed(report, 3))} | {ms(timed(bare, 3))} |"
                " one GROUP BY over the responses and one over their cases |"
            )
        start90 = today - timedelta(days=89)
        durations = timed(lambda: hours_between_statuses_for(start90, today, "Open", "Closed"), 3)
        lines.append(f"| hours from Open to Closed, 90 days | {ms(durations)} | | |")

        # One ingest batch of 500 responses of known customers, each looking for earlier recovery alerts.
        batch = list(Response.objects.filter(customer__isnull=False).order_by("-submitted_at")[:500])
        window = timedelta(days=90)
        earliest = min(r.submitted_at for r in batch) - window
        customers = {r.customer_id for r in batch}
        sorted_lookup = (
            Alert.objects.filter(
                kind="recovery", response__customer_id__in=customers, response__submitted_at__gte=earliest
            )
            .order_by("-created_at", "-id")
            .values_list("response__customer_id", "response__submitted_at", "response_id")
        )
        lookup = timed(lambda: detection._recent_recovery(batch, window, set()), 5)
        before = timed(lambda: list(sorted_lookup.all()), 3)
        sql, params = sorted_lookup.order_by().query.sql_with_params()

        def bare_lookup() -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                cursor.fetchall()

        lines.append(
            f"| repeat-failure lookup, batch of 500 | {ms(lookup)} (sorted by Alert's default ordering:"
            f" {ms(before)}) | {ms(timed(bare_lookup, 5))} | the same join without Django |"
        )

        token = ApiToken.generate()
        ApiToken.objects.create(name="bench", token_hash=hash_token(token), hint=token[:8], scopes=["read"])
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        one = Response.objects.order_by("-submitted_at").values_list("id", flat=True).first()

        def get(url: str) -> Callable[[], None]:
            def call() -> None:
                answer = client.get(url)
                assert answer.status_code == 200, (url, answer.status_code, answer.content[:300])

            return call

        page = timed(get(f"/api/v1/responses/{one}"), 5)
        for srn in ("y", "r", "x", "w", "v", "s"):
            lines.append(
                f"| `GET /api/v1/responses?srn={srn}` | {ms(timed(get(f'/api/v1/responses?srn={srn}'), 5))}"
                f" | {ms(page)} | a response page |"
            )
        lines.append(
            f"| `GET /api/v1/responses?srn=x&unit=EAST` | {ms(timed(get('/api/v1/responses?srn=x&unit=EAST'), 5))}"
            f" | {ms(page)} | a response page |"
        )
        lines.append("")
    return "\n".join(lines)


def engine_name(connection: object) -> str:
    if getattr(connection, "vendor", "") == "postgresql":
        version = connection.cursor().connection.info.server_version  # type: ignore[attr-defined]
        return f"PostgreSQL {version // 10000}.{version % 100}"
    return "SQLite " + __import__("sqlite3").sqlite_version


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--engine", choices=["sqlite", "postgres"], help="one engine only (default: all available)")
    args = parser.parse_args(argv)
    if args.engine:
        if args.engine == "postgres":
            os.environ["DATABASE_URL"] = os.environ["CLOSELOOP_BENCH_DATABASE_URL"]
        print(run(args.engine, args.responses))
        return 0
    print("## Reports, repeat failures and lists at scale")
    print()
    print("Medians of warm runs (`bench/queries.py`); each row's ceiling is measured in the same run.")
    print()
    engines = ["sqlite"]
    server = os.environ.get("CLOSELOOP_TEST_POSTGRES")
    if server:
        engines.append("postgres")
    for engine in engines:
        env = dict(os.environ)
        if engine == "postgres":
            url = bench_database_url(server)  # type: ignore[arg-type]
            name = urlsplit(url).path.lstrip("/")
            _admin(url, f'DROP DATABASE IF EXISTS "{name}"')
            _admin(url, f'CREATE DATABASE "{name}"')
            env["CLOSELOOP_BENCH_DATABASE_URL"] = url
        try:
            command = [sys.executable, __file__, "--engine", engine, "--responses", str(args.responses)]
            subprocess.run(command, env=env, check=True)
        finally:
            if engine == "postgres":
                _admin(url, f'DROP DATABASE IF EXISTS "{name}"')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
