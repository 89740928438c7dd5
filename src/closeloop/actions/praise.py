"""Sharing a customer's praise ("magical moment") with the whole team of the praised unit."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from closeloop.alerts.messages import answer_lines
from closeloop.alerts.models import Alert
from closeloop.core.routing import praise_recipients
from closeloop.notify.links import absolute_url
from closeloop.notify.models import Delivery
from closeloop.notify.outbox import enqueue, link_alerts
from closeloop.notify.render import Message, make_message
from closeloop.org.directory import directory
from closeloop.org.models import Person


def praise_message(alert: Alert, shared_by: Person | None) -> Message:
    response = alert.response
    return make_message(
        "praise",
        {
            "agent": response.agent.name if response.agent is not None else "",
            "words": [line.value for line in answer_lines(response) if line.is_text],
            "unit_name": alert.unit.name if alert.unit is not None else "",
            "response_url": absolute_url("response", response.pk),
            "shared_by": shared_by.name if shared_by else "",
        },
    )


def share_praise(alert: Alert, *, actor: Person | None, now: datetime) -> tuple[int, int]:
    """Email the praise to the unit's team through the outbox; returns (new messages, people reached).

    One message per person and alert, ever: sharing twice does not send twice.
    """
    message = praise_message(alert, actor)
    org = directory()
    team = org.people_by_key(set(praise_recipients(alert.unit.code if alert.unit is not None else None, org.tree)))
    recipients = sorted((person for person in team.values() if person.email), key=lambda person: person.key)
    created = 0
    with transaction.atomic():
        for person in recipients:
            key = f"praise-share:{alert.pk}:{person.key}:email"
            existed = Delivery.objects.filter(idempotency_key=key).exists()
            enqueue(
                channel="email",
                address=person.email,
                subject=message.subject,
                text=message.text,
                idempotency_key=key,
                now=now,
                topic="praise",
                alert=alert,
                ref=f"praise:{alert.pk}",
                person=person,
            )
            created += not existed
        # A shared kudos is one more message about the alert: it is listed with the alert's recipients.
        link_alerts({f"praise-share:{alert.pk}:{person.key}:email": [alert.pk] for person in recipients})
    return created, len(recipients)
