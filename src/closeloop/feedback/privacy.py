"""A customer's data in the feedback tables: everything stored about them, and erasing what identifies them.

Erasing keeps what the reports count (scores, yes/no and choice answers, dates, units, tiers) and removes what
identifies the customer or is their own words: name, email, phone, the id their survey tool gave them, free-text
answers, interviewer notes and recordings.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from closeloop.feedback.models import Customer, Question, Response
from closeloop.feedback.text_judgements import without_words

ERASED = "erased"


def customer_by_external_id(external_id: str) -> Customer | None:
    return Customer.objects.filter(external_id=external_id).first()


def customer_data(customer: Customer) -> dict[str, Any]:
    """The customer and every response they gave, as stored."""
    responses = Response.objects.filter(customer=customer).select_related("survey", "unit").order_by("submitted_at")
    return {
        "customer": {
            "id": customer.external_id,
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "tier": customer.tier,
            "contact_ok": customer.contact_ok,
            "updated_at": customer.updated_at.isoformat(),
        },
        "responses": [
            {
                "id": response.pk,
                "survey": response.survey.key,
                "external_id": response.external_id,
                "source": response.source,
                "submitted_at": response.submitted_at.isoformat(),
                "received_at": response.received_at.isoformat(),
                "unit": response.unit.code if response.unit is not None else response.unit_code,
                "segment": response.segment,
                "agent": response.agent_code,
                "ticket": response.ticket,
                # The details and consent this response gave: what the surfaces show with it.
                "customer": {
                    "name": response.customer_name,
                    "email": response.customer_email,
                    "phone": response.customer_phone,
                    "contact_ok": response.contact_ok,
                },
                "answers": response.answers,
                "interviewer_notes": response.interviewer_notes,
                "interviewer_flag": response.interviewer_flag,
                "audio_url": response.audio_url,
                "status": response.status,
                "problems": response.problems,
                "text_judgement": response.text_judgement,
            }
            for response in responses
        ],
    }


@dataclass(frozen=True)
class ErasedFeedback:
    response_ids: list[int]
    # The contact details as they were, so messages sent to the customer can be found and emptied too.
    addresses: set[str]


def erase_customer(customer: Customer) -> ErasedFeedback:
    """Remove what identifies the customer from their record and responses. Call inside a transaction."""
    responses = list(Response.objects.filter(customer=customer))
    # Each response's own copy too: a sender may have given details the record never took.
    addresses = {
        value
        for value in (
            customer.email,
            customer.phone,
            *(r.customer_email for r in responses),
            *(r.customer_phone for r in responses),
        )
        if value
    }
    text_questions: dict[int, set[str]] = {}
    for survey_id, key in Question.objects.filter(
        survey_id__in={r.survey_id for r in responses}, type=Question.Type.TEXT
    ).values_list("survey_id", "key"):
        text_questions.setdefault(survey_id, set()).add(key)
    for response in responses:
        words = text_questions.get(response.survey_id, set())
        response.answers = {
            key: (ERASED if key in words and isinstance(value, str) and value else value)
            for key, value in (response.answers or {}).items()
        }
        response.interviewer_notes = ERASED if response.interviewer_notes else ""
        response.audio_url = ""
        response.customer_name = response.customer_email = response.customer_phone = ""
        response.contact_ok = False
        # The text model's judgement quotes the words it heard: the label and score stay, the sentences go.
        response.text_judgement = without_words(response.text_judgement or {}, ERASED)
    Response.objects.bulk_update(
        responses,
        [
            "answers",
            "interviewer_notes",
            "audio_url",
            "customer_name",
            "customer_email",
            "customer_phone",
            "contact_ok",
            "text_judgement",
        ],
    )
    # A random id: the survey tool's id (often an email address) identifies the customer too, and a later
    # response under the same id must start a new record, not rejoin the erased one.
    customer.external_id = f"erased-{secrets.token_hex(8)}"
    customer.name = customer.email = customer.phone = ""
    customer.contact_ok = False
    customer.save(update_fields=["external_id", "name", "email", "phone", "contact_ok"])
    return ErasedFeedback([r.pk for r in responses], addresses)
