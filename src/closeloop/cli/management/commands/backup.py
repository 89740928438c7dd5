"""`closeloop backup FILE`: a consistent copy of the embedded SQLite database while closeloop runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from closeloop.environment import PRIVATE_FILE, create_private_file


class Command(BaseCommand):
    help = (
        "Copy the SQLite database to FILE with SQLite's online backup (safe while web and worker run). "
        "On PostgreSQL, use pg_dump (docs/operations.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="where the copy goes; must not exist yet")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        if connection.vendor != "sqlite":
            raise CommandError(
                "backup copies the embedded SQLite database; this one is PostgreSQL: "
                'run pg_dump --format=custom --file=closeloop.dump "$DATABASE_URL"',
                returncode=2,
            )
        target = Path(file).expanduser().resolve()
        if target.exists():
            raise CommandError(f"{target} exists already; give a new file name", returncode=2)
        if not target.parent.is_dir():
            raise CommandError(f"{target.parent} is not a folder", returncode=2)
        # The copy holds everything the database does: the owner's only, like the original.
        create_private_file(target)
        target.chmod(PRIVATE_FILE)
        source = sqlite3.connect(connection.settings_dict["NAME"])
        try:
            destination = sqlite3.connect(target)
            try:
                # Page by page, letting writers in between: the web and the worker keep running.
                source.backup(destination, pages=1024)
            finally:
                destination.close()
        finally:
            source.close()
        self.stdout.write(f"backed up to {target} ({target.stat().st_size} bytes)")
