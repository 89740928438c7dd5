"""`closeloop ingest FILE`: import responses from a CSV or JSON Lines file."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from closeloop.actions.ingest import ingest_responses
from closeloop.feedback.catalog import Catalog
from closeloop.feedback.files import (
    DEFAULT_BATCH_SIZE,
    ImportCounts,
    RejectsWriter,
    UnreadableFile,
    import_rows,
    open_response_file,
    rejects_path,
)

MAX_SOURCE_LENGTH = 100


class Command(BaseCommand):
    help = (
        "Import survey responses from a CSV file (header row: external_id, submitted_at, unit, segment, agent, "
        "ticket, customer_*, contact_ok, one column per question) or JSON Lines (one API body per line). "
        "Same validation and idempotency as the API: importing a file again replays, it does not duplicate."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="a .csv, .jsonl or .ndjson file")
        parser.add_argument("--survey", help="the survey key for rows that do not name one (no survey column)")
        parser.add_argument("--source", default="file", help="recorded on each response (default: file)")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help=f"default {DEFAULT_BATCH_SIZE}")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        source: str = options["source"].strip()
        if not source or len(source) > MAX_SOURCE_LENGTH:
            raise CommandError(f"--source: give a name of 1 to {MAX_SOURCE_LENGTH} characters", returncode=2)
        if options["batch_size"] < 1:
            raise CommandError("--batch-size: must be at least 1", returncode=2)
        surveys = {key: info.questions for key, info in Catalog.load().surveys.items()}
        rejected_to = rejects_path(path)
        try:
            reader = open_response_file(path, surveys=surveys, default_survey=options["survey"])
            total = reader.count()
            # A rejects file from an earlier import of this file would now be misleading.
            rejected_to.unlink(missing_ok=True)
            with RejectsWriter(rejected_to, reader.columns) as rejects, _progress_bar() as progress:
                task = progress.add_task(f"Importing {path.name}", total=total)
                counts = import_rows(
                    reader.rows(),
                    ingest=ingest_responses,
                    source=source,
                    rejects=rejects,
                    clock=timezone.now,
                    batch_size=options["batch_size"],
                    on_progress=lambda done: progress.advance(task, done),
                )
        except UnreadableFile as exc:
            raise CommandError(str(exc), returncode=2) from exc
        self.stdout.write(_summary(path, counts, rejected_to))


def _progress_bar() -> Progress:
    # The bar goes to stderr and only to a terminal, so piped output and logs stay clean.
    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
    )


def _summary(path: Path, counts: ImportCounts, rejected_to: Path) -> str:
    lines = [
        f"Imported {path}: {counts.rows} rows",
        f"  created:  {counts.created}",
        f"  replayed: {counts.replayed}",
        f"  invalid:  {counts.invalid}" + ("  (stored; fix their unit or segment)" if counts.invalid else ""),
        f"  rejected: {counts.rejected}",
    ]
    if counts.rejected:
        lines.append(f"Rejected rows written to {rejected_to}")
    return "\n".join(lines)
