"""Listing responses costs the same number of queries for 5 rows as for 50."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from closeloop.actions.ingest import ingest_responses
from closeloop.cases.models import Case
from closeloop.cases.services import do_add_note
from tests import factories

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def unhappy(start: int, count: int) -> None:
    items = [
        factories.response_body(
            {"ease": 2, "completed": False},
            at=NOW - timedelta(minutes=n),
            n=n,
            prefix="q",
            customer={"id": f"C-{n}", "name": "Pat"},
            agent=None,
        )
        for n in range(start, start + count)
    ]
    ingest_responses(items, source="test", now=NOW)
    for case in Case.objects.filter(response__external_id__in=[i["external_id"] for i in items]):
        do_add_note(case, text="Called.", spoke_to_customer=True, author_name="Erin", now=NOW)


@pytest.mark.usefixtures("acme")
def test_the_responses_list_does_not_query_per_row(api_as: Any) -> None:
    client = api_as("read")
    unhappy(0, 5)
    client.get("/api/v1/responses")  # the token's first use of the minute also records last_used_at
    with CaptureQueriesContext(connection) as few:
        page = client.get("/api/v1/responses").json()
    # Counted now: the next request's start clears the connection's log the context reads.
    five = len(few.captured_queries)
    assert page["count"] == 5 and all(item["case"] and item["notes"] for item in page["items"])
    unhappy(5, 45)
    with CaptureQueriesContext(connection) as many:
        page = client.get("/api/v1/responses").json()
    assert page["count"] == 50 and all(item["notes"][0]["text"] == "Called." for item in page["items"])
    assert len(many.captured_queries) == five
