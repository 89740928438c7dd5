"""A customer's right to their data: everything stored about them, and erasure, each recorded in the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from closeloop.alerts.models import Alert
from closeloop.audit.log import record
from closeloop.audit.models import AuditEvent
from closeloop.cases.privacy import cases_data, erase_case_words
from closeloop.feedback.models import Customer, Response
from closeloop.feedback.privacy import customer_by_external_id, customer_data, erase_customer
from closeloop.feedback.recordings import delete_recording
from closeloop.loop.privacy import erase_quotes, loop_data
from closeloop.notify.models import Delivery
from closeloop.notify.privacy import erase_messages


class UnknownCustomer(LookupError):
    """No customer has this id."""


def _customer(external_id: str) -> Customer:
    customer = customer_by_external_id(external_id)
    if customer is None:
        raise UnknownCustomer(f"no customer {external_id!r}")
    return customer


def export_customer(external_id: str, *, actor_name: str, now: datetime) -> dict[str, Any]:
    """Everything stored about one customer, as plain data; the export itself is recorded."""
    with transaction.atomic():
        customer = _customer(external_id)
        data = customer_data(customer)
        response_ids = [response["id"] for response in data["responses"]]
        cases = cases_data(response_ids)
        alert_ids = list(Alert.objects.filter(response_id__in=response_ids).values_list("id", flat=True))
        refs = [f"case:{case['id']}" for case in cases]
        messages = (Delivery.objects.filter(alert_id__in=alert_ids) | Delivery.objects.filter(ref__in=refs)).order_by(
            "created_at", "id"
        )
        data |= {
            "cases": cases,
            "messages": [
                {
                    "channel": m.channel,
                    "to": m.address,
                    "subject": m.subject,
                    "text": m.text,
                    "status": m.status,
                    "created_at": m.created_at.isoformat(),
                    "sent_at": m.sent_at.isoformat() if m.sent_at else None,
                }
                for m in messages
            ],
            **loop_data(customer, [case["id"] for case in cases]),
        }
        record(AuditEvent.Action.EXPORTED, target=f"customer:{external_id}", now=now, actor_name=actor_name)
    return data


def erase_customer_data(external_id: str, *, actor_name: str, now: datetime) -> dict[str, int]:
    """Remove the customer's name, contact details, words and recordings everywhere, in one transaction.

    Scores, dates and the shape of every case's timeline stay, so reports still count what happened."""
    with transaction.atomic():
        customer = _customer(external_id)
        # The uploaded files first, while the responses still name them: a voice identifies the customer.
        recordings = sum(delete_recording(response) for response in Response.objects.filter(customer=customer))
        erased = erase_customer(customer)
        case_ids = erase_case_words(erased.response_ids)
        alert_ids = list(Alert.objects.filter(response_id__in=erased.response_ids).values_list("id", flat=True))
        messages = erase_messages(
            alert_ids=alert_ids, refs=[f"case:{pk}" for pk in case_ids], addresses=erased.addresses
        )
        quotes = erase_quotes(erased.response_ids)
        summary = {
            "responses": len(erased.response_ids),
            "cases": len(case_ids),
            "messages": messages,
            "spikes": quotes,
            "recordings": recordings,
        }
        # The log names the erased record by its new id: the old one may itself be personal (an email address).
        record(
            AuditEvent.Action.ERASED,
            target=f"customer:{customer.external_id}",
            now=now,
            actor_name=actor_name,
            detail=summary,
        )
    return summary
