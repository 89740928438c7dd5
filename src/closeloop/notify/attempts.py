"""The history of a delivery: one row per attempt, and what a permanent SMS failure leads to.

The worker writes each attempt's outcome in one place (closeloop.notify.dispatch.record), in one
transaction with the delivery's guarded update and only if that update matched (a worker whose claim
was taken over writes no attempt): the delivery row keeps its latest state, the attempt rows keep
every try with its time and error. An SMS that can never be delivered (a permanent error: a number the
provider refuses) is sent to the same person by email instead, so the message still reaches them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from closeloop.notify.channels.base import DeliveryError, PermanentError, SendResult
from closeloop.notify.models import Delivery, DeliveryAttempt
from closeloop.notify.outbox import enqueue

IDEMPOTENCY_KEY_MAX: int = Delivery._meta.get_field("idempotency_key").max_length or 200


def attempt_for(delivery: Delivery, outcome: SendResult | DeliveryError, now: datetime) -> DeliveryAttempt:
    """The (unsaved) attempt row of `delivery`'s outcome; claimed, so `attempts` is its number."""
    if isinstance(outcome, SendResult):
        return DeliveryAttempt(
            delivery=delivery,
            number=delivery.attempts,
            at=outcome.accepted_at,
            outcome=DeliveryAttempt.Outcome.SENT,
            provider_id=outcome.provider_id[:300],
        )
    permanent = isinstance(outcome, PermanentError)
    return DeliveryAttempt(
        delivery=delivery,
        number=delivery.attempts,
        at=getattr(outcome, "at", now),
        outcome=DeliveryAttempt.Outcome.PERMANENT if permanent else DeliveryAttempt.Outcome.TEMPORARY,
        error=str(outcome)[:2000],
    )


def leads_to_fallback(delivery: Delivery, outcome: SendResult | DeliveryError) -> bool:
    """True when recording this outcome also enqueues the message by email (an SMS that can never be delivered)."""
    return isinstance(outcome, PermanentError) and delivery.channel == "sms"


def record_attempt(delivery: Delivery, outcome: SendResult | DeliveryError, now: datetime) -> DeliveryAttempt:
    """Keep this attempt of `delivery` (claimed, so `attempts` is its number); call where outcomes are written."""
    attempt = attempt_for(delivery, outcome, now)
    attempt.save(force_insert=True)
    if isinstance(outcome, PermanentError) and leads_to_fallback(delivery, outcome):
        email_instead(delivery, outcome, now)
    return attempt


def fallback_key(delivery: Delivery) -> str:
    key = f"{delivery.idempotency_key}:fallback:email"
    return key if len(key) <= IDEMPOTENCY_KEY_MAX else f"fallback:{hashlib.sha256(key.encode()).hexdigest()}"


def email_instead(delivery: Delivery, error: DeliveryError, now: datetime) -> Delivery | None:
    """The undeliverable SMS, by email to the same person, saying why; None when they have no email address."""
    person = delivery.person
    if person is None or not person.email:
        return None
    about = delivery.subject or delivery.text.split("\n", 1)[0][:120]
    text = (
        f"A text message to {delivery.address} could not be delivered ({error}), so here it is by email.\n\n"
        f"{delivery.text}\n\n"
        "If that number is wrong, ask an administrator to correct it in the configuration.\n"
    )
    return enqueue(
        channel="email",
        address=person.email,
        subject=f"Text message not delivered: {about}",
        text=text,
        idempotency_key=fallback_key(delivery),
        now=now,
        topic=delivery.topic,
        alert=delivery.alert,
        ref=delivery.ref,
        person=person,
    )
