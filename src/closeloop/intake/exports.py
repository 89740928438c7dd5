"""Qualtrics export files (`closeloop ingest FILE --format qualtrics`) as rows for the file import.

The connectors read the three header rows and each data row through a `tool: qualtrics` source's
map (or the defaults); this turns them into the import's rows, so counts, batches and the rejects
file are those of every other import. The rejects file repeats the three header rows, so a corrected
one can be imported again as it is.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TextIO

from closeloop.connectors import PayloadUnreadable, QualtricsExport, SourceSpec, Survey
from closeloop.feedback.files import REASON_COLUMN, FileRow, UnreadableFile
from closeloop.feedback.store import FieldError

HEADER_ROWS = 3


class QualtricsFile:
    """One export file; `columns` and `header_rows` for the rejects file, `rows()` for the import."""

    def __init__(self, path: Path, *, survey: Survey, source: SourceSpec | None, received_at: datetime) -> None:
        self.path = path
        self.survey = survey
        self.source = source
        self.received_at = received_at
        with self._open() as handle:
            reader = csv.reader(handle)
            try:
                self.header_rows = [next(reader) for _ in range(HEADER_ROWS)]
            except StopIteration:
                raise UnreadableFile(f"{path}: a Qualtrics export has three header rows; this file has fewer") from None
            except (csv.Error, UnicodeDecodeError) as exc:
                raise UnreadableFile(f"{path}: the header rows cannot be read ({exc})") from None
        with self._open() as lines:
            self._export(lines)  # the ImportIds row is checked now, before anything is imported
        self.columns = [name.strip() for name in self.header_rows[0]]

    @property
    def more_header_rows(self) -> list[list[str]]:
        """The second and third header rows for the rejects file, with their cells for its reason column."""
        texts, import_ids = (list(row) for row in self.header_rows[1:])
        if REASON_COLUMN in self.columns:
            return [texts, import_ids]
        return [[*texts, REASON_COLUMN], [*import_ids, json.dumps({"ImportId": REASON_COLUMN})]]

    def _open(self) -> TextIO:
        try:
            # utf-8-sig: Qualtrics writes a byte-order mark.
            return self.path.open(encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise UnreadableFile(f"{self.path}: cannot be read ({exc.strerror})") from exc

    def _export(self, lines: TextIO) -> QualtricsExport:
        try:
            return QualtricsExport(lines, self.survey, source=self.source, received_at=self.received_at)
        except PayloadUnreadable as exc:
            raise UnreadableFile(f"{self.path}: {exc.reason}") from None

    def count(self) -> int:
        with self._open() as handle:
            reader = csv.reader(handle)
            try:
                rows = [cells for cells in reader if any(cell.strip() for cell in cells)]
            except (csv.Error, UnicodeDecodeError) as exc:
                raise UnreadableFile(f"{self.path}, line {reader.line_num + 1}: {exc}") from exc
        return max(0, len(rows) - HEADER_ROWS)

    def rows(self) -> Iterator[FileRow]:
        with self._open() as lines:
            try:
                for row in self._export(lines).rows():
                    if row.skipped:
                        yield FileRow(row.line, row.cells, skipped=row.skipped)
                    elif row.item is None:
                        yield FileRow(row.line, row.cells, errors=[FieldError(("row",), row.error or "unreadable")])
                    else:
                        yield FileRow(row.line, row.cells, item=row.item.body, problems=row.item.problems)
            except PayloadUnreadable as exc:
                raise UnreadableFile(f"{self.path}: {exc.reason}") from None
            except UnicodeDecodeError as exc:
                raise UnreadableFile(f"{self.path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
