"""`flush`, able to empty a SQLite database that holds case events and audit events.

Case events and audit events are append-only down to the database: a trigger rejects every DELETE on their
tables. Emptying the whole database is the one deliberate exception (PostgreSQL's TRUNCATE, which Django's
flush uses there, does not fire row triggers anyway). On SQLite the delete triggers are set aside for the
flush and put back exactly as they were, all in one transaction, so a failed flush leaves them in place.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand
from django.db import DEFAULT_DB_ALIAS, connections, transaction

# Every append-only table names its delete trigger `<table>_no_delete`.
TRIGGER_PATTERN = "%\\_no\\_delete"


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        database = options.get("database") or DEFAULT_DB_ALIAS
        connection = connections[database]
        if connection.vendor != "sqlite":
            return super().handle(**options)
        with transaction.atomic(using=database):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s ESCAPE '\\'",
                    [TRIGGER_PATTERN],
                )
                triggers = cursor.fetchall()
                for name, _sql in triggers:
                    cursor.execute(f'DROP TRIGGER "{name}"')
            super().handle(**options)
            with connection.cursor() as cursor:
                for _name, sql in triggers:
                    cursor.execute(sql)
        return None
