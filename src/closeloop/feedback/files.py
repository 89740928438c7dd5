"""Read response files (CSV with a header row, or JSON Lines) into ingest items, row by row.

A CSV cell is text; it is converted here by the type of the survey's question so that the
ingest service receives the same item the API would. A cell that cannot be converted makes
its row a rejection (with the field named), never an exception: one bad row must not stop a
100k-row import. Only a file that cannot be read at all, or a header that does not fit the
survey, raises `UnreadableFile`.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from closeloop.core.answers import QuestionSpec
from closeloop.core.vocabulary import FALSE_WORDS, NUMERIC_QUESTION_TYPES, TRUE_WORDS
from closeloop.feedback.models import Response
from closeloop.feedback.store import FieldError, IngestResult, IntakeNote, RejectedInput

CUSTOMER_COLUMNS = {
    "customer_id": "id",
    "customer_name": "name",
    "customer_email": "email",
    "customer_phone": "phone",
    "customer_tier": "tier",
    "customer_contact_ok": "contact_ok",
    "contact_ok": "contact_ok",
}
TEXT_COLUMNS = ("unit", "segment", "agent", "ticket", "interviewer_notes", "audio_url")
ENVELOPE_COLUMNS = frozenset(
    {"survey", "external_id", "submitted_at", "interviewer_flag", *TEXT_COLUMNS, *CUSTOMER_COLUMNS}
)
REQUIRED_COLUMNS = ("external_id",)
# The column a rejects file adds; accepted (and ignored) on input so a corrected rejects
# file can be imported again as it is.
REASON_COLUMN = "reason"
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv",)
# What `closeloop ingest --format` accepts; qualtrics files are read by closeloop.intake.exports.
FORMATS = ("csv", "jsonl", "qualtrics")
# Rows per ingest call: large enough that commits are not the cost, small enough that a
# batch's transaction holds the SQLite write lock for well under a second.
DEFAULT_BATCH_SIZE = 500

_MULTI_SEPARATORS = re.compile(r"[;|]")

SurveyQuestions = Mapping[str, Mapping[str, QuestionSpec]]


class UnreadableFile(Exception):
    """The file as a whole cannot be imported (unreadable, unknown format, bad header)."""


class CellError(ValueError):
    """A cell's text does not fit its column; the message says why, without the column name."""


@dataclass
class FileRow:
    """One row of the input: its original cells (for the rejects file) and the item or the errors.

    `problems` are kept with the stored response (what a survey tool's export had wrong that did not
    stop the row); `skipped` says why a row is not a response at all (a tool's preview or test).
    """

    line: int
    cells: list[str]
    item: dict[str, Any] | None = None
    errors: list[FieldError] = field(default_factory=list)
    problems: tuple[str, ...] = ()
    skipped: str | None = None


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise CellError(f"{text!r} is not yes/no (use yes, no, true, false, 1 or 0)")


def parse_number(text: str) -> int | float:
    try:
        value = float(text)
    except ValueError:
        raise CellError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise CellError(f"{text!r} is not a finite number")
    # Whole numbers stay ints so stored answers read 7, not 7.0.
    return int(value) if value.is_integer() else value


def parse_datetime(text: str) -> datetime:
    """ISO 8601, with or without an offset; a time without one is read in the organisation's zone later."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise CellError(f"{text!r} is not an ISO-8601 date and time, e.g. 2026-11-23T10:04:00Z") from None


def parse_answer(spec: QuestionSpec, text: str) -> Any:
    """The typed answer for one CSV cell; ranges and options are checked by the ingest service."""
    if spec.type in NUMERIC_QUESTION_TYPES:
        return parse_number(text)
    if spec.type == "yes_no":
        return parse_bool(text)
    if spec.type == "multi_choice":
        return [part.strip() for part in _MULTI_SEPARATORS.split(text) if part.strip()]
    return text


def rejects_path(path: Path) -> Path:
    """Where the rejected rows of `path` are written: beside it, e.g. `march.csv.rejects.csv`."""
    return path.with_name(path.name + ".rejects.csv")


class CsvResponses:
    """A CSV file with a header row: fixed envelope columns plus one column per question key."""

    def __init__(self, path: Path, *, surveys: SurveyQuestions, default_survey: str | None) -> None:
        self.path = path
        self.surveys = surveys
        self.default_survey = default_survey
        with _open_text(path) as handle:
            try:
                header = next(csv.reader(handle), None)
            except (csv.Error, UnicodeDecodeError) as exc:
                raise UnreadableFile(f"{path}: the header row cannot be read ({exc})") from exc
        if not header or not any(name.strip() for name in header):
            raise UnreadableFile(f"{path}: the file is empty; the first row must name the columns")
        self.columns = [name.strip() for name in header]
        self._check_header()

    def _check_header(self) -> None:
        seen: set[str] = set()
        for index, name in enumerate(self.columns, start=1):
            if not name:
                raise UnreadableFile(f"column {index} of the header has no name")
            if name in seen:
                raise UnreadableFile(f"column {name!r} appears twice in the header")
            seen.add(name)
        for name in REQUIRED_COLUMNS:
            if name not in seen:
                raise UnreadableFile(f"missing required column {name!r}")
        if "survey" not in seen and not self.default_survey:
            raise UnreadableFile("missing required column 'survey': add the column or give --survey KEY")
        if "survey" in seen:
            # Each row names its survey, so a column may belong to any of them.
            question_keys = {key for questions in self.surveys.values() for key in questions}
        else:
            question_keys = set(self.surveys[self.default_survey or ""])
        for name in self.columns:
            if name not in ENVELOPE_COLUMNS and name not in question_keys and name != REASON_COLUMN:
                where = "any survey" if "survey" in seen else f"survey {self.default_survey!r}"
                raise UnreadableFile(f"unknown column {name!r}: not a response field nor a question of {where}")

    def count(self) -> int:
        """The number of data rows; reads the whole file, so an unparsable file fails here, before any import."""
        with _open_text(self.path) as handle:
            reader = csv.reader(handle)
            next(reader, None)
            try:
                return sum(1 for cells in reader if _has_content(cells))
            except (csv.Error, UnicodeDecodeError) as exc:
                raise UnreadableFile(f"{self.path}, line {reader.line_num + 1}: {exc}") from exc

    def rows(self) -> Iterator[FileRow]:
        with _open_text(self.path) as handle:
            reader = csv.reader(handle)
            next(reader, None)
            line = reader.line_num + 1
            try:
                for cells in reader:
                    if _has_content(cells):
                        yield self._convert(line, cells)
                    line = reader.line_num + 1
            except (csv.Error, UnicodeDecodeError) as exc:
                raise UnreadableFile(f"{self.path}, line {reader.line_num + 1}: {exc}") from exc

    def _convert(self, line: int, cells: list[str]) -> FileRow:
        width = len(self.columns)
        if len(cells) != width:
            kept = (cells + [""] * width)[:width]
            message = f"the row has {len(cells)} cells, the header has {width}"
            if len(cells) > width:
                message += " (extra: " + ", ".join(repr(c) for c in cells[width:]) + ")"
            return FileRow(line, kept, errors=[FieldError(("row",), message)])
        row = FileRow(line, cells)
        values = {name: cell.strip() for name, cell in zip(self.columns, cells, strict=True)}
        survey = values.get("survey") or self.default_survey or ""
        item: dict[str, Any] = {"survey": survey, "external_id": values["external_id"], "answers": {}}
        questions = self.surveys.get(survey)
        if not survey:
            row.errors.append(FieldError(("survey",), "missing: fill the survey column or give --survey KEY"))
        elif questions is None:
            row.errors.append(FieldError(("survey",), f"unknown survey {survey!r}"))
        customer: dict[str, Any] = {}
        for name, text in values.items():
            if not text or name in ("survey", "external_id", REASON_COLUMN):
                continue  # an empty cell is an unanswered question or an absent field
            try:
                if name == "submitted_at":
                    item["submitted_at"] = parse_datetime(text)
                elif name == "interviewer_flag":
                    item["interviewer_flag"] = parse_bool(text)
                elif name in CUSTOMER_COLUMNS:
                    key = CUSTOMER_COLUMNS[name]
                    customer[key] = parse_bool(text) if key == "contact_ok" else text
                elif name in TEXT_COLUMNS:
                    item[name] = text
                elif questions is not None:
                    spec = questions.get(name)
                    if spec is None:
                        row.errors.append(FieldError(("answers", name), f"not a question of survey {survey!r}"))
                    else:
                        item["answers"][name] = parse_answer(spec, text)
            except CellError as exc:
                loc = ("customer", CUSTOMER_COLUMNS[name]) if name in CUSTOMER_COLUMNS else _answer_loc(name)
                row.errors.append(FieldError(loc, str(exc)))
        if customer:
            item["customer"] = customer
        if not row.errors:
            row.item = item
        return row


def _answer_loc(name: str) -> tuple[str, ...]:
    return (name,) if name in ENVELOPE_COLUMNS else ("answers", name)


class JsonLinesResponses:
    """One API body per line; blank lines are skipped, a line that is not a JSON object is rejected."""

    columns = ["line_number", "line"]

    def __init__(self, path: Path, *, surveys: SurveyQuestions, default_survey: str | None) -> None:
        self.path = path
        self.default_survey = default_survey
        _open_text(path).close()  # fail now, as a whole-file problem, if it cannot be opened

    def count(self) -> int:
        """The number of non-blank lines; reads the whole file, so undecodable bytes fail here, before any import."""
        with _open_text(self.path) as handle:
            try:
                return sum(1 for text in handle if text.strip())
            except UnicodeDecodeError as exc:
                raise UnreadableFile(f"{self.path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc

    def rows(self) -> Iterator[FileRow]:
        try:
            yield from self._rows()
        except UnicodeDecodeError as exc:
            raise UnreadableFile(f"{self.path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc

    def _rows(self) -> Iterator[FileRow]:
        with _open_text(self.path) as handle:
            for number, text in enumerate(handle, start=1):
                text = text.rstrip("\r\n")
                if not text.strip():
                    continue
                row = FileRow(number, [str(number), text])
                try:
                    item = json.loads(text)
                except json.JSONDecodeError as exc:
                    row.errors.append(FieldError(("line",), f"not valid JSON ({exc.msg} at column {exc.colno})"))
                    yield row
                    continue
                if not isinstance(item, dict):
                    row.errors.append(FieldError(("line",), "expected a JSON object"))
                elif self.default_survey and "survey" not in item:
                    item["survey"] = self.default_survey
                if not row.errors:
                    row.item = item
                yield row


ResponseFile = CsvResponses | JsonLinesResponses


@dataclass
class ImportCounts:
    """The outcome of an import; every row lands in exactly one of the four counts."""

    created: int = 0  # stored and valid
    replayed: int = 0  # the same survey + external_id was stored before: nothing changed
    invalid: int = 0  # stored but quarantined (unknown unit or segment) until fixed
    rejected: int = 0  # not stored; written to the rejects file with the reason
    skipped: int = 0  # not a response (a survey tool's preview, test or spam); not stored
    historic: int = 0  # of `created`: too old to alert (or imported with --historic); no alerts sent, no cases

    @property
    def rows(self) -> int:
        return self.created + self.replayed + self.invalid + self.rejected + self.skipped


# The ingest action (closeloop.actions.ingest.ingest_responses), passed in: files are read here, below the
# layer that raises alerts and opens cases.
Ingest = Callable[..., list[IngestResult | RejectedInput]]


def import_rows(
    rows: Iterable[FileRow],
    *,
    ingest: Ingest,
    source: str,
    rejects: RejectsWriter,
    clock: Callable[[], datetime],
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
) -> ImportCounts:
    """Send the rows to the ingest service in batches (one transaction each) and count the outcomes.

    Rows that could not be converted go straight to `rejects`; the rest are rejected only if
    the service refuses them. `on_progress` is called with the number of rows just handled.
    """
    counts = ImportCounts()
    batch: list[FileRow] = []

    def flush() -> None:
        items = [row.item or {} for row in batch]
        if any(row.problems for row in batch):
            notes = [IntakeNote(row.problems) for row in batch]
            outcomes = ingest(items, source=source, now=clock(), notes=notes)
        else:
            outcomes = ingest(items, source=source, now=clock())
        for row, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, RejectedInput):
                rejects.write(row, outcome.errors)
                counts.rejected += 1
            elif not outcome.created:
                counts.replayed += 1
            elif outcome.response.status == Response.Status.INVALID:
                counts.invalid += 1
            else:
                counts.created += 1
                counts.historic += outcome.response.historic
        if on_progress is not None:
            on_progress(len(batch))
        batch.clear()

    for row in rows:
        if row.skipped:
            counts.skipped += 1
            if on_progress is not None:
                on_progress(1)
            continue
        if row.item is None:
            rejects.write(row, row.errors)
            counts.rejected += 1
            if on_progress is not None:
                on_progress(1)
            continue
        batch.append(row)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return counts


def open_response_file(
    path: Path, *, surveys: SurveyQuestions, default_survey: str | None = None, kind: str | None = None
) -> ResponseFile:
    """The reader for `path`, chosen by `kind` (csv, jsonl) or else its extension; raises UnreadableFile for
    anything unusable."""
    if default_survey is not None and default_survey not in surveys:
        known = ", ".join(sorted(surveys)) or "none configured"
        raise UnreadableFile(f"--survey: unknown survey {default_survey!r} (known: {known})")
    if not path.is_file():
        raise UnreadableFile(f"{path}: no such file")
    suffix = path.suffix.lower()
    if kind == "csv" or (kind is None and suffix in CSV_SUFFIXES):
        return CsvResponses(path, surveys=surveys, default_survey=default_survey)
    if kind == "jsonl" or (kind is None and suffix in JSON_LINES_SUFFIXES):
        return JsonLinesResponses(path, surveys=surveys, default_survey=default_survey)
    raise UnreadableFile(f"{path}: unknown file type {suffix or '(none)'!r}; use .csv, .jsonl or .ndjson")


def reason_text(errors: Sequence[FieldError]) -> str:
    """One line naming every bad field, e.g. "answers.ease: 'abc' is not a number"."""
    return "; ".join(str(error) for error in errors)


class RejectsWriter:
    """Writes rejected rows, as they come, to a CSV beside the input (created on the first reject).

    `more_header_rows`: formats whose header is several rows (a Qualtrics export's question texts and
    ImportIds) get them repeated, each with its cell for the reason column, so the file reads as the input
    did and can be imported again once corrected.
    """

    def __init__(self, path: Path, columns: Sequence[str], more_header_rows: Sequence[Sequence[str]] = ()) -> None:
        self.path = path
        self.more_header_rows = [list(row) for row in more_header_rows]
        self.columns = [*columns, REASON_COLUMN] if REASON_COLUMN not in columns else list(columns)
        self._reason_index = self.columns.index(REASON_COLUMN)
        self._handle: Any = None
        self._writer: Any = None
        self.count = 0

    def write(self, row: FileRow, errors: Sequence[FieldError]) -> None:
        if self._writer is None:
            self._handle = self.path.open("w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(self.columns)
            self._writer.writerows(self.more_header_rows)
        cells = list(row.cells)
        if len(cells) == len(self.columns):
            cells[self._reason_index] = reason_text(errors)  # a re-imported rejects file: replace the old reason
        else:
            cells.append(reason_text(errors))
        self._writer.writerow(cells)
        self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()

    def __enter__(self) -> RejectsWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _open_text(path: Path) -> Any:
    try:
        # utf-8-sig: spreadsheet exports often start with a byte-order mark.
        return path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot be read ({exc.strerror})") from exc


def _has_content(cells: list[str]) -> bool:
    return any(cell.strip() for cell in cells)
