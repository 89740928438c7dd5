"""Typeform: the `form_response` webhook.

Signature: `Typeform-Signature: sha256=<base64 HMAC-SHA256 of the raw body>` under the secret
set on the webhook (Typeform signs nothing else, so there is no timestamp to check).
Answers carry the field's id and, where the form author set one, its `ref`; the definition
lists every field, so a question left unanswered is known as such, not missing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from closeloop.connectors.base import Connector, Fetch, Translation
from closeloop.connectors.errors import Ignored, PayloadUnreadable, SignatureInvalid
from closeloop.connectors.inbound import Inbound
from closeloop.connectors.mapping import Rules, default_rule, pick
from closeloop.connectors.record import Record
from closeloop.connectors.registry import register
from closeloop.connectors.signatures import check_digest, decode_signature, hmac_digest, required_header
from closeloop.connectors.spec import SourceSpec
from closeloop.connectors.survey import Survey

SIGNATURE_HEADER = "Typeform-Signature"


def answer_value(answer: dict[str, Any]) -> Any:
    """The value of one answer: it sits under the key its `type` names; choices become their labels."""
    kind = answer.get("type")
    value = answer.get(kind) if isinstance(kind, str) else None
    if kind == "choice" and isinstance(value, dict):
        return value.get("label") or value.get("other")
    if kind == "choices" and isinstance(value, dict):
        labels = list(value.get("labels") or [])
        if value.get("other"):
            labels.append(value["other"])
        return labels
    if kind == "payment" and isinstance(value, dict):
        return value.get("amount")
    return value


@register
class Typeform(Connector):
    slug = "typeform"
    title = "Typeform"
    namespaces = ("ref", "field", "hidden", "variable", "meta")
    default_namespace = "ref"
    answer_namespace = "ref"
    envelope_namespace = "hidden"

    def verify(self, inbound: Inbound, source: SourceSpec, now: datetime) -> None:
        header = required_header(inbound, SIGNATURE_HEADER)
        scheme, _, encoded = header.partition("=")
        if scheme.strip().lower() != "sha256" or not encoded:
            raise SignatureInvalid(f"the {SIGNATURE_HEADER} header is not of the form sha256=<base64>")
        given = decode_signature(encoded.strip(), "base64", SIGNATURE_HEADER)
        check_digest(hmac_digest(source.secret_value(), inbound.body), given, SIGNATURE_HEADER)

    def translate(self, inbound: Inbound, source: SourceSpec, *, survey: Survey, fetch: Fetch) -> Translation:
        data = inbound.json_object()
        event_type = data.get("event_type", "form_response")
        if event_type == "form_response_partial":
            raise Ignored("a partial Typeform response (form_response_partial); only submitted responses are taken")
        if event_type != "form_response":
            raise Ignored(f"Typeform event {event_type!r} is not a response")
        # The Responses API returns the same object without the envelope; accept both.
        response = data.get("form_response", data)
        if not isinstance(response, dict) or not isinstance(response.get("answers", []), list):
            raise PayloadUnreadable("form_response is missing or not an object with an answers list")
        item = self.item(self.record(response), source, survey, inbound)
        return Translation(event_id=str(data.get("event_id") or item.external_id), items=(item,))

    def record(self, response: dict[str, Any]) -> Record:
        by_ref: dict[str, Any] = {}
        by_id: dict[str, Any] = {}
        definition = response.get("definition") or {}
        for spec in definition.get("fields") or []:
            if isinstance(spec, dict):
                # Known but unanswered until an answer says otherwise.
                if spec.get("ref"):
                    by_ref[str(spec["ref"])] = None
                if spec.get("id"):
                    by_id[str(spec["id"])] = None
        refs_by_id = {str(s.get("id")): s.get("ref") for s in definition.get("fields") or [] if isinstance(s, dict)}
        for answer in response.get("answers") or []:
            if not isinstance(answer, dict):
                continue
            field = answer.get("field") or {}
            value = answer_value(answer)
            field_id = str(field.get("id", ""))
            ref = field.get("ref") or refs_by_id.get(field_id)
            if field_id:
                by_id[field_id] = value
            if ref:
                by_ref[str(ref)] = value
        variables = {
            str(v.get("key")): v.get(v.get("type", ""))
            for v in response.get("variables") or []
            if isinstance(v, dict) and v.get("key")
        }
        meta = {
            "token": response.get("token") or response.get("response_id"),
            "form_id": response.get("form_id"),
            "submitted_at": response.get("submitted_at"),
            "landed_at": response.get("landed_at"),
            "score": (response.get("calculated") or {}).get("score"),
            "title": definition.get("title"),
            "ending": (response.get("ending") or {}).get("ref"),
        }
        return Record(
            {
                "ref": by_ref,
                "field": by_id,
                "hidden": dict(response.get("hidden") or {}),
                "variable": variables,
                "meta": meta,
            },
            document=response,
        )

    def default_rules(self, survey: Survey, options: Any) -> Rules:
        return {
            "external_id": default_rule("external_id", pick("meta", "token")),
            "submitted_at": default_rule("submitted_at", pick("meta", "submitted_at")),
        }
