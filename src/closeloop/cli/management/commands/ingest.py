"""`closeloop ingest FILE`: import responses from a CSV or JSON Lines file."""

from __future__ import annotations

from argparse import ArgumentParser
from functools import partial
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
    FORMATS,
    ImportCounts,
    RejectsWriter,
    ResponseFile,
    UnreadableFile,
    import_rows,
    open_response_file,
    rejects_path,
)
from closeloop.intake.exports import QualtricsFile
from closeloop.intake.sources import active_sources, target_survey
from closeloop.org.statistics import BIG_IMPORT, refresh_statistics

MAX_SOURCE_LENGTH = 100


class Command(BaseCommand):
    help = (
        "Import survey responses from a CSV file (header row: external_id, submitted_at, unit, segment, agent, "
        "ticket, customer_*, contact_ok, one column per question) or JSON Lines (one API body per line). "
        "Same validation and idempotency as the API: importing a file again replays, it does not duplicate. "
        "--format qualtrics reads a Qualtrics export through a configured qualtrics source's map."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="a .csv, .jsonl or .ndjson file")
        parser.add_argument("--survey", help="the survey key for rows that do not name one (no survey column)")
        parser.add_argument("--source", default="file", help="recorded on each response (default: file)")
        parser.add_argument(
            "--format",
            choices=FORMATS,
            help="csv, jsonl, or qualtrics (a Qualtrics export: three header rows); default: by the file's extension",
        )
        parser.add_argument(
            "--mapping",
            metavar="SOURCE",
            help="with --format qualtrics: the key of the `tool: qualtrics` source whose map reads the file "
            "(default: the survey's only Qualtrics source, else the columns named like question keys)",
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help=f"default {DEFAULT_BATCH_SIZE}")
        parser.add_argument(
            "--historic",
            action="store_true",
            help="every new response is historic, whatever its age: evaluated and counted in reports, but it sends "
            "no alert and opens no case (without it: only those older than organization.alert_max_age)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        source: str = options["source"].strip()
        if not source or len(source) > MAX_SOURCE_LENGTH:
            raise CommandError(f"--source: give a name of 1 to {MAX_SOURCE_LENGTH} characters", returncode=2)
        if options["batch_size"] < 1:
            raise CommandError("--batch-size: must be at least 1", returncode=2)
        if options["mapping"] and options["format"] != "qualtrics":
            raise CommandError("--mapping: only with --format qualtrics", returncode=2)
        catalog = Catalog.load()
        surveys = {key: info.questions for key, info in catalog.surveys.items()}
        rejected_to = rejects_path(path)
        try:
            reader: ResponseFile | QualtricsFile
            more_header_rows: list[list[str]] = []
            if options["format"] == "qualtrics":
                reader = _qualtrics_file(path, catalog, options["survey"], options["mapping"])
                more_header_rows = reader.more_header_rows
            else:
                reader = open_response_file(
                    path, surveys=surveys, default_survey=options["survey"], kind=options["format"]
                )
            total = reader.count()
            # A rejects file from an earlier import of this file would now be misleading.
            rejected_to.unlink(missing_ok=True)
            writer = RejectsWriter(rejected_to, reader.columns, more_header_rows)
            with writer as rejects, _progress_bar() as progress:
                task = progress.add_task(f"Importing {path.name}", total=total)
                counts = import_rows(
                    reader.rows(),
                    ingest=partial(ingest_responses, imported=True, historic=options["historic"]),
                    source=source,
                    rejects=rejects,
                    clock=timezone.now,
                    batch_size=options["batch_size"],
                    on_progress=lambda done: progress.advance(task, done),
                )
        except UnreadableFile as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if counts.created + counts.invalid >= BIG_IMPORT:
            # The lists, reports and repeat-failure lookups plan with statistics of the grown tables.
            refresh_statistics()
        self.stdout.write(_summary(path, counts, rejected_to, skipped=options["format"] == "qualtrics"))


def _qualtrics_file(path: Path, catalog: Catalog, survey_key: str | None, mapping: str | None) -> QualtricsFile:
    """The export read through the chosen (or the survey's only) `tool: qualtrics` source, else the defaults."""
    sources = active_sources()
    spec = None
    if mapping:
        entry = sources.get(mapping)
        if entry is None or entry.spec is None or entry.spec.tool != "qualtrics":
            known = ", ".join(sorted(k for k, e in sources.items() if e.spec and e.spec.tool == "qualtrics"))
            raise CommandError(
                f"--mapping: {mapping!r} is not a qualtrics source (qualtrics sources: {known or 'none'})",
                returncode=2,
            )
        spec = entry.spec
        if survey_key and survey_key != spec.survey:
            raise CommandError(
                f"--survey {survey_key!r}: source {mapping!r} feeds survey {spec.survey!r}", returncode=2
            )
        survey_key = spec.survey
    elif survey_key:
        candidates = [
            e.spec for e in sources.values() if e.spec and e.spec.tool == "qualtrics" and e.spec.survey == survey_key
        ]
        if len(candidates) > 1:
            keys = ", ".join(sorted(c.key for c in candidates))
            raise CommandError(
                f"survey {survey_key!r} has several qualtrics sources ({keys}): give --mapping", returncode=2
            )
        spec = candidates[0] if candidates else None
    else:
        raise CommandError("--format qualtrics: give --survey KEY or --mapping SOURCE", returncode=2)
    survey = target_survey(catalog, survey_key)
    if survey is None:
        known = ", ".join(sorted(catalog.surveys)) or "none configured"
        raise CommandError(f"--survey: unknown survey {survey_key!r} (known: {known})", returncode=2)
    return QualtricsFile(path, survey=survey, source=spec, received_at=timezone.now())


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


def _summary(path: Path, counts: ImportCounts, rejected_to: Path, *, skipped: bool = False) -> str:
    lines = [
        f"Imported {path}: {counts.rows} rows",
        f"  created:  {counts.created}",
        f"  replayed: {counts.replayed}",
        f"  invalid:  {counts.invalid}" + ("  (stored; fix their unit or segment)" if counts.invalid else ""),
        f"  rejected: {counts.rejected}",
    ]
    if counts.historic:
        lines.append(f"  historic: {counts.historic}  (of the created: counted in reports; no alerts sent, no cases)")
    if skipped or counts.skipped:
        lines.append(f"  skipped:  {counts.skipped}" + ("  (previews, tests and spam)" if counts.skipped else ""))
    if counts.rejected:
        lines.append(f"Rejected rows written to {rejected_to}")
    return "\n".join(lines)
