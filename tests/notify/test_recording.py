"""Recording an outcome is one commit per message: the guarded UPDATE of the delivery and its attempt row
together, or nothing at all when the worker's claim was taken over."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from closeloop.notify import dispatch
from closeloop.notify.channels import DeliveryError, PermanentError, SendResult, TemporaryError
from closeloop.notify.models import Delivery, DeliveryAttempt
from closeloop.notify.outbox import enqueue
from closeloop.org.models import Person
from closeloop.worker.runner import run_due_work
from tests.notify.conftest import NOW, later

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE", "WITH")


def make_emails(count: int, batch: str) -> list[Delivery]:
    return [
        enqueue(
            channel="email",
            address=f"lead{i}@acme.example",
            subject=f"{batch} {i}",
            text="Call the customer",
            idempotency_key=f"{batch}:{i}:email",
            now=NOW,
        )
        for i in range(count)
    ]


def statements_of_one_batch(count: int, batch: str) -> list[str]:
    """The first word of each statement (BEGIN and COMMIT included) that one deliveries step sent."""
    make_emails(count, batch)
    with CaptureQueriesContext(connection) as captured:
        assert dispatch.deliver_due(NOW) == count
    return [query["sql"].split(None, 1)[0].upper() for query in captured.captured_queries]


def commits(statements: list[str]) -> int:
    """Commits that wrote: one per transaction, and one per write statement outside any (autocommit)."""
    count, in_transaction = 0, False
    for statement in statements:
        if statement == "BEGIN":
            in_transaction = True
        elif statement == "COMMIT":
            count, in_transaction = count + 1, False
        elif statement in WRITES and not in_transaction:
            count += 1
    return count


# Outside a test transaction, so that BEGIN and COMMIT are the real ones rather than savepoints.
@pytest.mark.django_db(transaction=True)
def test_each_delivery_of_a_batch_costs_one_commit_and_a_fixed_set_of_statements(smtp, is_postgres) -> None:
    one = statements_of_one_batch(1, "one")
    claim = ["BEGIN", "SELECT", "UPDATE", "COMMIT", "SELECT"]
    # PostgreSQL: the guarded UPDATE and the attempt's INSERT in one statement; SQLite: one short transaction.
    per_delivery = ["WITH"] if is_postgres else ["BEGIN", "UPDATE", "INSERT", "COMMIT"]
    # After the first message a server accepts: has it retries waiting to be brought forward (once per batch)?
    backlog = ["SELECT"]
    assert one == [*claim, *per_delivery, *backlog]
    four = statements_of_one_batch(4, "four")
    assert four == [*claim, *per_delivery, *backlog, *per_delivery * 3]
    # The claim's commit, then one per delivery.
    assert (commits(one), commits(four)) == (2, 5)
    assert DeliveryAttempt.objects.filter(outcome="sent").count() == 5


def stale_claim() -> tuple[Delivery, Delivery]:
    """(the row, the claim of a worker whose lease expired after which another worker sent the row)."""
    [delivery] = make_emails(1, "stale")
    with time_machine.travel(NOW, tick=False):
        [stale] = dispatch.claim_due(NOW, lease=timedelta(minutes=2))
    with time_machine.travel(later(3), tick=False):
        assert run_due_work(later(3))["deliveries"] == 1
    return delivery, stale


OUTCOMES: list[Callable[[], SendResult | DeliveryError]] = [
    lambda: SendResult("<late@acme.example>"),
    lambda: TemporaryError("SMTP 451: try again later"),
    lambda: PermanentError("SMTP 550: message rejected"),
]


@pytest.mark.parametrize("outcome", OUTCOMES, ids=["sent", "temporary", "permanent"])
def test_a_worker_whose_claim_was_taken_over_writes_neither_the_delivery_nor_an_attempt(smtp, outcome) -> None:
    delivery, stale = stale_claim()
    before = Delivery.objects.values().get(pk=delivery.pk)
    assert dispatch.record(stale, outcome(), later(4)) == "lost"
    assert Delivery.objects.values().get(pk=delivery.pk) == before
    attempts = DeliveryAttempt.objects.filter(delivery=delivery).values_list("number", "outcome")
    assert list(attempts) == [(2, "sent")], "only the worker holding the claim keeps its attempt"


def claimed_sms() -> Delivery:
    erin = Person.objects.create(key="erin", name="Erin", email="erin@acme.example", phone="+15555550101")
    enqueue(channel="sms", address=erin.phone, text="Call Pat", idempotency_key="sms:1", now=NOW, person=erin)
    [delivery] = dispatch.claim_due(NOW)
    return delivery


def test_a_lost_claim_on_a_refused_sms_sends_no_email_instead() -> None:
    delivery = claimed_sms()
    Delivery.objects.filter(pk=delivery.pk).update(attempts=2)  # another worker has claimed it since
    assert dispatch.record(delivery, PermanentError("HTTP 400"), NOW) == "lost"
    assert list(Delivery.objects.values_list("channel", "status")) == [("sms", "sending")]
    assert not DeliveryAttempt.objects.exists()


def test_an_outcome_is_written_whole_or_not_at_all(monkeypatch) -> None:
    delivery = claimed_sms()

    def fails(*args: object) -> None:
        raise RuntimeError("the fallback could not be written")

    monkeypatch.setattr("closeloop.notify.attempts.email_instead", fails)
    with pytest.raises(RuntimeError):
        dispatch.record(delivery, PermanentError("HTTP 400"), NOW)
    # The UPDATE went with the failed INSERT: the row is still claimed, to be sent again after its lease.
    assert list(Delivery.objects.values_list("status", "attempts", "last_error")) == [("sending", 1, "")]
    assert not DeliveryAttempt.objects.exists()
    monkeypatch.undo()
    assert dispatch.record(delivery, PermanentError("HTTP 400"), NOW) == "failed"
    assert list(DeliveryAttempt.objects.values_list("number", "outcome")) == [(1, "permanent")]
    assert Delivery.objects.filter(channel="email", person__key="erin", status="pending").count() == 1
