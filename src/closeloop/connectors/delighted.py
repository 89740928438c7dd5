"""Delighted: the `survey_response.created` / `survey_response.updated` webhook.

Signature: `X-Delighted-Webhook-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, keyed
with the account's private API key (no timestamp is signed).

Two phases: the score arrives the moment it is given, the comment and additional answers
usually in a later `.updated` for the same response id. Both translate to the same
external_id; the update is a merge, so the later comment completes the stored response
instead of being ignored as a replay or raising a second case.
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

SIGNATURE_HEADER = "X-Delighted-Webhook-Signature"
CREATED = "survey_response.created"
UPDATED = "survey_response.updated"


def additional_answer(value: dict[str, Any]) -> Any:
    """An additional answer's value: the one of free_response / scale / select_one / select_many that is set."""
    if value.get("free_response") is not None:
        return value["free_response"]
    if value.get("scale") is not None:
        return value["scale"]
    if isinstance(value.get("select_one"), dict):
        return value["select_one"].get("text")
    if isinstance(value.get("select_many"), list):
        return [choice.get("text") for choice in value["select_many"] if isinstance(choice, dict)]
    return None


@register
class Delighted(Connector):
    slug = "delighted"
    title = "Delighted"
    namespaces = ("field", "person", "property", "question")
    default_namespace = "field"
    envelope_namespace = "property"

    def verify(self, inbound: Inbound, source: SourceSpec, now: datetime) -> None:
        header = required_header(inbound, SIGNATURE_HEADER)
        scheme, _, encoded = header.partition("=")
        if scheme.strip().lower() != "sha256" or not encoded:
            raise SignatureInvalid(f"the {SIGNATURE_HEADER} header is not of the form sha256=<hex>")
        given = decode_signature(encoded.strip(), "hex", SIGNATURE_HEADER)
        check_digest(hmac_digest(source.secret_value(), inbound.body), given, SIGNATURE_HEADER)

    def translate(self, inbound: Inbound, source: SourceSpec, *, survey: Survey, fetch: Fetch) -> Translation:
        # Delighted posts JSON; some relays label it as a form, so the body is read as JSON whatever the type.
        data = inbound.json_object()
        event_type = data.get("event_type")
        if event_type not in (CREATED, UPDATED):
            raise Ignored(f"Delighted event {event_type!r} is not a survey response")
        response = data.get("event_data")
        if not isinstance(response, dict):
            raise PayloadUnreadable("event_data is missing or not an object")
        item = self.item(self.record(response), source, survey, inbound)
        # Each delivery of an update has its own event id; without one, the response's own
        # version (its id and updated_at) still tells a retry from a real change.
        event_id = data.get("event_id") or f"{item.external_id}@{response.get('updated_at', '')}"
        return Translation(event_id=str(event_id), items=(item,), merge=event_type == UPDATED)

    def record(self, response: dict[str, Any]) -> Record:
        person = response.get("person")
        # The REST API gives the person's id where the webhook embeds the person.
        person_fields = person if isinstance(person, dict) else {"id": person}
        questions: dict[str, Any] = {}
        for answer in response.get("additional_answers") or []:
            if isinstance(answer, dict) and isinstance(answer.get("question"), dict):
                questions[str(answer["question"].get("id"))] = additional_answer(answer.get("value") or {})
        fields = {key: value for key, value in response.items() if not isinstance(value, dict | list)}
        return Record(
            {
                "field": fields,
                "person": person_fields,
                "property": dict(response.get("person_properties") or {}),
                "question": questions,
            },
            document=response,
        )

    def default_rules(self, survey: Survey, options: Any) -> Rules:
        rules: Rules = {
            "external_id": default_rule("external_id", pick("field", "id")),
            "submitted_at": default_rule("submitted_at", pick("field", "created_at")),
            "customer.id": default_rule("customer.id", pick("person", "id")),
            "customer.name": default_rule("customer.name", pick("person", "name")),
            "customer.email": default_rule("customer.email", pick("person", "email")),
            "customer.phone": default_rule("customer.phone", pick("person", "phone_number")),
        }
        score, comment = survey.score_question(), survey.comment_question()
        if score:
            # Delighted's scores are 0..10 (NPS); onto a 1..5 scale they are rescaled, onto nps kept.
            spec = survey.questions[score]
            options_for_score = {"scale": (0.0, 10.0)} if spec.type == "scale" else {}
            rules[f"answers.{score}"] = default_rule(f"answers.{score}", pick("field", "score", **options_for_score))
        if comment:
            rules[f"answers.{comment}"] = default_rule(f"answers.{comment}", pick("field", "comment"))
        return rules
