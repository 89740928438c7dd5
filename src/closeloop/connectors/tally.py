"""Tally: the `FORM_RESPONSE` webhook.

Signature: `Tally-Signature` = base64(HMAC-SHA256 of the raw body) under the webhook's
signing secret. Tally makes the secret optional; closeloop requires it. Nothing is
timestamped. Tally expects a 2xx within 10 seconds and retries otherwise.

Choice answers arrive as option ids and are resolved to the option texts; a matrix becomes
one value per row (`Matrix/Quality`); checkboxes also arrive once per option as a boolean
(`Checkboxes (Soccer)`), which the map may use or ignore.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from closeloop.connectors.base import Connector, Fetch, Translation
from closeloop.connectors.errors import Ignored, PayloadUnreadable
from closeloop.connectors.inbound import Inbound
from closeloop.connectors.mapping import Rules, default_rule, pick
from closeloop.connectors.record import Record
from closeloop.connectors.registry import register
from closeloop.connectors.signatures import check_digest, decode_signature, hmac_digest, required_header
from closeloop.connectors.spec import SourceSpec
from closeloop.connectors.survey import Survey

SIGNATURE_HEADER = "Tally-Signature"


def _texts(ids: Any, options: list[dict[str, Any]]) -> Any:
    names = {str(option.get("id")): option.get("text") for option in options if isinstance(option, dict)}
    if isinstance(ids, list):
        return [names.get(str(one), one) for one in ids]
    return names.get(str(ids), ids)


@register
class Tally(Connector):
    slug = "tally"
    title = "Tally"
    namespaces = ("label", "key", "hidden", "calculated", "meta")
    default_namespace = "label"
    answer_namespace = "label"
    envelope_namespace = "hidden"

    def verify(self, inbound: Inbound, source: SourceSpec, now: datetime) -> None:
        given = decode_signature(required_header(inbound, SIGNATURE_HEADER), "base64", SIGNATURE_HEADER)
        check_digest(hmac_digest(source.secret_value(), inbound.body), given, SIGNATURE_HEADER)

    def translate(self, inbound: Inbound, source: SourceSpec, *, survey: Survey, fetch: Fetch) -> Translation:
        event = inbound.json_object()
        if event.get("eventType") != "FORM_RESPONSE":
            raise Ignored(f"Tally event {event.get('eventType')!r} is not a form response")
        data = event.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("fields"), list):
            raise PayloadUnreadable("data.fields is missing or not a list")
        item = self.item(self.record(data), source, survey, inbound)
        return Translation(event_id=str(event.get("eventId") or item.external_id), items=(item,))

    def record(self, data: dict[str, Any]) -> Record:
        by_label: dict[str, Any] = {}
        by_key: dict[str, Any] = {}
        hidden: dict[str, Any] = {}
        calculated: dict[str, Any] = {}
        meta: dict[str, Any] = {
            k: data.get(k) for k in ("responseId", "submissionId", "respondentId", "formId", "formName", "createdAt")
        }
        for field in data["fields"]:
            if not isinstance(field, dict):
                continue
            key, label, kind = str(field.get("key", "")), str(field.get("label", "")), field.get("type")
            value = field.get("value")
            if kind == "MATRIX" and isinstance(value, dict):
                rows = {str(r.get("id")): r.get("text") for r in field.get("rows") or [] if isinstance(r, dict)}
                columns = field.get("columns") or []
                value = {rows.get(row, row): _single(_texts(cols, columns)) for row, cols in value.items()}
                for row_id, row_text in rows.items():
                    cell = value.get(row_text)
                    by_key.setdefault(f"{key}/{row_id}", cell)
                    by_label.setdefault(f"{label}/{row_text}", cell)
            elif field.get("options") and value is not None:
                value = _texts(value, field["options"])
            by_key.setdefault(key, value)
            by_label.setdefault(label, value)
            if kind == "HIDDEN_FIELDS":
                hidden.setdefault(label, value)
            elif kind == "CALCULATED_FIELDS":
                calculated.setdefault(label, value)
            elif kind == "INPUT_EMAIL":
                meta.setdefault("email", value)
            elif kind == "INPUT_PHONE_NUMBER":
                meta.setdefault("phone", value)
        return Record(
            {"label": by_label, "key": by_key, "hidden": hidden, "calculated": calculated, "meta": meta}, document=data
        )

    def default_rules(self, survey: Survey, options: Any) -> Rules:
        return {
            "external_id": default_rule("external_id", pick("meta", "responseId"), pick("meta", "submissionId")),
            "submitted_at": default_rule("submitted_at", pick("meta", "createdAt")),
            "customer.email": default_rule("customer.email", pick("meta", "email")),
            "customer.phone": default_rule("customer.phone", pick("meta", "phone")),
        }


def _single(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value
