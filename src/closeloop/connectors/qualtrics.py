"""Qualtrics: the "export responses" CSV, and the `completedResponse` event subscription.

The CSV has three header rows: column names (`ResponseId`, `Q1`, ...), the question texts in
the survey's language, and the ImportIds as JSON (`{"ImportId":"QID1"}`). Questions are
mapped by ImportId (`{id: QID1}`), which survives renaming; without a map, a column whose name
(the question's export tag, editable in Qualtrics) equals a question key fills that question.
Preview, test and spam responses are skipped.

The event subscription posts `application/x-www-form-urlencoded` (`Topic`, `SurveyID`,
`ResponseID`, ...) and signs nothing: the source's secret goes in the publication URL as
`?token=…`. The event has no answers: the response is fetched from
`{api_base}/surveys/{SurveyID}/responses/{ResponseID}` with the API token, and its `values`
are keyed by the same ImportIds as the CSV, so one map serves both.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr

from closeloop.connectors.base import Connector, Fetch, Translation, api_url
from closeloop.connectors.errors import Ignored, PayloadUnreadable
from closeloop.connectors.inbound import Inbound
from closeloop.connectors.mapping import Item, Rules, build_item, default_rule, pick
from closeloop.connectors.record import Record
from closeloop.connectors.registry import register
from closeloop.connectors.signatures import check_token
from closeloop.connectors.spec import SourceSpec, read_secret
from closeloop.connectors.survey import Survey

# Qualtrics' response types that are not customers: previews, tests and spam.
NOT_RESPONSES = {
    "1": "a survey preview",
    "2": "a survey test",
    "8": "spam",
    "9": "preview spam",
    "12": "imported spam",
    "survey preview": "a survey preview",
    "survey test": "a survey test",
    "spam": "spam",
}
COMPLETED_TOPIC = "completedResponse"


class QualtricsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # https://<datacenter>.qualtrics.com/API/v3 — the account's own data centre.
    api_base: str | None = None
    api_token: SecretStr | None = None
    api_token_file: Path | None = None


def _status_skip(status: Any) -> str | None:
    return NOT_RESPONSES.get(str(status if status is not None else "").strip().casefold())


def export_record(ids: dict[str, Any], columns: dict[str, Any], labels: dict[str, Any] | None = None) -> Record:
    first, last = ids.get("recipientFirstName"), ids.get("recipientLastName")
    name = " ".join(str(part).strip() for part in (first, last) if part and str(part).strip())
    meta = {
        "response_id": ids.get("_recordId") or ids.get("responseId") or columns.get("ResponseId"),
        "recipient_name": name or None,
    }
    return Record({"id": ids, "column": columns, "label": labels or {}, "meta": meta}, document=ids)


@register
class Qualtrics(Connector):
    slug = "qualtrics"
    title = "Qualtrics"
    namespaces = ("id", "column", "label", "meta")
    default_namespace = "id"
    answer_namespace = "column"
    envelope_namespace = "id"
    options_model = QualtricsOptions

    def options_problems(self, options: Any) -> list[tuple[str, str]]:
        has_token = options.api_token is not None or options.api_token_file is not None
        if options.api_token is not None and options.api_token_file is not None:
            return [("options.api_token", "give api_token or api_token_file, not both")]
        if has_token != (options.api_base is not None):
            return [("options.api_base", "completedResponse events need both api_base and an api_token")]
        if options.api_base is not None and not options.api_base.startswith(("https://", "http://")):
            return [("options.api_base", f"{options.api_base!r} is not an http(s) URL")]
        return []

    def verify(self, inbound: Inbound, source: SourceSpec, now: datetime) -> None:
        check_token(inbound, source.secret_value())

    def translate(self, inbound: Inbound, source: SourceSpec, *, survey: Survey, fetch: Fetch) -> Translation:
        fields = inbound.json_object() if inbound.content_type == "application/json" else inbound.form()
        # Published examples disagree on the case of the names (Topic / topic, SurveyID / surveyId).
        event = {str(key).casefold(): value for key, value in fields.items()}
        topic = str(event.get("topic", ""))
        if COMPLETED_TOPIC.casefold() not in topic.casefold():
            raise Ignored(f"Qualtrics topic {topic!r} is not a completed response")
        survey_id, response_id = str(event.get("surveyid") or ""), str(event.get("responseid") or "")
        if not survey_id or not response_id:
            raise PayloadUnreadable(
                "no SurveyID or ResponseID (an encrypted subscription? create it with encrypt: false)"
            )
        options = source.settings
        if options.api_base is None:
            raise PayloadUnreadable(
                "the source has no options.api_base and api_token, so the response cannot be fetched"
            )
        token = read_secret(options.api_token, options.api_token_file)
        url = api_url(options.api_base, "surveys", survey_id, "responses", response_id)
        raw = fetch(url, {"X-API-TOKEN": token, "Accept": "application/json"})
        try:
            result = json.loads(raw.decode("utf-8")).get("result")
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            raise PayloadUnreadable("Qualtrics' API answered something that is not a response") from None
        if not isinstance(result, dict) or not isinstance(result.get("values"), dict):
            raise PayloadUnreadable(f"Qualtrics' API did not return the values of response {response_id}")
        values = dict(result["values"])
        values.setdefault("_recordId", result.get("responseId") or response_id)
        skip = _status_skip(values.get("status"))
        if skip:
            raise Ignored(f"response {response_id} is {skip}")
        record = export_record(values, {}, dict(result.get("labels") or {}))
        item = self.item(record, source, survey, inbound)
        return Translation(event_id=f"qualtrics-{response_id}", items=(item,))

    def default_rules(self, survey: Survey, options: Any) -> Rules:
        return {
            "external_id": default_rule("external_id", pick("meta", "response_id")),
            "submitted_at": default_rule("submitted_at", pick("id", "recordedDate"), pick("id", "endDate")),
            "customer.email": default_rule("customer.email", pick("id", "recipientEmail")),
            "customer.name": default_rule("customer.name", pick("meta", "recipient_name")),
        }


@dataclass(frozen=True)
class ExportRow:
    """One data row of an export: the item, or why it is skipped (not a customer) or unreadable."""

    line: int
    cells: list[str]
    item: Item | None = None
    skipped: str | None = None
    error: str | None = None


class QualtricsExport:
    """A Qualtrics export CSV read row by row, for `closeloop ingest --format qualtrics`.

    `lines` is the open file (newline=""); `source`, when given, is a `tool: qualtrics` source
    whose map is used; without one the defaults apply (columns named like question keys).
    """

    def __init__(
        self,
        lines: Iterable[str],
        survey: Survey,
        *,
        source: SourceSpec | None = None,
        received_at: datetime | None = None,
    ) -> None:
        self._reader = csv.reader(lines)
        self.survey = survey
        self.received_at = received_at or datetime.now(UTC)
        self.rules = Qualtrics().rules_for(source, survey)
        try:
            names = next(self._reader)
            next(self._reader)  # the question texts, for people
            third = next(self._reader)
        except StopIteration:
            raise PayloadUnreadable("a Qualtrics export has three header rows; this file has fewer") from None
        except csv.Error as exc:
            raise PayloadUnreadable(f"the header rows cannot be read ({exc})") from None
        self.columns = [name.strip() for name in names]
        self.import_ids = [_import_id(cell) for cell in third]
        if len(self.import_ids) != len(self.columns) or not all(self.import_ids):
            raise PayloadUnreadable('the third header row is not the ImportIds ({"ImportId":"QID1"}, ...)')

    def rows(self) -> Iterator[ExportRow]:
        line = self._reader.line_num + 1
        try:
            for cells in self._reader:
                if any(cell.strip() for cell in cells):
                    yield self._row(line, cells)
                line = self._reader.line_num + 1
        except csv.Error as exc:
            raise PayloadUnreadable(f"line {self._reader.line_num}: {exc}") from None

    def _row(self, line: int, cells: list[str]) -> ExportRow:
        if len(cells) != len(self.columns):
            return ExportRow(line, cells, error=f"the row has {len(cells)} cells, the header has {len(self.columns)}")
        ids = dict(zip(self.import_ids, cells, strict=True))
        columns = dict(zip(self.columns, cells, strict=True))
        skip = _status_skip(ids.get("status"))
        if skip:
            return ExportRow(line, cells, skipped=skip)
        try:
            item = build_item(export_record(ids, columns), self.rules, self.survey, received_at=self.received_at)
        except PayloadUnreadable as exc:
            return ExportRow(line, cells, error=exc.reason)
        return ExportRow(line, cells, item=item)


def _import_id(cell: str) -> str:
    try:
        value = json.loads(cell)
    except json.JSONDecodeError:
        return ""
    return str(value.get("ImportId", "")) if isinstance(value, dict) else ""
