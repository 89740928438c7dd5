"""Case events may be redacted, once, when a customer's data is erased; the triggers allow exactly that.

An UPDATE passes only when it flips `redacted` from false to true and leaves every other column but `data`
as it was; anything else, and every DELETE, is still refused by the database.
"""

from django.db import migrations, models

TABLE = "cases_caseevent"
MESSAGE = "case events are append-only"
UNCHANGED = (
    "NEW.id = OLD.id AND NEW.case_id = OLD.case_id AND NEW.at = OLD.at AND NEW.type = OLD.type "
    "AND NEW.actor_id IS OLD.actor_id AND NEW.actor_name = OLD.actor_name"
)

SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {TABLE}_no_update;", f"DROP TRIGGER IF EXISTS {TABLE}_no_delete;"]
SQLITE_CREATE = [
    f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
    f"WHEN NOT (OLD.redacted = 0 AND NEW.redacted = 1 AND {UNCHANGED}) "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
]
SQLITE_CREATE_OLD = [
    f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
]

POSTGRES_REDACTABLE = f"""CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND NOT OLD.redacted AND NEW.redacted
           AND NEW.id = OLD.id AND NEW.case_id = OLD.case_id AND NEW.at = OLD.at AND NEW.type = OLD.type
           AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id AND NEW.actor_name = OLD.actor_name THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
    END $$;"""
POSTGRES_STRICT = f"""CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
    END $$;"""


def _execute(schema_editor, statements):
    for statement in statements:
        schema_editor.execute(statement)


def drop_sqlite_triggers(apps, schema_editor):
    # Adding a column may rebuild the table on SQLite; the triggers are made again for the new shape below.
    if schema_editor.connection.vendor == "sqlite":
        _execute(schema_editor, SQLITE_DROP)


def allow_redaction(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _execute(schema_editor, SQLITE_CREATE)
    elif vendor == "postgresql":
        _execute(schema_editor, [POSTGRES_REDACTABLE])
    else:
        raise RuntimeError(f"no append-only triggers for the {vendor} database")


def forbid_redaction(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _execute(schema_editor, [*SQLITE_DROP, *SQLITE_CREATE_OLD])
    elif vendor == "postgresql":
        _execute(schema_editor, [POSTGRES_STRICT])


def noop(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_caseevent_append_only")]

    operations = [
        migrations.RunPython(drop_sqlite_triggers, noop),
        migrations.AddField(model_name="caseevent", name="redacted", field=models.BooleanField(default=False)),
        migrations.RunPython(allow_redaction, forbid_redaction),
    ]
