"""Jotform: the form webhook (multipart/form-data; older forms send application/x-www-form-urlencoded).

Jotform signs nothing and its webhook settings take only a URL, so the source's secret goes
in the URL as `?token=…`, compared in constant time.

The answers are in `rawRequest`, a JSON string inside the form, keyed `q<id>_<unique name>`
(`q3_studentsName`); the map names them by unique name (the field's "Unique Name" in the form
builder). The `pretty` field is not read: its "Label:Value, ..." text cannot be split safely.
Ratings arrive as text ("4") and are converted by the target question's type.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from closeloop.connectors.base import Connector, Fetch, Translation
from closeloop.connectors.errors import PayloadUnreadable
from closeloop.connectors.inbound import Inbound
from closeloop.connectors.mapping import Rules, default_rule, pick
from closeloop.connectors.record import Record
from closeloop.connectors.registry import register
from closeloop.connectors.signatures import check_token
from closeloop.connectors.spec import SourceSpec
from closeloop.connectors.survey import Survey

_ANSWER_KEY = re.compile(r"^q(\d+)_(.+)$")
META_FIELDS = ("formID", "submissionID", "formTitle", "username", "ip", "type")


@register
class Jotform(Connector):
    slug = "jotform"
    title = "Jotform"
    namespaces = ("field", "qid", "raw", "meta")
    default_namespace = "field"
    answer_namespace = "field"
    envelope_namespace = "field"

    def verify(self, inbound: Inbound, source: SourceSpec, now: datetime) -> None:
        check_token(inbound, source.secret_value())

    def translate(self, inbound: Inbound, source: SourceSpec, *, survey: Survey, fetch: Fetch) -> Translation:
        form = inbound.json_object() if inbound.content_type == "application/json" else inbound.fields()
        raw_text = form.get("rawRequest")
        if not raw_text:
            raise PayloadUnreadable("no rawRequest field: is this a Jotform webhook?")
        if isinstance(raw_text, dict):
            answers = raw_text
        else:
            try:
                answers = json.loads(raw_text)
            except json.JSONDecodeError as exc:
                raise PayloadUnreadable(f"rawRequest is not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(answers, dict):
            raise PayloadUnreadable("rawRequest is not a JSON object")
        item = self.item(self.record(form, answers), source, survey, inbound)
        return Translation(event_id=f"jotform-{item.external_id}", items=(item,))

    def record(self, form: dict[str, Any], answers: dict[str, Any]) -> Record:
        by_name: dict[str, Any] = {}
        by_id: dict[str, Any] = {}
        for key, value in answers.items():
            match = _ANSWER_KEY.match(key)
            if match:
                by_id.setdefault(match.group(1), value)
                by_name.setdefault(match.group(2), value)
        meta = {name: form.get(name) for name in META_FIELDS}
        return Record({"field": by_name, "qid": by_id, "raw": answers, "meta": meta}, document=answers)

    def default_rules(self, survey: Survey, options: Any) -> Rules:
        return {"external_id": default_rule("external_id", pick("meta", "submissionID"))}
