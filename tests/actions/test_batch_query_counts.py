"""A batch of unhappy customers costs the same number of statements whatever its size: cases, their teams,
events, team emails and alert messages are written per batch, not per response. A customer who comes twice
in one batch still has the second case name the first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from closeloop.actions.ingest import ingest_responses
from closeloop.cases.models import Case, CaseEvent
from closeloop.feedback.store import IngestResult
from closeloop.notify.models import Delivery
from tests.factories import NOW, next_number, response_body

pytestmark = pytest.mark.usefixtures("acme")


def statements_for(count: int) -> tuple[int, int]:
    """The statements an ingest of `count` unhappy customers runs: (inserts, all others)."""
    bodies = [response_body(prefix="batch", customer_id=f"B-{next_number()}") for _ in range(count)]
    with CaptureQueriesContext(connection) as captured:
        outcomes = ingest_responses(bodies, source="test", now=NOW, imported=True)
    assert all(isinstance(outcome, IngestResult) and outcome.created for outcome in outcomes)
    inserts = sum(query["sql"].lstrip().upper().startswith("INSERT") for query in captured.captured_queries)
    return inserts, len(captured) - inserts


def test_the_statements_of_a_batch_do_not_grow_with_its_unhappy_customers() -> None:
    statements_for(2)  # the configuration's first reading is not the batch's
    (few_inserts, few_others), (many_inserts, many_others) = statements_for(3), statements_for(30)
    assert Case.objects.count() == 2 + 3 + 30
    assert many_others == few_others, f"{few_others} reads and updates for 3 unhappy customers, {many_others} for 30"
    # A multi-row insert is split where it would pass the database's limit of variables per statement; one
    # statement per table and customer would be some 270 more.
    assert many_inserts <= few_inserts + 6, f"{few_inserts} inserts for 3 unhappy customers, {many_inserts} for 30"
    # Each case has its team, its `opened` and `notified` events and its team's emails.
    assert CaseEvent.objects.filter(type="opened").count() == CaseEvent.objects.filter(type="notified").count() == 35
    assert Delivery.objects.filter(topic="case").count() == 35 * 3
    assert Case.managers.through.objects.count() == 35 * 2


def test_a_customer_twice_in_one_batch_has_the_second_case_repeat_the_first() -> None:
    first = response_body(prefix="twice", customer_id="C-twice", at=NOW - timedelta(hours=2))
    again = response_body(prefix="twice", customer_id="C-twice", at=NOW - timedelta(hours=1))
    outcomes = ingest_responses([first, again], source="test", now=NOW)
    cases = [Case.objects.get(response=outcome.response) for outcome in outcomes]  # type: ignore[union-attr]
    assert cases[0].previous_case is None
    assert cases[1].previous_case == cases[0]
    opened = cases[1].events.get(type="opened")
    assert opened.data["repeat"] is True and opened.data["repeat_of"] == cases[0].pk
