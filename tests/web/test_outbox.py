"""The outbox page (admins only) and retrying a failed delivery."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client

from closeloop.notify.models import Delivery
from tests.web.conftest import ingest


def test_admins_see_every_delivery_with_status_attempts_and_error(admin_client_acme: Client) -> None:
    ingest()
    failed = Delivery.objects.filter(status="pending").first()
    Delivery.objects.filter(pk=failed.pk).update(status="failed", attempts=8, last_error="550 no such user")
    page = admin_client_acme.get("/outbox/").content.decode()
    assert "550 no such user" in page
    assert f'action="/outbox/{failed.pk}/retry"' in page
    assert page.count("/retry") == 1
    only_failed = admin_client_acme.get("/outbox/?status=failed").content.decode()
    assert only_failed.count('<tr class="delivery-') == 1


def test_retry_puts_a_failed_delivery_back_in_the_queue(admin_client_acme: Client) -> None:
    ingest()
    delivery = Delivery.objects.filter(status="pending").first()
    Delivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=8, next_attempt_at=None)
    response = admin_client_acme.post(f"/outbox/{delivery.pk}/retry", follow=True)
    assert b"is queued again" in response.content
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert delivery.next_attempt_at is not None


def test_only_failed_deliveries_are_retried(admin_client_acme: Client) -> None:
    ingest()
    sent = Delivery.objects.filter(status="pending").first()
    Delivery.objects.filter(pk=sent.pk).update(status="sent", attempts=1)
    response = admin_client_acme.post(f"/outbox/{sent.pk}/retry", follow=True)
    assert b"had not failed" in response.content
    sent.refresh_from_db()
    assert (sent.status, sent.attempts) == ("sent", 1)


def test_leads_may_not_retry(erin: Client) -> None:
    ingest()
    delivery = Delivery.objects.first()
    assert erin.post(f"/outbox/{delivery.pk}/retry").status_code == 403


def test_the_outbox_page_shows_how_many_messages_wait_and_since_when(admin_client_acme: Client) -> None:
    import time_machine

    ingest()
    waiting = Delivery.objects.filter(status="pending").count()
    oldest = Delivery.objects.filter(status="pending").order_by("created_at").first().created_at
    with time_machine.travel(oldest + timedelta(hours=23, minutes=5), tick=False):
        page = admin_client_acme.get("/outbox/").content.decode()
    assert f"<strong>{waiting} waiting to be sent</strong>, the oldest planned " in page
    assert "(23\xa0hours, 5\xa0minutes ago)." in page


def test_without_a_mail_server_the_outbox_says_messages_are_kept_not_sent(admin_client_acme: Client) -> None:
    from django.utils import timezone

    from closeloop.worker.runner import run_due_work

    ingest()
    run_due_work(timezone.now())
    page = admin_client_acme.get("/outbox/").content.decode()
    assert "No mail server is configured" in page and "emails are kept here, not sent" in page
    assert "Kept here, not sent" in page and "delivery-status-kept" in page
    assert "Sent</span>" not in page
    delivery = Delivery.objects.filter(channel="email").exclude(text="").first()
    assert delivery.text.splitlines()[0] in page and "Show the message" in page
    kept = admin_client_acme.get("/outbox/?status=kept").content.decode()
    assert kept.count('<tr class="delivery-') == Delivery.objects.filter(status="sent").count()
    assert admin_client_acme.get("/outbox/?status=sent").content.decode().count('<tr class="delivery-') == 0


def test_with_a_mail_server_the_outbox_does_not_warn(admin_client_acme: Client, settings) -> None:
    settings.EMAIL_SERVER = object()
    settings.SMS_URL = "json://127.0.0.1:9/sms/{phone}"
    assert b"No mail server is configured" not in admin_client_acme.get("/outbox/").content
