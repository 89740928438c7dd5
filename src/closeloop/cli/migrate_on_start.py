"""Bring the database schema up to date before a closeloop command touches it.

An operator's first command on a fresh CLOSELOOP_HOME may be `closeloop config apply` or
`closeloop token create` rather than `migrate`; the embedded database should simply work.
"""

from __future__ import annotations

from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# Commands that need the schema; Django's own (migrate, makemigrations, check, shell...) are left alone.
COMMANDS_NEEDING_SCHEMA = frozenset(
    {
        "run",
        "serve",
        "worker",
        "demo",
        "config",
        "token",
        "ingest",
        "ingest-activity",
        "tick",
        "digest",
        "customer",
        "audit",
        "source",
    }
)

# Any fixed number: several processes starting at once on PostgreSQL take turns migrating.
_LOCK_ID = 0x636C6F73


def pending_migrations() -> bool:
    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def migrate_if_needed() -> None:
    if not pending_migrations():
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [_LOCK_ID])
        try:
            call_command("migrate", interactive=False, verbosity=0)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_ID])
    else:
        call_command("migrate", interactive=False, verbosity=0)
