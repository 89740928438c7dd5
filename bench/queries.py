"""Reports, the repeat-failure lookup, the response lists and the pages at scale, beside ceilings from
the same run.

    .venv/bin/python bench/queries.py [--responses 1000000] [--engine sqlite|postgres]

Builds a fresh database (SQLite in a temporary CLOSELOOP_HOME; with CLOSELOOP_TEST_POSTGRES set, also a
separate PostgreSQL database `<name>_bench_queries` on that server, dropped afterwards) and fills it in
set-based SQL over the 90 days up to this hour: five units under a root, an admin of the root, a lead and
four agents in each unit (each with the role); one customer per five responses, each response with its
agent, a score and a comment; one response in ten needing recovery (100,000 cases at the default
1,000,000 responses, as in the performance targets) with a recovery alert, the lead's email about it and a case
whose team is the unit's lead (manager) and the agent (member). Cases older than two weeks are mostly
contacted and closed, the rest open past their goal, a third of those escalated to the admin; recent ones
half contacted, a quarter closed. Each contact is a note that spoke to the customer (and makes the agent the
owner), some cases have a note that did not; the responses' `has_notes` / `spoken_to` flags say the same.
Then measures (median of several runs, warm cache):

- the loop report (`reports.queries.loop_summary_for`, what `/reports/` and `/api/v1/reports/summary`
  compute) over 30 and 90 days; ceiling: one GROUP BY over the same responses and one over their cases;
- the repeat-failure lookup of one ingest batch of 500 (`alerts.detection._recent_recovery`), and the same
  query sorted by Alert's default ordering (how it ran before); ceiling: the bare join by customer;
- the response list of the API (`/api/v1/responses?srn=...`, through the test client with a token):
  page 1 and the count; ceiling: a response page (`/api/v1/responses/{id}`);
- the pages (`pages`), p50 and p95 of 20 warm requests each, signed in as the admin (one row as
  a unit's lead) or with a read token: the monitor, `/responses/?srn=r` and `srn=x`, `/reports/` over 30
  days, `/api/v1/responses?srn=x&unit=`, `/api/v1/reports/summary` over 90 days; ceilings: a response page
  and `/api/v1/cases?overdue=true`; each row says whether it meets the goal of 150 ms p95.

Prints a Markdown section for docs/benchmarks.md. bench/simulate.py runs the same fill and pages on
PostgreSQL at 10,000,000 responses.
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
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# What `make bench` fills: the performance targets are set at 1M responses / 100k cases.
DEFAULT_RESPONSES = 1_000_000
# The pages read the clock (what is overdue, today's counters): the data ends at this hour.
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
UNITS = ["EAST", "WEST", "NORTH", "SOUTH", "ONLINE"]
CATEGORIES = ["Waiting time", "Staff", "Product", "Billing"]
COMPLAINTS = ["Waited an hour and nobody came.", "The installer was rude.", "Charged twice.", "It broke again."]
PRAISE = ["Quick and friendly.", "Sorted in one call.", "Great service, thank you."]
# One response in ten needs recovery: 100,000 cases at 1,000,000 responses, as in the performance targets.
RECOVERY_EVERY = 10
MEMBERS = 4  # agents per unit, each answering for a share of its responses
OLD_DAYS = 14  # cases older than this are mostly closed; the rest are the overdue backlog
ADMIN = "admin"
# The tables whose row triggers note changes for the report's tallies (reports migration 0006).
TRIGGERED_TABLES = ["feedback_response", "alerts_alert", "cases_case", "loop_followup"]
FILLED_TABLES = [
    "feedback_customer",
    "feedback_response",
    "alerts_alert",
    "notify_delivery",
    "notify_delivery_alerts",
    "cases_case",
    "cases_case_managers",
    "cases_case_members",
    "cases_caseevent",
    "cases_escalationnotice",
]
# The fill's steps that are not its inserts (the rest is the fill rate).
FILL_AFTER_STEPS = {"people and units", "dropping indexes", "building indexes", "VACUUM ANALYZE", "ANALYZE"}
# The goal for every page and API list (docs/performance.md).
GOAL = 0.150
PAGE_REQUESTS = 20
# Seconds a page's requests may take in all: a slower page is sampled fewer times.
PAGE_BUDGET = 20.0


def lead_key(code: str) -> str:
    return f"lead-{code.lower()}"


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


def bench_database_url(url: str, suffix: str = "bench_queries") -> str:
    """A database of the benchmark's own on the server of `url`, named after the database `url` names."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "postgres"
    return urlunsplit(parts._replace(path=f"/{name}_{suffix}"))


def _admin(url: str, statement: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
        admin.execute(statement)


def fill(responses: int) -> dict[str, float]:
    """Organisation, people, customers, responses, alerts, messages, cases with their teams, events and
    escalations in set-based SQL; returns the seconds of each step.

    Every row is a function of its response's number n, which is also its id (and its case's and recovery
    alert's id): so the responses' note flags are written with them, not by an UPDATE after the notes.
    On PostgreSQL the filled tables' indexes and constraints (but their primary keys) are dropped for the
    inserts and built again afterwards, then VACUUM ANALYZE, as a restore does.
    """
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from closeloop.feedback.models import Question, Survey
    from closeloop.org.models import Organization, Person, Role, Unit

    steps: dict[str, float] = {}
    started = time.perf_counter()
    Organization.objects.create(pk=1, name="Bench", time_zone="UTC")
    root = Unit.objects.create(code="ROOT", name="Root", path="/ROOT/")
    users = get_user_model()
    admin = Person.objects.create(key=ADMIN, name="Ada Admin", email="admin@example.com", login=True)
    admin.user = users.objects.create_user(username=ADMIN, email=admin.email)
    admin.save(update_fields=["user"])
    Role.objects.create(person=admin, unit=root, role=Role.Kind.ADMIN)
    units: list[tuple[int, str]] = []
    leads: list[Person] = []
    agents: list[Person] = []  # unit i's agent j is agents[i * MEMBERS + j]
    for code in UNITS:
        unit = Unit.objects.create(code=code, name=code.title(), parent=root, path=f"/ROOT/{code}/", depth=1)
        key = lead_key(code)
        lead = Person.objects.create(key=key, name=f"Lead {code.title()}", email=f"{key}@example.com", login=True)
        lead.user = users.objects.create_user(username=key, email=lead.email)
        lead.save(update_fields=["user"])
        Role.objects.create(person=lead, unit=unit, role=Role.Kind.LEAD)
        for j in range(MEMBERS):
            key = f"agent-{code.lower()}-{j + 1}"
            agent = Person.objects.create(key=key, name=f"Agent {code.title()} {j + 1}", email=f"{key}@example.com")
            Role.objects.create(person=agent, unit=unit, role=Role.Kind.MEMBER)
            agents.append(agent)
        units.append((unit.pk, code))
        leads.append(lead)
    survey = Survey.objects.create(key="visit", name="Visit", overall="overall")
    Question.objects.create(survey=survey, key="overall", type=Question.Type.SCALE, label="Overall", min=0, max=10)
    Question.objects.create(survey=survey, key="comment", type=Question.Type.TEXT, label="Comment", position=1)

    postgres = connection.vendor == "postgresql"
    if postgres:
        # bigint: n times the 90 days' seconds passes 2^31 from about 300 responses on.
        series = f"SELECT generate_series(1::bigint, {responses}) AS n"
        true, false = "true", "false"
    else:
        series = (
            f"WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {responses})"
            " SELECT n FROM seq"
        )
        true, false = "1", "0"
    # Literals instead of parameters: no parameters means no %-escaping of the SQL below.
    stamp = f"'{NOW:%Y-%m-%d %H:%M:%S}+00'::timestamptz" if postgres else f"'{NOW:%Y-%m-%d %H:%M:%S}'"
    span = 90 * 86400
    customers = max(responses // 5, 1)
    # Responses from this one on were submitted in the last OLD_DAYS days: their cases may still be open.
    recent_from = responses - OLD_DAYS * 86400 * responses // span

    def json(text: str) -> str:
        return f"CAST({text} AS jsonb)" if postgres else text

    def at(seconds_ago: str, later: str = "0") -> str:
        """NOW minus `seconds_ago` plus `later` seconds, as the column type."""
        if postgres:
            return f"({stamp} + (({later}) - ({seconds_ago})) * interval '1 second')"
        return f"strftime('%Y-%m-%d %H:%M:%S', {stamp}, (({later}) - ({seconds_ago})) || ' seconds')"

    def choose(index: str, values: list[str]) -> str:
        return "CASE " + " ".join(f"WHEN {index} = {i} THEN {v}" for i, v in enumerate(values)) + " END"

    # What response n is: its unit, its agent in the unit, and its case's number m = n / RECOVERY_EVERY. The
    # unit adds m so that the responses needing recovery (every tenth) are spread over the units too.
    def unit_index(n: str) -> str:
        return f"(({n} + {n} / {RECOVERY_EVERY}) % {len(UNITS)})"

    def agent_index(n: str) -> str:
        return f"({unit_index(n)} * {MEMBERS} + ({n} / 7) % {MEMBERS})"

    def ago(n: str) -> str:
        """Seconds from response n's submission to NOW: evenly over 90 days, the newest last."""
        return f"(({responses} - {n}) * {span} / {responses})"

    def m(n: str) -> str:
        return f"({n} / {RECOVERY_EVERY})"

    def needs(n: str) -> str:
        return f"({n} % {RECOVERY_EVERY} = 0)"

    def old(n: str) -> str:
        return f"({n} < {recent_from})"

    def contact_delay(n: str) -> str:
        return f"(({m(n)} % 47 + 1) * 1800)"  # half an hour to a day

    def close_delay(n: str) -> str:
        return f"({contact_delay(n)} + ({m(n)} % 90 + 1) * 3600)"  # then up to four days more

    def contacted(n: str) -> str:
        # Nine in ten of the older cases, half the recent ones; never later than NOW.
        chosen = f"({m(n)} % 2 = 0 OR ({old(n)} AND {m(n)} % 10 <> 1))"
        return f"({chosen} AND {ago(n)} > {contact_delay(n)})"

    def closed(n: str) -> str:
        # All but one in twenty of the older cases (those stay open: overdue), a quarter of the recent ones.
        chosen = f"(({old(n)} AND {m(n)} % 20 <> 1) OR (NOT {old(n)} AND {m(n)} % 4 = 0 AND {contacted(n)}))"
        return f"({chosen} AND {ago(n)} > {close_delay(n)})"

    def no_answer(n: str) -> str:
        """A call that did not reach the customer, ten minutes after the case opened (when it was viewed)."""
        return f"(NOT {contacted(n)} AND ({m(n)} % 5 = 0 OR {closed(n)}) AND {ago(n)} > 600)"

    def escalated(n: str) -> str:
        """Open past its closure goal (three days), one in three: escalated to the admin."""
        return f"(NOT {closed(n)} AND {ago(n)} > 259200 AND {m(n)} % 3 = 0)"

    def flag(condition: str) -> str:
        return f"CASE WHEN {condition} THEN {true} ELSE {false} END"

    def text(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    unit_ids = [str(pk) for pk, _ in units]
    unit_codes = [text(code) for _, code in units]
    lead_ids = [str(p.pk) for p in leads]
    lead_emails = [text(p.email) for p in leads]
    agent_ids = [str(p.pk) for p in agents]
    agent_keys = [text(p.key) for p in agents]
    complaints = [text(c) for c in COMPLAINTS]
    praise = [text(p) for p in PRAISE]
    complaint = choose(f"({m('n')} % {len(COMPLAINTS)})", complaints)
    compliment = choose(f"(n % {len(PRAISE)})", praise)
    comment = f"CASE WHEN {needs('n')} THEN {complaint} ELSE {compliment} END"
    overall = f"CASE WHEN {needs('n')} THEN {m('n')} % 5 ELSE 6 + n % 5 END"
    answers = json(f"'{{\"overall\": ' || ({overall}) || ', \"comment\": \"' || {comment} || '\"}}'")
    noted = flag(f"{needs('n')} AND ({contacted('n')} OR {no_answer('n')})")
    spoken = flag(f"{needs('n')} AND {contacted('n')}")
    closed_data = json(
        '\'{"to": "Closed", "resolution": "\' || c.resolution || \'", "root_cause": "\' || c.root_cause || \'"}\''
    )
    customer = f"(1 + n % {customers})"
    category = choose(f"({m('r.id')} % {len(CATEGORIES)})", [text(c) for c in CATEGORIES])
    case_sla = '{"tier": "default", "severity": "normal", "closure_goal": 259200, "calendar": null, "template": {}}'
    case_team = '{"managers": ["unit_leads"], "members": ["unit_members"]}'
    opened = '{"template": "bench", "severity": "normal", "tier": null}'
    # Each step's SQL; a step of several statements separates them with "; ".
    statements = {
        "customers": "INSERT INTO feedback_customer (id, external_id, name, email, phone, tier, contact_ok, updated_at)"
        f" SELECT n, 'C-' || n, 'Customer ' || n, 'c' || n || '@example.com', '+4420' || (7000000 + n), '', {true},"
        f" {stamp} FROM ({series}) AS s WHERE n <= {customers}",
        "responses": "INSERT INTO feedback_response (id, survey_id, external_id, source, submitted_at, received_at,"
        " valid_since, unit_code, unit_id, segment, agent_code, agent_id, ticket, customer_id, answers, words,"
        " interviewer_notes, interviewer_flag, audio_url, audio_file, audio_type, status, problems, intake_problems,"
        " needs_recovery, overall, customer_name, customer_email, customer_phone, contact_ok, audio_url_allowed,"
        " text_judgement, has_notes, spoken_to)"
        f" SELECT n, {survey.pk}, 'r-' || n, 'bench', {at(ago('n'))}, {at(ago('n'), '5')}, {at(ago('n'), '5')},"
        f" {choose(unit_index('n'), unit_codes)}, {choose(unit_index('n'), unit_ids)}, '',"
        f" {choose(agent_index('n'), agent_keys)}, {choose(agent_index('n'), agent_ids)}, 'T-' || n, {customer},"
        f" {answers}, {comment},"
        f" '', {false}, '', '', '', 'valid', '[]', '[]', {flag(needs('n'))}, {overall},"
        f" 'Customer ' || {customer}, 'c' || {customer} || '@example.com', '+4420' || (7000000 + {customer}),"
        f" {true}, {false}, '{{}}', {noted}, {spoken} FROM ({series}) AS s",
        "alerts": "INSERT INTO alerts_alert"
        " (id, response_id, rule_key, kind, severity, category, unit_id, repeat, mode, created_at)"
        f" SELECT r.id, r.id, 'unhappy', 'recovery', 'normal', {category}, r.unit_id, {false},"
        f" 'immediate', r.received_at FROM feedback_response AS r WHERE r.needs_recovery"
        "; INSERT INTO alerts_alert"
        " (id, response_id, rule_key, kind, severity, category, unit_id, repeat, mode, created_at)"
        f" SELECT {responses} + r.id, r.id, 'praise', 'praise', 'low', 'Staff', r.unit_id, {false},"
        " 'immediate', r.received_at FROM feedback_response AS r WHERE r.id % 7 = 1 AND NOT r.needs_recovery",
        # The lead's email about each recovery alert, sent.
        "messages": "INSERT INTO notify_delivery (id, topic, alert_id, ref, person_id, channel, address, subject, text,"
        " html, payload, idempotency_key, status, priority, attempts, last_error, provider_id, created_at, sent_at)"
        f" SELECT a.id, 'alert', a.id, '', {choose(unit_index('a.id'), lead_ids)}, 'email',"
        f" {choose(unit_index('a.id'), lead_emails)}, 'A customer needs recovery', '', '', '{{}}',"
        f" 'alert:' || a.id || ':lead', 'sent', 2, 1, '', '', a.created_at, a.created_at"
        f" FROM alerts_alert AS a WHERE a.kind = 'recovery'"
        "; INSERT INTO notify_delivery_alerts (delivery_id, alert_id) SELECT id, alert_id FROM notify_delivery",
        "cases": "INSERT INTO cases_case (id, response_id, template_key, unit_id, category, severity, tier, status,"
        " state, opened_at, due_at, owner_id, viewed_at, contacted_at, closed_at, resolution, root_cause,"
        " action_taken, escalation_level, statuses, contacted_statuses, auto_close_on_recovered, team, notify_on,"
        " calendar, sla, escalation_steps, fired_steps)"
        f" SELECT r.id, r.id, 'bench', r.unit_id, {category}, 'normal', '',"
        f" CASE WHEN {closed('r.id')} THEN 'Closed' ELSE 'Open' END,"
        f" CASE WHEN {closed('r.id')} THEN 'closed' ELSE 'open' END,"
        f" r.valid_since, {at(ago('r.id'), '259200')},"
        f" CASE WHEN {contacted('r.id')} THEN r.agent_id END,"
        f" CASE WHEN {contacted('r.id')} OR {no_answer('r.id')} THEN {at(ago('r.id'), '600')} END,"
        f" CASE WHEN {contacted('r.id')} THEN {at(ago('r.id'), contact_delay('r.id'))} END,"
        f" CASE WHEN {closed('r.id')} THEN {at(ago('r.id'), close_delay('r.id'))} END,"
        f" CASE WHEN {closed('r.id')} THEN"
        f" (CASE WHEN {contacted('r.id')} AND {m('r.id')} % 5 <> 4 THEN 'resolved' ELSE 'unresolved' END) END,"
        f" CASE WHEN {closed('r.id')} THEN (CASE WHEN {m('r.id')} % 3 = 0 THEN 'People' ELSE 'Process' END)"
        " ELSE '' END, '',"
        f" CASE WHEN {escalated('r.id')} THEN 1 ELSE 0 END,"
        f" '[\"Open\", \"Closed\"]', '[]', {false}, '{case_team}', '[]', '', '{case_sla}', '[]', '[]'"
        " FROM feedback_response AS r WHERE r.needs_recovery",
        # The team the template's selectors choose: the unit's lead manages, the response's agent works on it.
        "teams": "INSERT INTO cases_case_managers (case_id, person_id)"
        f" SELECT c.id, {choose(unit_index('c.id'), lead_ids)} FROM cases_case AS c"
        "; INSERT INTO cases_case_members (case_id, person_id)"
        " SELECT c.id, r.agent_id FROM cases_case AS c JOIN feedback_response AS r ON r.id = c.response_id",
        "events": "INSERT INTO cases_caseevent (case_id, at, type, actor_name, data, redacted)"
        f" SELECT c.id, c.opened_at, 'opened', '', '{opened}', {false} FROM cases_case AS c"
        "; INSERT INTO cases_caseevent (case_id, at, type, actor_id, actor_name, data, redacted)"
        " SELECT c.id, c.contacted_at, 'note', c.owner_id, 'Agent',"
        f' \'{{"text": "Called: sorry, fixed.", "spoke_to_customer": true}}\', {false}'
        " FROM cases_case AS c WHERE c.contacted_at IS NOT NULL"
        "; INSERT INTO cases_caseevent (case_id, at, type, actor_name, data, redacted)"
        " SELECT c.id, c.viewed_at, 'note', 'Agent', '{\"text\": \"No answer.\", \"spoke_to_customer\": false}',"
        f" {false} FROM cases_case AS c WHERE c.contacted_at IS NULL AND c.viewed_at IS NOT NULL"
        "; INSERT INTO cases_caseevent (case_id, at, type, actor_name, data, redacted)"
        f" SELECT c.id, c.closed_at, 'closed', 'Lead', {closed_data}, {false}"
        " FROM cases_case AS c WHERE c.closed_at IS NOT NULL",
        "escalations": 'INSERT INTO cases_escalationnotice (case_id, person_id, step, "when", level, at)'
        f" SELECT c.id, {admin.pk}, 0, 'overdue', 1, c.due_at FROM cases_case AS c WHERE c.escalation_level = 1",
    }
    steps["people and units"] = time.perf_counter() - started
    tables = FILLED_TABLES if postgres else []
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        rebuild = drop_indexes(cursor, tables)
        if postgres:
            # As a restore does: no row triggers (the report's change notes) while filling; every hour is
            # noted once afterwards, as the migration that made the triggers does.
            for table in TRIGGERED_TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            steps["dropping indexes"] = time.perf_counter() - started
        for name, sql in statements.items():
            started = time.perf_counter()
            for statement in sql.split("; "):
                cursor.execute(statement)
            steps[name] = time.perf_counter() - started
        if postgres:
            started = time.perf_counter()
            # The explicit ids above went past the sequences: the pages' own writes (views, audit) take the next.
            for table in FILLED_TABLES:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                    f" WHERE pg_get_serial_sequence('{table}', 'id') IS NOT NULL AND EXISTS (SELECT 1 FROM {table})"
                )
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for statement in rebuild:
                cursor.execute(statement)
            for table in TRIGGERED_TABLES:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            cursor.execute("DELETE FROM reports_tallychange")
            cursor.execute(
                "INSERT INTO reports_tallychange (hour) SELECT DISTINCT tally_hour(submitted_at) FROM feedback_response"
            )
            steps["building indexes"] = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if postgres else "ANALYZE")
    steps["VACUUM ANALYZE" if postgres else "ANALYZE"] = time.perf_counter() - started
    # What the worker's `tallies` step does after an import: every day's report tallies, built.
    from closeloop.reports.tallies import build_next_days

    started = time.perf_counter()
    while build_next_days(NOW):
        pass
    steps["report tallies"] = time.perf_counter() - started
    return steps


def drop_indexes(cursor: Any, tables: list[str]) -> list[str]:
    """Drop the indexes and the unique and foreign-key constraints of `tables` (PostgreSQL; not the primary
    keys, which the fill's joins use); returns the statements that make them again, in a workable order."""
    if not tables:
        return []
    names = ", ".join(f"'{table}'" for table in tables)
    cursor.execute(
        "SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid)"
        f" FROM pg_constraint AS c WHERE c.conrelid::regclass::text IN ({names}) AND c.contype IN ('u', 'f')"
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes AS i"
        f" WHERE i.schemaname = 'public' AND i.tablename IN ({names})"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conname = i.indexname)"
    )
    indexes = cursor.fetchall()
    for table, name, _kind, _ in sorted(constraints, key=lambda row: row[2] != "f"):  # foreign keys first
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for _, name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    unique = [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, kind, d in constraints if kind == "u"]
    foreign = [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, kind, d in constraints if kind == "f"]
    return unique + [definition for _, _, definition in indexes] + foreign


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


def percentile(samples: list[float], fraction: float) -> float:
    """The `fraction` quantile of `samples`, between the two nearest (never beyond the slowest)."""
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def sampled(fn: Callable[[], object], budget: float) -> list[float]:
    """Seconds of PAGE_REQUESTS runs after one warm-up, fewer once `budget` seconds are spent (the warm-up
    counts); a page slower than the budget is timed once, its warm-up being that one run."""
    started = time.perf_counter()
    fn()
    spent = time.perf_counter() - started
    if spent >= budget:
        return [spent]
    samples: list[float] = []
    while len(samples) < PAGE_REQUESTS and (not samples or spent < budget):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
        spent += samples[-1]
    return samples


def pages(responses: int, budget: float = PAGE_BUDGET) -> list[str]:
    """The pages and API lists of the performance targets, p50 and p95 of warm requests through Django's test
    client: as the root's admin (sees everything), one row as a unit's lead (sees that unit), the API with a
    read token."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from closeloop.api.models import ApiToken, hash_token
    from closeloop.cases.models import Case
    from closeloop.feedback.models import Response

    users = get_user_model()
    admin = Client()
    admin.force_login(users.objects.get(username=ADMIN))
    lead = Client()
    lead.force_login(users.objects.get(username=lead_key(UNITS[0])))
    secret = ApiToken.generate()
    ApiToken.objects.create(name="pages", token_hash=hash_token(secret), hint=secret[:8], scopes=["read"])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    # The newest response with a case: the fullest response page (customer, alert, message, case, timeline).
    one = Response.objects.filter(needs_recovery=True).order_by("-submitted_at").values_list("id", flat=True)[0]
    today = NOW.date()
    days30 = f"date_from={today - timedelta(days=29)}&date_to={today}"
    days90 = f"from={today - timedelta(days=89)}&to={today}"
    rows: list[tuple[str, str, Client, str, bool]] = [
        ("monitor", "admin", admin, "/", False),
        ("monitor, all cases", "admin", admin, "/?scope=all", False),
        ("monitor", f"lead of {UNITS[0]}", lead, "/", False),
        ("responses needing recovery", "admin", admin, "/responses/?srn=r", False),
        ("responses needing recovery, no note yet", "admin", admin, "/responses/?srn=x", False),
        ("responses needing recovery, no note yet", f"lead of {UNITS[0]}", lead, "/responses/?srn=x", False),
        ("reports, 30 days", "admin", admin, f"/reports/?{days30}", False),
        ("API responses, no note yet, one unit", "read token", api, f"/api/v1/responses?srn=x&unit={UNITS[1]}", False),
        ("API loop summary, 90 days", "read token", api, f"/api/v1/reports/summary?{days90}", False),
        ("ceiling: a response page", "admin", admin, f"/responses/{one}", True),
        ("ceiling: API overdue cases", "read token", api, "/api/v1/cases?overdue=true", True),
    ]
    open_cases = Case.objects.filter(state=Case.State.OPEN).count()
    lines = [
        f"#### Pages at {responses:,} responses / {Case.objects.count():,} cases ({open_cases:,} open), p95",
        "",
        f"Warm requests one after another through Django's test client (no HTTP server): {PAGE_REQUESTS} each"
        f" after one warm-up, fewer once a page's requests took {budget:.0f} s (a page slower than that is timed"
        f" once). The goal: every page and API list under {GOAL * 1000:.0f} ms p95.",
        "",
        "| page | as | address | p50 | p95 | requests | < 150 ms p95 |",
        "|---|---|---|---|---|---|---|",
    ]
    # Last, as the day goes: one case of today contacted, so that today's tallies are counted from its cases
    # until the worker builds it again (within a second of the change, with a worker running).
    rows.append(("reports, 30 days, today changed", "admin", admin, f"/reports/?{days30}", False))
    for name, viewer, client, url, _ceiling in rows:
        if name.endswith("today changed"):
            latest = Case.objects.filter(contacted_at__isnull=True).order_by("-opened_at").values("id")[:1]
            Case.objects.filter(id__in=latest).update(contacted_at=NOW)

        def call(client: Client = client, url: str = url) -> None:
            answer = client.get(url)
            assert answer.status_code == 200, (url, answer.status_code, answer.content[:300])

        samples = sampled(call, budget)
        p95 = percentile(samples, 0.95)
        verdict = "met" if p95 < GOAL else "**NOT met**"
        lines.append(
            f"| {name} | {viewer} | `{url}` | {ms(statistics.median(samples))} | {ms(p95)} | {len(samples)}"
            f" | {verdict} |"
        )
    lines.append("")
    return lines


def run(engine: str, responses: int) -> str:
    began = time.perf_counter()
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
        from closeloop.reports.tallies import count_tallies, summary_of

        steps = fill(responses)
        fill_seconds = sum(steps.values())
        cases = Case.objects.count()
        alerts = Alert.objects.count()
        lines = [
            f"### {engine_name(connection)}",
            "",
            f"{responses:,} responses over 90 days, {alerts:,} alerts, {cases:,} cases"
            f" (filled in {fill_seconds:.1f} s: "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps.items())
            + ").",
            "",
            "| what | closeloop | ceiling, same run | ceiling is |",
            "|---|---|---|---|",
        ]
        today = NOW.date()
        for days in (30, 90):
            start = today - timedelta(days=days - 1)

            def report(start: object = start) -> None:
                loop_summary_for(start, today, now=NOW)  # type: ignore[arg-type]

            def counted(start: object = start) -> None:
                summary_of(count_tallies(selected_responses(start, today)).items(), NOW)  # type: ignore[arg-type]

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
                f"| loop report, {days} days, from the stored day tallies | {ms(timed(report, 3))}"
                f" | {ms(timed(bare, 3))} | one GROUP BY over the responses and one over their cases |"
            )
            lines.append(
                f"| loop report, {days} days, counted from the cases (no day built) | {ms(timed(counted, 3))} | | |"
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
        lines += pages(responses)
        lines += [f"Filling and measuring at {responses:,} responses took {time.perf_counter() - began:,.0f} s.", ""]
    return "\n".join(lines)


def engine_name(connection: object) -> str:
    if getattr(connection, "vendor", "") == "postgresql":
        version = connection.cursor().connection.info.server_version  # type: ignore[attr-defined]
        return f"PostgreSQL {version // 10000}.{version % 100}"
    return "SQLite " + __import__("sqlite3").sqlite_version


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=DEFAULT_RESPONSES)
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
