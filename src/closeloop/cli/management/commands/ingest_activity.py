"""`closeloop ingest-activity FILE`: import customer purchases, renewals and cancellations from a CSV file."""

from __future__ import annotations

import csv
from argparse import ArgumentParser
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from closeloop.feedback.files import REASON_COLUMN, reason_text, rejects_path
from closeloop.loop.activity import FIELDS, ActivityRow, check_rows, store_rows

BATCH_SIZE = 1000
REQUIRED_COLUMNS = ("customer_id", "date", "kind")


@dataclass
class Counts:
    rows: int = 0
    created: int = 0
    replayed: int = 0
    rejected: int = 0


class Command(BaseCommand):
    help = (
        "Import customer activity from a CSV file with the columns customer_id, date (YYYY-MM-DD), "
        "kind (purchase, renewal or cancellation) and amount (optional). Rows already imported are replays; "
        "bad rows go to FILE.rejects.csv with the reason."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="a .csv file with a header row")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        rejected_to = rejects_path(path)
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                columns = [name.strip() for name in reader.fieldnames or []]
                missing = [name for name in REQUIRED_COLUMNS if name not in columns]
                if missing:
                    raise CommandError(f"{path}: missing column(s) {', '.join(missing)}", returncode=2)
                reader.fieldnames = columns
                # A rejects file from an earlier import of this file would now be misleading.
                rejected_to.unlink(missing_ok=True)
                counts = self._import(reader, columns, rejected_to)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise CommandError(f"{path}: cannot be read ({exc})", returncode=2) from exc
        self.stdout.write(_summary(path, counts, rejected_to))

    def _import(self, reader: csv.DictReader, columns: list[str], rejected_to: Path) -> Counts:
        counts = Counts()
        rejects: Any = None
        batch: list[dict[str, str]] = []

        def flush() -> None:
            nonlocal rejects
            # Extra columns are kept in the rejects file but are not fields of an activity.
            items = [{name: row.get(name) or "" for name in FIELDS if name in row} for row in batch]
            good: list[ActivityRow] = []
            for row, outcome in zip(batch, check_rows(items), strict=True):
                if isinstance(outcome, ActivityRow):
                    good.append(outcome)
                    continue
                if rejects is None:
                    rejects = csv.writer(stack.enter_context(rejected_to.open("w", newline="", encoding="utf-8")))
                    rejects.writerow([*columns, REASON_COLUMN])
                rejects.writerow([row.get(name) or "" for name in columns] + [reason_text(outcome)])
                counts.rejected += 1
            stored = store_rows(good, now=timezone.now())
            counts.created += stored.created
            counts.replayed += stored.replayed
            batch.clear()

        with ExitStack() as stack:
            for row in reader:
                counts.rows += 1
                batch.append(row)
                if len(batch) >= BATCH_SIZE:
                    flush()
            flush()
        return counts


def _summary(path: Path, counts: Counts, rejected_to: Path) -> str:
    lines = [
        f"Imported {path}: {counts.rows} rows",
        f"  created:  {counts.created}",
        f"  replayed: {counts.replayed}",
        f"  rejected: {counts.rejected}",
    ]
    if counts.rejected:
        lines.append(f"Rejected rows written to {rejected_to}")
    return "\n".join(lines)
