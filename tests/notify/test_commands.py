"""`closeloop tick` and the in-process Worker thread."""

from __future__ import annotations

import io
import threading

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from closeloop.notify.models import Delivery
from closeloop.notify.outbox import enqueue
from closeloop.worker.runner import Worker
from tests.notify.conftest import NOW, later


@pytest.mark.django_db
def test_tick_sends_what_is_due_at_the_given_instant_and_reports_it(smtp):
    enqueue(channel="email", address="a@acme.example", subject="due", idempotency_key="t1", now=NOW)
    enqueue(channel="email", address="b@acme.example", subject="later", idempotency_key="t2", now=later(60))
    out = io.StringIO()
    with time_machine.travel(later(30)):
        call_command("tick", "--at", "2026-11-23T10:30:00Z", stdout=out)
    assert "deliveries: 1" in out.getvalue()
    assert [m["Subject"] for m in smtp.messages] == ["due"]
    # `sent_at` is when the server accepted the message, a moment after the tick began.
    assert later(30) <= Delivery.objects.get(idempotency_key="t1").sent_at < later(31)


@pytest.mark.django_db
def test_tick_with_a_bad_instant_exits_2_naming_the_option():
    with pytest.raises(CommandError, match="--at") as error:
        call_command("tick", "--at", "yesterday")
    assert error.value.returncode == 2


class _IdleReportingWorker(Worker):
    """A worker that says when it has finished a round and gone to sleep."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.idle = threading.Event()

    def _sleep(self) -> None:
        self.idle.set()
        super()._sleep()


@pytest.mark.django_db(transaction=True)
def test_a_worker_thread_sends_a_delivery_as_soon_as_it_is_committed_and_stops_on_request(smtp):
    stop = threading.Event()
    # It would poll again only after an hour: a delivery sent before that was woken by the commit.
    worker = _IdleReportingWorker(stop, poll_seconds=3600)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        assert worker.idle.wait(timeout=30), "the worker never finished its first round"
        with transaction.atomic():
            enqueue(channel="email", address="a@acme.example", subject="now", idempotency_key="w1", now=timezone.now())
            # Not before the commit: the worker must not see (or be woken for) an uncommitted row.
            assert smtp.count() == 0
        assert smtp.wait_for(1, timeout=30), "the commit did not wake the worker"
    finally:
        stop.set()
        worker.stop()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert Delivery.objects.get().status == Delivery.Status.SENT
