"""Formbricks: the `responseCreated` / `responseUpdated` / `responseFinished` webhook.

Signature: Standard Webhooks — `webhook-id`, `webhook-timestamp` (Unix seconds) and
`webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` under the webhook's
`whsec_…` secret; several space-separated signatures may come during a secret rotation. The
timestamp must be within the source's tolerance; `webhook-id` is the same on every retry,
so it is the event id.
"""

from __future__ import annotations

import binascii
import hmac
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook

from closeloop.connectors.base import Connector, Fetch, Translation, body_digest
from closeloop.connectors.errors import Ignored, PayloadUnreadable, SignatureInvalid
from closeloop.connectors.inbound import Inbound
from closeloop.connectors.mapping import Item, Rules, default_rule, pick
from closeloop.connectors.record import Record
from closeloop.connectors.registry import register
from closeloop.connectors.signatures import (
    check_timestamp,
    decode_signature,
    required_header,
)
from closeloop.connectors.spec import SourceSpec
from closeloop.connectors.survey import Survey

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
EVENTS = ("responseCreated", "responseUpdated", "responseFinished")


class FormbricksOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Take unfinished responses too (each later event updates the same response).
    partial: bool = False


def signer(secret: str) -> Webhook:
    try:
        return Webhook(secret)
    except (binascii.Error, ValueError, EmptyWebhookSecretError, RuntimeError):
        raise SignatureInvalid("the source's secret is not a Standard Webhooks secret (whsec_<base64>)") from None


@register
class Formbricks(Connector):
    slug = "formbricks"
    title = "Formbricks"
    namespaces = ("question", "contact", "variable", "meta")
    default_namespace = "question"
    answer_namespace = "question"
    # Hidden fields arrive among the answers, under the id the author gave them.
    envelope_namespace = "question"
    options_model = FormbricksOptions

    def secret_problem(self, secret: str) -> str | None:
        try:
            signer(secret)
        except SignatureInvalid as exc:
            return exc.reason
        return None

    def verify(self, inbound: Inbound, source: SourceSpec, now: datetime) -> None:
        message_id = required_header(inbound, ID_HEADER)
        stamp = required_header(inbound, TIMESTAMP_HEADER)
        signatures = required_header(inbound, SIGNATURE_HEADER)
        moment = check_timestamp(stamp, now=now, tolerance=source.tolerance_delta, header=TIMESTAMP_HEADER)
        try:
            text = inbound.body.decode("utf-8")
        except UnicodeDecodeError:
            raise SignatureInvalid("the body is not UTF-8, so it is not what Formbricks signed") from None
        expected = signer(source.secret_value()).sign(message_id, moment, text).partition(",")[2]
        expected_bytes = decode_signature(expected, "base64", SIGNATURE_HEADER)
        versioned = [part.partition(",") for part in signatures.split()]
        candidates = [signature for version, _, signature in versioned if version == "v1" and signature]
        if not candidates:
            raise SignatureInvalid(f"the {SIGNATURE_HEADER} header has no v1,<base64> signature")
        # Several signatures come while a secret is being rotated; any one of them will do.
        for candidate in candidates:
            if hmac.compare_digest(expected_bytes, decode_signature(candidate, "base64", SIGNATURE_HEADER)):
                return
        raise SignatureInvalid(
            f"the {SIGNATURE_HEADER} signature does not match the body (wrong secret, or the body was changed)"
        )

    def translate(self, inbound: Inbound, source: SourceSpec, *, survey: Survey, fetch: Fetch) -> Translation:
        data = inbound.json()
        # The documentation shows each event inside a one-element array; deliveries are the object.
        events = data if isinstance(data, list) else [data]
        partial = bool(source.settings.partial)
        items: list[Item] = []
        skipped: list[str] = []
        for event in events:
            if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
                raise PayloadUnreadable("expected {event, data} with the response object in data")
            name = event.get("event")
            response = event["data"]
            if name not in EVENTS:
                skipped.append(f"Formbricks event {name!r} is not a response event")
                continue
            finished = response.get("finished", name == "responseFinished")
            if not finished and not partial:
                skipped.append(f"an unfinished Formbricks response ({name}); set options.partial to take those")
                continue
            items.append(self.item(self.record(response), source, survey, inbound))
        if not items:
            raise Ignored("; ".join(skipped) or "no response in the body")
        event_id = inbound.headers.get(ID_HEADER) or body_digest(inbound.body)
        return Translation(event_id=event_id, items=tuple(items), merge=partial)

    def record(self, response: dict[str, Any]) -> Record:
        contact = dict(response.get("contactAttributes") or {})
        person = response.get("contact") or {}
        if isinstance(person, dict):
            contact.setdefault("id", person.get("id"))
            contact.setdefault("userId", person.get("userId"))
        meta_block = response.get("meta") or {}
        name = " ".join(str(contact[k]) for k in ("firstName", "lastName") if contact.get(k))
        meta = {
            "id": response.get("id"),
            "surveyId": response.get("surveyId"),
            "createdAt": response.get("createdAt"),
            "updatedAt": response.get("updatedAt"),
            "finished": response.get("finished"),
            "language": response.get("language"),
            "displayId": response.get("displayId"),
            "endingId": response.get("endingId"),
            "country": meta_block.get("country"),
            "url": meta_block.get("url"),
            "source": meta_block.get("source"),
            "action": meta_block.get("action"),
            "contact_name": name or None,
            "survey_title": (response.get("survey") or {}).get("title"),
        }
        return Record(
            {
                "question": dict(response.get("data") or {}),
                "contact": contact,
                "variable": dict(response.get("variables") or {}),
                "meta": meta,
            },
            document=response,
        )

    def default_rules(self, survey: Survey, options: Any) -> Rules:
        return {
            "external_id": default_rule("external_id", pick("meta", "id")),
            "submitted_at": default_rule("submitted_at", pick("meta", "updatedAt"), pick("meta", "createdAt")),
            "customer.id": default_rule("customer.id", pick("contact", "userId"), pick("contact", "id")),
            "customer.email": default_rule("customer.email", pick("contact", "email")),
            "customer.name": default_rule("customer.name", pick("meta", "contact_name")),
        }
