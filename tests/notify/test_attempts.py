"""Every attempt of a delivery is kept (time, outcome, error) and shown; `sent_at` is when the provider took
the message; an SMS that can never be delivered goes to the person by email instead."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from closeloop.alerts.models import Alert
from closeloop.notify.models import AppendOnlyAttemptError, Delivery, DeliveryAttempt
from closeloop.notify.outbox import enqueue
from closeloop.org.models import Person
from closeloop.worker.runner import run_due_work
from tests import factories
from tests.helpers import ApiClient, create_token
from tests.notify.conftest import NOW, later
from tests.web.conftest import login_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def sms(settings, http_sink):
    settings.SMS_URL = f"json://127.0.0.1:{http_sink.port}/sms/{{phone}}"
    return http_sink


def unhappy_gold_customer() -> Alert:
    """A failed installation: a high alert, so Erin gets an email and an SMS."""
    response = factories.ingest(
        {"ease": 3, "completed": False, "comment": "It failed twice."},
        at=NOW,
        n=1,
        prefix="att",
        customer={"id": "C-1", "name": "Pat Lee", "tier": "Silver", "contact_ok": True},
        agent=None,
    )
    return Alert.objects.get(response=response, rule_key="install-failed")


def test_each_attempt_is_kept_with_its_time_outcome_and_error(smtp) -> None:
    smtp.defer_next = 1
    delivery = enqueue(channel="email", address="a@acme.example", subject="Hello", idempotency_key="a1", now=NOW)
    with time_machine.travel(NOW):
        run_due_work(NOW)
    with time_machine.travel(later(1)):
        run_due_work(later(1))
    attempts = list(DeliveryAttempt.objects.filter(delivery=delivery))
    assert [(a.number, a.outcome) for a in attempts] == [(1, "temporary"), (2, "sent")]
    assert "451" in attempts[0].error and attempts[1].error == ""
    assert NOW <= attempts[0].at < later(1) <= attempts[1].at < later(2)
    delivery.refresh_from_db()
    # The provider accepted the message on the second attempt: that is `sent_at`.
    assert delivery.sent_at == attempts[1].at


def test_attempts_cannot_be_changed(smtp) -> None:
    delivery = enqueue(channel="email", address="a@acme.example", subject="Hello", idempotency_key="a2", now=NOW)
    run_due_work(NOW)
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    attempt.error = "rewritten"
    with pytest.raises(AppendOnlyAttemptError):
        attempt.save()
    with pytest.raises(AppendOnlyAttemptError):
        DeliveryAttempt.objects.filter(pk=attempt.pk).update(error="rewritten")


def test_a_refused_sms_is_emailed_instead_and_shown_on_the_person(acme, smtp, sms) -> None:
    sms.statuses.append(400)
    alert = unhappy_gold_customer()
    run_due_work(NOW)
    text = Delivery.objects.get(alert=alert, channel="sms", person__key="erin")
    assert text.status == "failed"
    fallback = Delivery.objects.get(idempotency_key=f"{text.idempotency_key}:fallback:email")
    assert (fallback.person.key, fallback.address, fallback.alert_id) == ("erin", "erin@acme.example", alert.pk)
    assert fallback.subject.startswith("Text message not delivered: ")
    assert fallback.text.startswith("A text message to +15555550101 could not be delivered (")
    assert text.text in fallback.text
    run_due_work(later(1))
    fallback.refresh_from_db()
    assert fallback.status == "sent"
    erin = Person.objects.get(key="erin")
    get_user_model().objects.create_superuser("root", "root@acme.example", "a-long-enough-password")
    admin = Client()
    admin.force_login(get_user_model().objects.get(username="root"))
    page = admin.get(reverse("admin:org_person_change", args=[erin.pk])).content.decode()
    assert "Text messages that could not be delivered (sent by email instead)" in page
    assert "+15555550101" in page and "HTTP 400" in page


def test_a_temporary_sms_failure_is_retried_not_emailed(acme, smtp, sms) -> None:
    sms.statuses.append(503)
    alert = unhappy_gold_customer()
    run_due_work(NOW)
    text = Delivery.objects.get(alert=alert, channel="sms", person__key="erin")
    assert text.status == "pending"
    assert not Delivery.objects.filter(idempotency_key__endswith=":fallback:email").exists()


def test_the_api_shows_every_attempt_of_each_recipient(acme, smtp, sms) -> None:
    sms.statuses.append(503)
    unhappy_gold_customer()
    run_due_work(NOW)
    run_due_work(NOW + timedelta(minutes=5))
    [alert] = ApiClient(create_token(["read"])).get("/api/v1/alerts", kind="recovery").json()["items"]
    erin_sms = next(r for r in alert["recipients"] if r["person"] == "erin" and r["channel"] == "sms")
    assert erin_sms["status"] == "sent"
    assert [(a["number"], a["outcome"]) for a in erin_sms["attempts"]] == [(1, "temporary"), (2, "sent")]
    assert "503" in erin_sms["attempts"][0]["error"] and erin_sms["attempts"][1]["error"] is None


def test_the_outbox_page_shows_the_history(acme, smtp, sms) -> None:
    sms.statuses.append(503)
    unhappy_gold_customer()
    run_due_work(NOW)
    page = login_as("admin").get("/outbox/").content.decode()
    assert '<details class="attempts"><summary>1 attempt</summary>' in page
    assert "Failed, worth trying again: " in page
