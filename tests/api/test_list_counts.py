"""Lists count exactly up to a limit; past it, PostgreSQL's estimate is used and flagged, and `next` still
follows the rows, not the count."""

from __future__ import annotations

import pytest
from django.db import connection

from closeloop.api import pagination
from tests.web.conftest import ingest


@pytest.fixture
def five(acme: None) -> None:
    for _ in range(5):
        ingest({"ease": 9, "completed": True, "comment": "Fine."})


def test_a_short_list_is_counted_exactly(five: None, api_as) -> None:
    body = api_as("read").get("/api/v1/responses").json()
    assert (body["count"], body["count_estimated"], body["next"]) == (5, False, None)


def test_past_the_limit_the_count_is_an_estimate_on_postgresql(five: None, api_as, monkeypatch) -> None:
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 3)
    monkeypatch.setattr(pagination, "PAGE_SIZE", 2)
    client = api_as("read")
    body = client.get("/api/v1/responses").json()
    if connection.vendor == "postgresql":
        assert body["count_estimated"] is True and body["count"] >= 4
    else:
        assert (body["count"], body["count_estimated"]) == (5, False)
    pages = [body]
    while pages[-1]["next"]:
        pages.append(client.get(pages[-1]["next"].split("testserver", 1)[1]).json())
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
