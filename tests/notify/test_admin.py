from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from closeloop.notify.models import Delivery
from closeloop.notify.outbox import enqueue, retry_now
from tests.notify.conftest import NOW, later

pytestmark = pytest.mark.django_db


def failed_delivery(key: str = "f1") -> Delivery:
    delivery = enqueue(channel="email", address="a@acme.example", subject="Recovery", idempotency_key=key, now=NOW)
    Delivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=8, next_attempt_at=None, last_error="550")
    return delivery


def test_the_outbox_lists_and_shows_deliveries_read_only(admin_client):
    delivery = failed_delivery()
    listing = admin_client.get(reverse("admin:notify_delivery_changelist"))
    assert listing.status_code == 200
    assert b"Recovery" in listing.content
    detail = admin_client.get(reverse("admin:notify_delivery_change", args=[delivery.pk]))
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert admin_client.post(reverse("admin:notify_delivery_delete", args=[delivery.pk])).status_code == 403


def test_send_again_from_the_outbox_makes_a_failed_delivery_due_now(admin_client):
    delivery = failed_delivery()
    response = admin_client.post(
        reverse("admin:notify_delivery_changelist"),
        {"action": "send_again", "_selected_action": [delivery.pk]},
    )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at is not None) == ("pending", 0, True)


def test_retry_now_leaves_sent_deliveries_alone():
    sent = enqueue(channel="email", address="a@acme.example", idempotency_key="s1", now=NOW)
    Delivery.objects.filter(pk=sent.pk).update(status="sent")
    assert retry_now([sent, failed_delivery()], later(1)) == 1
    assert Delivery.objects.get(pk=sent.pk).status == "sent"


def test_the_admin_outbox_heads_the_list_with_the_backlog_and_its_age(admin_client):
    for number, hours in enumerate((23, 5)):
        enqueue(
            channel="email",
            address="a@acme.example",
            subject=f"waiting {number}",
            idempotency_key=f"w{number}",
            now=NOW - timedelta(hours=hours),
        )
    Delivery.objects.filter(idempotency_key="w0").update(failing_since=NOW - timedelta(hours=23))
    failed_delivery()
    with time_machine.travel(NOW, tick=False):
        listing = admin_client.get(reverse("admin:notify_delivery_changelist")).content.decode()
    assert "<strong>2 waiting to be sent</strong>, the oldest planned 22 Nov 11:00 (23" in listing
    assert "hours ago); 1 of them failed before and are being retried." in listing


def test_the_admin_outbox_says_when_nothing_waits(admin_client):
    failed_delivery()
    listing = admin_client.get(reverse("admin:notify_delivery_changelist")).content.decode()
    assert "Nothing is waiting to be sent." in listing
