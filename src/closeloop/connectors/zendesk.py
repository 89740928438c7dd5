"""Zendesk CSAT: a trigger's webhook ("Satisfaction is Bad with comment", ...) or satisfaction rating objects.

Signature: `X-Zendesk-Webhook-Signature` = base64(HMAC-SHA256 of timestamp + raw body) under
the webhook's signing secret, with the timestamp (ISO 8601) in
`X-Zendesk-Webhook-Signature-Timestamp`; it must be within the source's tolerance.

Zendesk's legacy CSAT has no fixed webhook body: the admin writes it from placeholders. The
body recommended in the documentation has the shape of the API's satisfaction rating, so
the same reader takes a trigger's request, one rating (`{"satisfaction_rating": {...}}`, or the
bare object) and a page of the list endpoint (`{"satisfaction_ratings": [...]}`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from closeloop.connectors.base import Connector, Fetch, Translation, body_digest
from closeloop.connectors.errors import Ignored, PayloadUnreadable
from closeloop.connectors.inbound import Inbound
from closeloop.connectors.mapping import Item, Rules, default_rule, pick
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

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
RATED = ("good", "bad")


def rating_word(score: Any) -> str:
    """good, bad, or what else the score says: the placeholder renders "Good, I'm satisfied"."""
    text = str(score or "").strip()
    return text.split(",")[0].split()[0].casefold() if text else ""


@register
class Zendesk(Connector):
    slug = "zendesk"
    title = "Zendesk"
    namespaces = ("field", "ticket", "requester", "meta")
    default_namespace = "field"
    envelope_namespace = "ticket"

    def verify(self, inbound: Inbound, source: SourceSpec, now: datetime) -> None:
        signature = required_header(inbound, SIGNATURE_HEADER)
        stamp = required_header(inbound, TIMESTAMP_HEADER)
        check_timestamp(stamp, now=now, tolerance=source.tolerance_delta, header=TIMESTAMP_HEADER)
        given = decode_signature(signature, "base64", SIGNATURE_HEADER)
        expected = hmac_digest(source.secret_value(), stamp.encode("utf-8") + inbound.body)
        check_digest(expected, given, SIGNATURE_HEADER)

    def translate(self, inbound: Inbound, source: SourceSpec, *, survey: Survey, fetch: Fetch) -> Translation:
        data = inbound.json_object()
        if isinstance(data.get("satisfaction_ratings"), list):
            ratings = data["satisfaction_ratings"]
        elif isinstance(data.get("satisfaction_rating"), dict):
            ratings = [data["satisfaction_rating"]]
        elif "score" in data:
            ratings = [data]
        else:
            raise PayloadUnreadable(
                "no satisfaction rating: expected satisfaction_rating, satisfaction_ratings or a score"
            )
        items: list[Item] = []
        unrated = []
        for rating in ratings:
            if not isinstance(rating, dict):
                raise PayloadUnreadable("a satisfaction rating is not an object")
            word = rating_word(rating.get("score"))
            if word not in RATED:
                unrated.append(f"ticket {rating.get('ticket_id')}: {word or 'no rating'}")
                continue
            items.append(self.item(self.record(data, rating, word), source, survey, inbound))
        if not items:
            raise Ignored("no good or bad rating (" + "; ".join(unrated) + ")")
        # A customer may change the rating: the later request updates the same response.
        return Translation(event_id=body_digest(inbound.body), items=tuple(items), merge=True)

    def record(self, data: dict[str, Any], rating: dict[str, Any], word: str) -> Record:
        fields = {key: value for key, value in rating.items() if not isinstance(value, dict | list)}
        fields["score_text"] = rating.get("score")
        fields["score"] = word
        rating_id = str(rating.get("id") or "").strip()
        ticket_id = str(rating.get("ticket_id") or "").strip()
        meta = {"external_id": rating_id or (f"zendesk-ticket-{ticket_id}" if ticket_id else None)}
        ticket = _object(data.get("ticket"))
        requester = _object(data.get("requester"))
        return Record({"field": fields, "ticket": ticket, "requester": requester, "meta": meta}, document=data)

    def default_rules(self, survey: Survey, options: Any) -> Rules:
        rules: Rules = {
            "external_id": default_rule("external_id", pick("meta", "external_id")),
            "submitted_at": default_rule("submitted_at", pick("field", "updated_at"), pick("field", "created_at")),
            "ticket": default_rule("ticket", pick("field", "ticket_id")),
            "customer.id": default_rule("customer.id", pick("requester", "id"), pick("field", "requester_id")),
            "customer.name": default_rule("customer.name", pick("requester", "name")),
            "customer.email": default_rule("customer.email", pick("requester", "email")),
            "customer.phone": default_rule("customer.phone", pick("requester", "phone")),
        }
        score, comment = survey.score_question(), survey.comment_question()
        if score:
            table = {"good": "top", "bad": "bottom"}
            rules[f"answers.{score}"] = default_rule(f"answers.{score}", pick("field", "score", values=table))
        if comment:
            rules[f"answers.{comment}"] = default_rule(f"answers.{comment}", pick("field", "comment"))
        return rules


def _object(value: object) -> dict[str, Any]:
    """A JSON object of the payload, or an empty one where the tool sent something else."""
    return value if isinstance(value, dict) else {}
