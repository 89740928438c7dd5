"""Freshdesk CSAT: an automation rule's "Trigger webhook" on customer feedback, or satisfaction rating objects.

Freshdesk signs nothing: its webhook action can add custom headers, so the source's secret
comes in an `X-Closeloop-Token` header (or `?token=` in the URL), compared in constant time.

Ratings use Freshdesk's scale 103 (Extremely happy), 102, 101, 100 (Neutral), -101, -102,
-103 (Extremely unhappy); it is not evenly spaced, so by default it is mapped by rank
(`points`) onto the target question. The API's own example carries a malformed time
(`2015-08-28T010:08:16Z`); it is read as 10:08:16.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from closeloop.connectors.base import Connector, Fetch, Translation, body_digest
from closeloop.connectors.errors import Ignored, PayloadUnreadable
from closeloop.connectors.inbound import Inbound
from closeloop.connectors.mapping import Item, Pick, Rules, default_rule, pick
from closeloop.connectors.record import Record
from closeloop.connectors.registry import register
from closeloop.connectors.signatures import check_token
from closeloop.connectors.spec import SourceSpec
from closeloop.connectors.survey import Survey

POINTS = (-103.0, -102.0, -101.0, 100.0, 101.0, 102.0, 103.0)
LABELS = {
    "extremely happy": 103,
    "very happy": 102,
    "happy": 101,
    "neutral": 100,
    "unhappy": -101,
    "very unhappy": -102,
    "extremely unhappy": -103,
}
RATING_KEYS = ("rating", "satisfaction_rating", "customer_rating")


def rating_number(value: Any) -> Any:
    """A rating as Freshdesk's number; labels ("Very Happy") become theirs, anything else stays as sent."""
    if isinstance(value, str):
        text = value.strip()
        return LABELS.get(text.casefold(), text)
    return value


@register
class Freshdesk(Connector):
    slug = "freshdesk"
    title = "Freshdesk"
    namespaces = ("field", "rating", "meta")
    default_namespace = "field"
    envelope_namespace = "field"

    def verify(self, inbound: Inbound, source: SourceSpec, now: datetime) -> None:
        check_token(inbound, source.secret_value())

    def translate(self, inbound: Inbound, source: SourceSpec, *, survey: Survey, fetch: Fetch) -> Translation:
        data = inbound.json()
        if isinstance(data, list):
            ratings = data
        elif isinstance(data, dict) and isinstance(data.get("freshdesk_webhook"), dict):
            ratings = [data["freshdesk_webhook"]]
        elif isinstance(data, dict) and isinstance(data.get("satisfaction_rating"), dict):
            ratings = [data["satisfaction_rating"]]
        elif isinstance(data, dict):
            ratings = [data]
        else:
            raise PayloadUnreadable(f"expected a JSON object or list, got a JSON {type(data).__name__}")
        items: list[Item] = []
        for rating in ratings:
            if not isinstance(rating, dict):
                raise PayloadUnreadable("a satisfaction rating is not an object")
            record = self.record(rating)
            if not record.namespaces["rating"]:
                continue
            items.append(self.item(record, source, survey, inbound))
        if not items:
            raise Ignored("no satisfaction rating in the request (a ticket event without customer feedback)")
        ids = [str(rating.get("id")) for rating in ratings if isinstance(rating, dict) and rating.get("id")]
        templated = len(ids) != len(ratings)
        event_id = f"freshdesk-rating-{ids[0]}" if len(ratings) == 1 and ids else body_digest(inbound.body)
        # A rule's webhook has no rating id, only the ticket: a later rating of it updates the response.
        return Translation(event_id=event_id, items=tuple(items), merge=templated)

    def record(self, rating: dict[str, Any]) -> Record:
        fields = {key: value for key, value in rating.items() if not isinstance(value, dict | list)}
        ratings: dict[str, Any] = {}
        if isinstance(rating.get("ratings"), dict):
            ratings.update({key: rating_number(value) for key, value in rating["ratings"].items()})
        for key in RATING_KEYS:
            if key in rating and not isinstance(rating[key], dict | list) and str(rating[key]).strip():
                ratings.setdefault("default_question", rating_number(rating[key]))
        rating_id = str(rating.get("id") or "").strip()
        ticket_id = str(rating.get("ticket_id") or "").strip()
        meta = {"external_id": rating_id or (f"freshdesk-ticket-{ticket_id}" if ticket_id else None)}
        return Record({"field": fields, "rating": ratings, "meta": meta}, document=rating)

    def default_rules(self, survey: Survey, options: Any) -> Rules:
        rules: Rules = {
            "external_id": default_rule("external_id", pick("meta", "external_id")),
            "submitted_at": default_rule("submitted_at", pick("field", "created_at"), pick("field", "updated_at")),
            "ticket": default_rule("ticket", pick("field", "ticket_id")),
            "customer.id": default_rule("customer.id", pick("field", "user_id"), pick("field", "requester_id")),
            "customer.name": default_rule("customer.name", pick("field", "requester_name")),
            "customer.email": default_rule("customer.email", pick("field", "requester_email")),
        }
        score, comment = survey.score_question(), survey.comment_question()
        if score:
            rules[f"answers.{score}"] = default_rule(f"answers.{score}", score_pick(survey.questions[score].type))
        if comment:
            rules[f"answers.{comment}"] = default_rule(f"answers.{comment}", pick("field", "feedback"))
        return rules


def score_pick(question_type: str) -> Pick:
    if question_type == "yes_no":
        # Happy or unhappy; Neutral (100) has no yes/no and is reported as a problem.
        table = {str(int(p)): ("top" if p > 100 else "bottom") for p in POINTS if p != 100}
        return pick("rating", "default_question", values=table)
    return pick("rating", "default_question", points=POINTS)
