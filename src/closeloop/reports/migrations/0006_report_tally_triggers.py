"""Database triggers that note, in reports_tallychange, the hour of every response whose loop-report figures
change: the response itself, its alerts, its cases, their follow-ups, and a follow-up survey's answer for
the customer's closed cases. Triggers rather than calls in the services, so that no write path (bulk
updates, the admin, raw SQL, a future service) can leave a built day's tallies wrong.

Each change inserts a row (never an upsert), so concurrent writers never wait on one another here. Every
existing response's hour is noted once, so the worker builds the days of the data already there.
"""

from django.db import migrations

CHANGES = "reports_tallychange"
RESPONSE_COLUMNS = ("status", "superseded_by_id", "needs_recovery", "unit_id", "submitted_at")
# What decides a follow-up survey's answer for the customer's cases (reports.queries._follow_up_answers).
FOLLOW_UP_COLUMNS = ("superseded_by_id", "customer_id", "submitted_at", "answers", "survey_id")
ALERT_COLUMNS = ("response_id", "kind", "category")
CASE_COLUMNS = (
    "response_id",
    "unit_id",
    "owner_id",
    "opened_at",
    "due_at",
    "contacted_at",
    "closed_at",
    "resolution",
    "root_cause",
)
FOLLOW_UP_ROW_COLUMNS = ("case_id", "sent_at", "answer")


def _changed(columns, different):
    return " OR ".join(f"OLD.{column} {different} NEW.{column}" for column in columns)


# --- SQLite: one trigger per table and event; the hour is the UTC hour since the epoch.


def _sqlite_hour(column):
    return f"(CAST(strftime('%s', {column}) AS INTEGER) / 3600)"


def _sqlite_is_follow_up(survey):
    return (
        f"EXISTS (SELECT 1 FROM feedback_survey AS s JOIN org_organization AS o ON o.follow_up_survey = s.key"
        f" WHERE s.id = {survey} AND o.follow_up_survey <> '')"
    )


def _sqlite_mark_response(response):
    return f"INSERT INTO {CHANGES} (hour) SELECT {_sqlite_hour('r.submitted_at')} FROM feedback_response AS r WHERE r.id = {response};"


def _sqlite_mark_customer(customer):
    return (
        f"INSERT INTO {CHANGES} (hour) SELECT DISTINCT {_sqlite_hour('r.submitted_at')}"
        " FROM cases_case AS c JOIN feedback_response AS r ON r.id = c.response_id"
        f" WHERE {customer} IS NOT NULL AND r.customer_id = {customer} AND c.closed_at IS NOT NULL;"
    )


def _sqlite_trigger(name, event, table, body, when=None):
    condition = f" WHEN {when}" if when else ""
    return f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{condition} BEGIN {body} END;"


def _sqlite_case_hours(case):
    return (
        f"INSERT INTO {CHANGES} (hour) SELECT {_sqlite_hour('r.submitted_at')}"
        f" FROM cases_case AS c JOIN feedback_response AS r ON r.id = c.response_id WHERE c.id = {case};"
    )


def _sqlite_on_row(prefix, table, mark, column, columns):
    """The insert, update and delete triggers of `table` that `mark` the row's `column`: NEW's on insert,
    OLD's on delete, both when one of `columns` changed."""
    return {
        f"{prefix}_insert": _sqlite_trigger(f"{prefix}_insert", "INSERT", table, mark(f"NEW.{column}")),
        f"{prefix}_update": _sqlite_trigger(
            f"{prefix}_update",
            "UPDATE",
            table,
            mark(f"OLD.{column}") + " " + mark(f"NEW.{column}"),
            _changed(columns, "IS NOT"),
        ),
        f"{prefix}_delete": _sqlite_trigger(f"{prefix}_delete", "DELETE", table, mark(f"OLD.{column}")),
    }


SQLITE_TRIGGERS = {
    "tally_response_insert": _sqlite_trigger(
        "tally_response_insert",
        "INSERT",
        "feedback_response",
        f"INSERT INTO {CHANGES} (hour) VALUES ({_sqlite_hour('NEW.submitted_at')});",
    ),
    "tally_response_update": _sqlite_trigger(
        "tally_response_update",
        "UPDATE",
        "feedback_response",
        f"INSERT INTO {CHANGES} (hour) VALUES ({_sqlite_hour('OLD.submitted_at')});"
        f" INSERT INTO {CHANGES} (hour) VALUES ({_sqlite_hour('NEW.submitted_at')});",
        _changed(RESPONSE_COLUMNS, "IS NOT"),
    ),
    "tally_response_delete": _sqlite_trigger(
        "tally_response_delete",
        "DELETE",
        "feedback_response",
        f"INSERT INTO {CHANGES} (hour) VALUES ({_sqlite_hour('OLD.submitted_at')});",
    ),
    "tally_follow_up_insert": _sqlite_trigger(
        "tally_follow_up_insert",
        "INSERT",
        "feedback_response",
        _sqlite_mark_customer("NEW.customer_id"),
        f"NEW.customer_id IS NOT NULL AND {_sqlite_is_follow_up('NEW.survey_id')}",
    ),
    "tally_follow_up_update": _sqlite_trigger(
        "tally_follow_up_update",
        "UPDATE",
        "feedback_response",
        _sqlite_mark_customer("OLD.customer_id") + " " + _sqlite_mark_customer("NEW.customer_id"),
        f"({_changed(FOLLOW_UP_COLUMNS, 'IS NOT')})"
        f" AND ({_sqlite_is_follow_up('OLD.survey_id')} OR {_sqlite_is_follow_up('NEW.survey_id')})",
    ),
    "tally_follow_up_delete": _sqlite_trigger(
        "tally_follow_up_delete",
        "DELETE",
        "feedback_response",
        _sqlite_mark_customer("OLD.customer_id"),
        f"OLD.customer_id IS NOT NULL AND {_sqlite_is_follow_up('OLD.survey_id')}",
    ),
    **_sqlite_on_row("tally_alert", "alerts_alert", _sqlite_mark_response, "response_id", ALERT_COLUMNS),
    **_sqlite_on_row("tally_case", "cases_case", _sqlite_mark_response, "response_id", CASE_COLUMNS),
    **_sqlite_on_row("tally_followup_row", "loop_followup", _sqlite_case_hours, "case_id", FOLLOW_UP_ROW_COLUMNS),
}
SQLITE_FORWARD = list(SQLITE_TRIGGERS.values())
SQLITE_BACKWARD = [f"DROP TRIGGER IF EXISTS {name};" for name in SQLITE_TRIGGERS]
SQLITE_EXISTING = (
    f"INSERT INTO {CHANGES} (hour) SELECT DISTINCT {_sqlite_hour('submitted_at')} FROM feedback_response;"
)

# --- PostgreSQL: one function per table, deciding by TG_OP and what changed.

POSTGRES_HELPERS = [
    """CREATE OR REPLACE FUNCTION tally_hour(at timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
        SELECT floor(extract(epoch FROM at) / 3600)::bigint
    $$;""",
    f"""CREATE OR REPLACE FUNCTION tally_mark_response(response bigint) RETURNS void LANGUAGE sql AS $$
        INSERT INTO {CHANGES} (hour) SELECT tally_hour(r.submitted_at) FROM feedback_response AS r
        WHERE r.id = response
    $$;""",
    f"""CREATE OR REPLACE FUNCTION tally_mark_customer(customer bigint, survey bigint) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        IF customer IS NULL OR NOT EXISTS (
            SELECT 1 FROM feedback_survey AS s JOIN org_organization AS o ON o.follow_up_survey = s.key
            WHERE s.id = survey AND o.follow_up_survey <> ''
        ) THEN
            RETURN;
        END IF;
        INSERT INTO {CHANGES} (hour) SELECT DISTINCT tally_hour(r.submitted_at)
        FROM cases_case AS c JOIN feedback_response AS r ON r.id = c.response_id
        WHERE r.customer_id = customer AND c.closed_at IS NOT NULL;
    END $$;""",
]


def _postgres_function(table, body):
    return f"""CREATE OR REPLACE FUNCTION tally_{table}_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {body}
        RETURN NULL;
    END $$;"""


def _postgres_on_row(mark, columns):
    """`mark(row)` for NEW on insert, OLD on delete, both when one of `columns` changed."""
    return f"""IF TG_OP = 'INSERT' THEN
            {mark("NEW")}
        ELSIF TG_OP = 'DELETE' THEN
            {mark("OLD")}
        ELSIF {_changed(columns, "IS DISTINCT FROM")} THEN
            {mark("OLD")}
            {mark("NEW")}
        END IF;"""


def _postgres_response_body():
    hour = f"INSERT INTO {CHANGES} (hour) VALUES (tally_hour({{row}}.submitted_at));"
    customer = "PERFORM tally_mark_customer({row}.customer_id, {row}.survey_id);"
    return (
        _postgres_on_row(lambda row: hour.format(row=row), RESPONSE_COLUMNS)
        + "\n        "
        + _postgres_on_row(lambda row: customer.format(row=row), FOLLOW_UP_COLUMNS)
    )


POSTGRES_TABLES = {
    "feedback_response": _postgres_response_body(),
    "alerts_alert": _postgres_on_row(lambda row: f"PERFORM tally_mark_response({row}.response_id);", ALERT_COLUMNS),
    "cases_case": _postgres_on_row(lambda row: f"PERFORM tally_mark_response({row}.response_id);", CASE_COLUMNS),
    "loop_followup": _postgres_on_row(
        lambda row: "PERFORM tally_mark_response(c.response_id) FROM cases_case AS c"
        f" WHERE c.id = {row}.case_id;",
        FOLLOW_UP_ROW_COLUMNS,
    ),
}
POSTGRES_FORWARD = [
    *POSTGRES_HELPERS,
    *(_postgres_function(table, body) for table, body in POSTGRES_TABLES.items()),
    *(
        f"CREATE TRIGGER tally_{table}_changed AFTER INSERT OR UPDATE OR DELETE ON {table}"
        f" FOR EACH ROW EXECUTE FUNCTION tally_{table}_changed();"
        for table in POSTGRES_TABLES
    ),
]
POSTGRES_BACKWARD = [
    *(f"DROP TRIGGER IF EXISTS tally_{table}_changed ON {table};" for table in POSTGRES_TABLES),
    *(f"DROP FUNCTION IF EXISTS tally_{table}_changed();" for table in POSTGRES_TABLES),
    "DROP FUNCTION IF EXISTS tally_mark_customer(bigint, bigint);",
    "DROP FUNCTION IF EXISTS tally_mark_response(bigint);",
    "DROP FUNCTION IF EXISTS tally_hour(timestamptz);",
]
POSTGRES_EXISTING = f"INSERT INTO {CHANGES} (hour) SELECT DISTINCT tally_hour(submitted_at) FROM feedback_response;"


def _run(schema_editor, statements_by_vendor):
    statements = statements_by_vendor.get(schema_editor.connection.vendor)
    if statements is None:
        raise RuntimeError(f"no report tally triggers for the {schema_editor.connection.vendor} database")
    # A cursor without parameters: SQLite's strftime('%s') must reach the database as written.
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def forward(apps, schema_editor):
    _run(
        schema_editor,
        {
            "sqlite": [*SQLITE_FORWARD, SQLITE_EXISTING],
            "postgresql": [*POSTGRES_FORWARD, POSTGRES_EXISTING],
        },
    )


def backward(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD})


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0005_report_tallies"),
        ("feedback", "0010_response_note_flags_backfill"),
        ("cases", "0007_case_contacted_index"),
        ("alerts", "0003_alert_response_kind_index"),
        ("loop", "0002_theme_spikes"),
    ]

    operations = [migrations.RunPython(forward, backward)]
