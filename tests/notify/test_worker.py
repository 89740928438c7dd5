"""The claim loop against a real SMTP server, with the clock moved through `now` arguments."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine

from closeloop.notify import dispatch
from closeloop.notify.channels import Channel, SendResult, TemporaryError, base
from closeloop.notify.models import Delivery
from closeloop.notify.outbox import enqueue
from closeloop.worker.runner import run_due_work
from closeloop.worker.steps import STEPS, Step
from tests.notify.conftest import NOW, later

pytestmark = pytest.mark.django_db


def make_emails(count: int, now=NOW) -> list[Delivery]:
    return [
        enqueue(
            channel="email",
            address=f"lead{i}@acme.example",
            subject=f"alert {i}",
            text="t",
            idempotency_key=f"alert:{i}:email",
            now=now,
        )
        for i in range(count)
    ]


def test_claim_marks_due_rows_sending_with_a_lease_and_counts_the_attempt():
    make_emails(3)
    enqueue(channel="email", address="x@acme.example", idempotency_key="future", now=later(10))
    with time_machine.travel(NOW, tick=False):
        claimed = dispatch.claim_due(NOW, limit=10, lease=timedelta(minutes=2))
        assert dispatch.claim_due(NOW) == [], "a leased row is not claimed twice"
    assert len(claimed) == 3
    assert {d.status for d in claimed} == {Delivery.Status.SENDING}
    assert {d.attempts for d in claimed} == {1}
    assert {d.lease_until for d in claimed} == {later(2)}


def test_claim_respects_the_limit_oldest_first():
    make_emails(5)
    assert [d.subject for d in dispatch.claim_due(NOW, limit=2)] == ["alert 0", "alert 1"]


def test_a_delivery_left_sending_with_an_expired_lease_is_claimed_again(smtp):
    [delivery] = make_emails(1)
    with time_machine.travel(NOW, tick=False):
        dispatch.claim_due(NOW, lease=timedelta(minutes=2))  # a worker that then died
    with time_machine.travel(later(1), tick=False):
        assert run_due_work(later(1))["deliveries"] == 0
    with time_machine.travel(later(3), tick=False):
        assert run_due_work(later(3))["deliveries"] == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 2)
    assert later(3) <= delivery.sent_at < later(4)
    assert smtp.count() == 1


def test_a_sent_delivery_records_the_provider_id_and_clears_its_schedule(smtp):
    [delivery] = make_emails(1)
    assert run_due_work(NOW)["deliveries"] == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.provider_id == smtp.messages[0]["Message-ID"]
    assert delivery.next_attempt_at is None and delivery.lease_until is None


def test_smtp_deferrals_are_retried_with_backoff_until_every_message_arrives(smtp):
    smtp.defer_next = 7  # the first 7 DATA commands get 451
    deliveries = make_emails(3)
    now = NOW
    for _ in range(10):
        run_due_work(now)
        if smtp.count() == 3:
            break
        now += timedelta(hours=3)  # past any backoff (capped at 2 h + jitter)
    assert sorted(m["Subject"] for m in smtp.messages) == ["alert 0", "alert 1", "alert 2"]
    assert smtp.data_attempts == 10
    rows = Delivery.objects.filter(pk__in=[d.pk for d in deliveries])
    assert {r.status for r in rows} == {Delivery.Status.SENT}
    assert sum(r.attempts for r in rows) == 10
    assert {r.last_error for r in rows} == {""}


def test_a_deferral_schedules_the_next_attempt_about_thirty_seconds_later(smtp):
    smtp.defer_next = 1
    [delivery] = make_emails(1)
    run_due_work(NOW)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING
    assert "451" in delivery.last_error
    assert timedelta(seconds=27) <= delivery.next_attempt_at - NOW <= timedelta(seconds=33)
    assert run_due_work(NOW + timedelta(seconds=20))["deliveries"] == 0
    assert run_due_work(NOW + timedelta(seconds=40))["deliveries"] == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 2)


def test_a_delivery_fails_once_it_has_been_deferred_for_the_whole_retry_window(smtp, settings):
    settings.CLOSELOOP_RETRY_FOR = timedelta(hours=2)
    smtp.defer_next = 100
    [delivery] = make_emails(1)
    for now in (NOW, later(60), later(119)):
        run_due_work(now)
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.PENDING
    run_due_work(later(125))  # the first attempt due after the window (the last wait was two minutes)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.failing_since) == (Delivery.Status.FAILED, 4, NOW)
    assert delivery.next_attempt_at is None
    assert smtp.data_attempts == 4


def test_a_tick_far_ahead_of_the_clock_leaves_a_running_workers_claim_alone(smtp):
    make_emails(2)
    held = dispatch.claim_due(NOW)  # a running worker holds both, leased on the real clock
    assert run_due_work(NOW + timedelta(days=1))["deliveries"] == 0
    assert smtp.count() == 0
    assert [dispatch.send_one(d, NOW) for d in held] == ["sent", "sent"]
    assert smtp.count() == 2


def test_a_permanent_error_fails_at_once(smtp):
    smtp.refused.add("lead0@acme.example")
    [delivery] = make_emails(1)
    run_due_work(NOW)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.FAILED, 1)
    assert "550" in delivery.last_error


def test_an_outcome_is_not_recorded_by_a_worker_whose_claim_was_taken_over(smtp):
    [delivery] = make_emails(1)
    with time_machine.travel(NOW, tick=False):
        [stale] = dispatch.claim_due(NOW, lease=timedelta(minutes=2))
    with time_machine.travel(later(3), tick=False):
        run_due_work(later(3))  # another worker takes over after the lease and sends it
    assert dispatch.record_failure(stale, TemporaryError("late"), later(4)) == "lost"
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT


def test_a_stopping_worker_hands_back_the_deliveries_it_has_not_sent(monkeypatch):
    make_emails(3)
    stop = threading.Event()

    class StopsTheWorkerWhileSending(Channel):
        slug = "email"

        def send(self, delivery):
            stop.set()  # SIGTERM arrives during the first send
            return SendResult("sent-before-stopping")

    monkeypatch.setitem(base._REGISTRY, "email", StopsTheWorkerWhileSending)
    run_due_work(NOW, stop=stop)
    statuses = sorted(Delivery.objects.values_list("status", "attempts", "lease_until"))
    assert statuses == [("pending", 0, None), ("pending", 0, None), ("sent", 1, None)]
    assert dispatch.claim_due(NOW, limit=10) != [], "the handed-back rows are due at once"


def test_run_due_work_repeats_every_step_until_none_has_work():
    queue = [3, 2, 0]

    def drain(now):
        return queue.pop(0) if queue else 0

    done = run_due_work(NOW, steps=(*STEPS, Step("test-drain", drain)))
    assert done["test-drain"] == 5
    assert queue == []


def test_a_failing_step_does_not_stop_the_deliveries(smtp):
    def broken(now):
        raise RuntimeError("bug")

    make_emails(1)
    done = run_due_work(NOW, steps=(Step("test-broken", broken), *STEPS))
    assert done["deliveries"] == 1
    assert smtp.count() == 1
