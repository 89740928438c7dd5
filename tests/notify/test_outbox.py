from __future__ import annotations

import pytest
from django.db import transaction

from closeloop.notify import dispatch, wake
from closeloop.notify.models import Delivery
from closeloop.notify.outbox import enqueue, record_skipped
from tests.notify.conftest import NOW, later

pytestmark = pytest.mark.django_db


def test_enqueue_creates_a_pending_delivery_due_now():
    delivery = enqueue(
        channel="email", address="lead@acme.example", subject="Hi", text="t", idempotency_key="k1", now=NOW
    )
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.next_attempt_at == NOW
    assert delivery.created_at == NOW
    assert delivery.attempts == 0


def test_enqueue_twice_with_the_same_key_keeps_one_row_and_the_first_content():
    first = enqueue(channel="email", address="a@acme.example", subject="first", idempotency_key="same", now=NOW)
    second = enqueue(channel="email", address="b@acme.example", subject="second", idempotency_key="same", now=later(5))
    assert first.pk == second.pk
    assert Delivery.objects.count() == 1
    assert Delivery.objects.get().subject == "first"


def test_record_skipped_keeps_the_reason_and_is_never_claimed():
    skipped = record_skipped(channel="sms", idempotency_key="s1", now=NOW, reason="no phone number for Erin Diaz")
    assert skipped.status == Delivery.Status.SKIPPED
    assert skipped.last_error == "no phone number for Erin Diaz"
    assert dispatch.claim_due(later(60)) == []


def test_enqueue_wakes_the_worker_when_the_transaction_commits(django_capture_on_commit_callbacks):
    wake._wake.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        enqueue(channel="email", address="a@acme.example", idempotency_key="w1", now=NOW)
    assert not wake._wake.is_set()
    for callback in callbacks:
        callback()
    assert wake._wake.is_set()
    wake._wake.clear()
