"""`flush`, able to empty a SQLite database that holds case events.

Case events are append-only down to the database: a trigger rejects every DELETE on their table. Emptying
the whole database is the one deliberate exception (PostgreSQL's TRUNCATE, which Django's flush uses there,
does not fire row triggers anyway). On SQLite the delete trigger is set aside for the flush and put back
exactly as it was, all in one transaction, so a failed flush leaves the trigger in place.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand
from django.db import DEFAULT_DB_ALIAS, connections, transaction

TRIGGER = "cases_caseevent_no_delete"


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        database = options.get("database") or DEFAULT_DB_ALIAS
        connection = connections[database]
        if connection.vendor != "sqlite":
            return super().handle(**options)
        with transaction.atomic(using=database):
            with connection.cursor() as cursor:
                cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [TRIGGER])
                row = cursor.fetchone()
                if row:
                    cursor.execute(f"DROP TRIGGER {TRIGGER}")
            super().handle(**options)
            if row:
                with connection.cursor() as cursor:
                    cursor.execute(row[0])
        return None
