"""Google Forms, through the Apps Script relay in docs/connectors.md (Google Forms has no webhook of its own).

Signature: the script signs `"{timestamp}.{body}"` with HMAC-SHA256 under the shared secret
(stored in the script's properties) and sends `X-Closeloop-Timestamp: <Unix seconds>` and
`X-Closeloop-Signature: v1=<base64>`; the timestamp must be within the source's tolerance.

The relay posts `{formId, responseId, timestamp, respondentEmail, answers: {title: answer},
items: {item id: answer}}`. A relay of a linked Sheet's "On form submit" event (`namedValues`:
every value a list of strings, the time in the sheet's locale, no response id) is read too;
its response id is then derived from the answers, so a retried relay is still the same response.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from closeloop.connectors.base import Connector, Fetch, Translation
from closeloop.connectors.errors import PayloadUnreadable, SignatureInvalid
from closeloop.connectors.inbound import Inbound
from closeloop.connectors.mapping import Rules, default_rule, pick
from closeloop.connectors.record import Record
from closeloop.connectors.registry import register
from closeloop.connectors.signatures import (
    check_digest,
    check_timestamp,
    decode_signature,
    hmac_digest,
    required_header,
)
from closeloop.connectors.spec import SourceSpec
from closeloop.connectors.survey import Survey

TIMESTAMP_HEADER = "X-Closeloop-Timestamp"
SIGNATURE_HEADER = "X-Closeloop-Signature"
_SHEET_TIME = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?$")


class GoogleFormsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # A linked Sheet writes times in its locale: 6/7/2015 is June 7th unless the locale puts the day first.
    day_first: bool = False


def sheet_time(text: str, *, day_first: bool) -> str | None:
    """A Sheet's "M/D/YYYY H:MM:SS" as ISO 8601 without an offset (the organisation's zone applies)."""
    match = _SHEET_TIME.match(text.strip())
    if not match:
        return None
    first, second, year, hour, minute, seconds = match.groups()
    day, month = (first, second) if day_first else (second, first)
    try:
        # Naive on purpose: ingest reads a time without an offset in the organisation's time zone.
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(seconds or 0))  # noqa: DTZ001
        return moment.isoformat()
    except ValueError:
        return None


def _unwrap(value: Any) -> Any:
    # namedValues wraps every answer in a list; one element is the answer itself.
    return value[0] if isinstance(value, list) and len(value) == 1 else value


@register
class GoogleForms(Connector):
    slug = "google_forms"
    title = "Google Forms"
    namespaces = ("title", "item", "meta")
    default_namespace = "title"
    answer_namespace = "title"
    envelope_namespace = "title"
    options_model = GoogleFormsOptions

    def verify(self, inbound: Inbound, source: SourceSpec, now: datetime) -> None:
        stamp = required_header(inbound, TIMESTAMP_HEADER)
        header = required_header(inbound, SIGNATURE_HEADER)
        version, _, encoded = header.partition("=")
        if version.strip() != "v1" or not encoded:
            raise SignatureInvalid(f"the {SIGNATURE_HEADER} header is not of the form v1=<base64>")
        check_timestamp(stamp, now=now, tolerance=source.tolerance_delta, header=TIMESTAMP_HEADER)
        given = decode_signature(encoded.strip(), "base64", SIGNATURE_HEADER)
        expected = hmac_digest(source.secret_value(), stamp.encode("utf-8") + b"." + inbound.body)
        check_digest(expected, given, SIGNATURE_HEADER)

    def translate(self, inbound: Inbound, source: SourceSpec, *, survey: Survey, fetch: Fetch) -> Translation:
        data = inbound.json_object()
        answers = data.get("answers") if isinstance(data.get("answers"), dict) else data.get("namedValues")
        if not isinstance(answers, dict):
            raise PayloadUnreadable("neither answers nor namedValues is an object: is this the closeloop relay script?")
        item = self.item(self.record(data, answers, day_first=source.settings.day_first), source, survey, inbound)
        return Translation(event_id=f"google-forms-{item.external_id}", items=(item,))

    def record(self, data: dict[str, Any], answers: dict[str, Any], *, day_first: bool) -> Record:
        titles = {str(title): _unwrap(value) for title, value in answers.items()}
        items = (
            {str(k): _unwrap(v) for k, v in (data.get("items") or {}).items()}
            if isinstance(data.get("items"), dict)
            else {}
        )
        response_id = data.get("responseId")
        if not response_id:
            canonical = json.dumps(answers, sort_keys=True, ensure_ascii=False).encode("utf-8")
            response_id = "gf-" + hashlib.sha256(canonical).hexdigest()[:24]
        moment = data.get("timestamp")
        sheet_stamp = titles.get("Timestamp")
        if not moment and isinstance(sheet_stamp, str):
            moment = sheet_time(sheet_stamp, day_first=day_first) or sheet_stamp
        meta = {
            "formId": data.get("formId"),
            "responseId": response_id,
            "submitted_at": moment,
            "respondentEmail": data.get("respondentEmail") or titles.get("Email Address"),
        }
        return Record({"title": titles, "item": items, "meta": meta}, document=data)

    def default_rules(self, survey: Survey, options: Any) -> Rules:
        return {
            "external_id": default_rule("external_id", pick("meta", "responseId")),
            "submitted_at": default_rule("submitted_at", pick("meta", "submitted_at")),
            "customer.email": default_rule("customer.email", pick("meta", "respondentEmail")),
        }
