"""POST /api/v1/responses/batch: up to 500 responses, each answered with the status and body a single post of
it would get; the storable ones in one transaction, a refused item refused alone, replays idempotent."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from closeloop.cases.models import Case
from closeloop.feedback.models import Response
from closeloop.notify.models import Delivery

BATCH = "/api/v1/responses/batch"
SINGLE = "/api/v1/responses"


def item(n: int, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "survey": "upgrade-install",
        "external_id": f"b-{n}",
        "submitted_at": "2026-12-01T10:04:00Z",
        "unit": "SUP-EMEA",
        "segment": "SMB",
        "ticket": f"T-b{n}",
        "customer": {"id": f"C-b{n}", "name": "Pat Lee", "email": "pat@example.com", "tier": "Gold",
                     "contact_ok": True},
        "answers": {"ease": 2, "completed": False, "comment": "It failed twice."},
    }  # fmt: skip
    body.update(overrides)
    return body


def quiet(n: int) -> dict[str, Any]:
    return item(n, answers={"ease": 8, "completed": True, "comment": "Fine."})


@pytest.fixture
def ingest_api(acme: None, api_as):
    return api_as("ingest", "read")


@pytest.mark.usefixtures("acme")
def test_each_item_gets_what_a_single_post_of_it_would_get(ingest_api) -> None:
    earlier = ingest_api.post(SINGLE, item(1))
    assert earlier.status_code == 201
    bad_answer = item(3, answers={"ease": 11})
    single_bad = ingest_api.post(SINGLE, bad_answer)
    assert single_bad.status_code == 422
    batch = [item(2), item(1), bad_answer, "not an object", item(4, comment="x\u0000y"), item(5, unit="NOWHERE")]
    answer = ingest_api.post(BATCH, {"items": batch})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert [result["status"] for result in body["items"]] == [201, 200, 422, 422, 422, 201]
    assert (body["created"], body["replayed"], body["rejected"]) == (2, 1, 3)
    created, replayed, refused, not_object, unsafe, invalid = (result["body"] for result in body["items"])
    # A created item: the stored response with its alerts and case, as GET shows it.
    assert created == ingest_api.get(f"{SINGLE}/{created['id']}").json()
    assert created["alerts"] and created["case"] == Case.objects.get(response_id=created["id"]).pk
    assert replayed == ingest_api.post(SINGLE, item(1)).json()
    assert refused == single_bad.json()
    assert not_object["errors"] == [{"loc": [], "msg": "expected an object, got a string"}]
    assert unsafe["errors"] == [{"loc": ["comment"], "msg": "contains a NUL character (\\u0000)"}]
    assert invalid["status"] == "invalid" and invalid["case"] is None
    # Nothing of the refused items was stored; the others' messages were planned as for single posts.
    assert set(Response.objects.values_list("external_id", flat=True)) == {"b-1", "b-2", "b-5"}
    assert Delivery.objects.filter(alert__response_id=created["id"]).exists()


@pytest.mark.usefixtures("acme")
def test_sending_a_batch_again_replays_it(ingest_api) -> None:
    batch = [item(n) for n in range(10)]
    first = ingest_api.post(BATCH, {"items": batch}).json()
    counts = (Response.objects.count(), Case.objects.count(), Delivery.objects.count())
    again = ingest_api.post(BATCH, {"items": batch}).json()
    assert (again["created"], again["replayed"]) == (0, 10)
    assert [r["body"]["id"] for r in again["items"]] == [r["body"]["id"] for r in first["items"]]
    assert (Response.objects.count(), Case.objects.count(), Delivery.objects.count()) == counts


@pytest.mark.usefixtures("acme")
def test_the_same_item_twice_in_one_batch_is_stored_once(ingest_api) -> None:
    body = ingest_api.post(BATCH, {"items": [item(1), item(1)]}).json()
    assert [r["status"] for r in body["items"]] == [201, 200]
    assert Response.objects.count() == 1


@pytest.mark.usefixtures("acme")
@pytest.mark.parametrize(
    ("body", "loc", "words"),
    [
        ({"items": []}, ["items"], "a list of 1 to 500"),
        ({"items": {"a": 1}}, ["items"], "a list of 1 to 500"),
        ({}, ["items"], "a list of 1 to 500"),
        ({"items": [{}] * 501}, ["items"], "at most 500 responses per request, not 501"),
        ({"items": [{}], "extra": 1}, ["extra"], "unknown field"),
    ],
)
def test_a_batch_that_is_not_one_is_refused_whole(ingest_api, body, loc, words) -> None:
    answer = ingest_api.post(BATCH, body)
    assert answer.status_code == 422
    (error,) = answer.json()["errors"]
    assert error["loc"] == loc and words in error["msg"]
    assert not Response.objects.exists()


@pytest.mark.usefixtures("acme")
def test_a_batch_needs_the_ingest_scope(api_as) -> None:
    assert api_as("read").post(BATCH, {"items": [item(1)]}).status_code == 403
    assert not Response.objects.exists()


def reading_back(queries: CaptureQueriesContext) -> int:
    """The queries that read stored alerts back by their responses (the serialisation's prefetch). Count
    them before the next request: a request's start clears the connection's log the context reads."""
    return sum('"alerts_alert"."response_id" IN' in q["sql"] for q in queries.captured_queries)


@pytest.mark.usefixtures("acme")
def test_the_answer_is_built_from_what_the_batch_wrote_without_reading_it_back(ingest_api) -> None:
    def serialising_queries(items: list[dict[str, Any]]) -> int:
        with CaptureQueriesContext(connection) as queries:
            answer = ingest_api.post(BATCH, {"items": items})
        read_back = reading_back(queries)
        assert answer.status_code == 200 and len(queries.captured_queries) > 10
        for result in answer.json()["items"]:
            # What was written is what GET reads: the alerts, the case, no notes.
            assert result["body"] == ingest_api.get(f"{SINGLE}/{result['body']['id']}").json()
        return read_back

    unhappy = serialising_queries([item(k) for k in range(5)])
    assert unhappy == serialising_queries([quiet(100 + k) for k in range(50)]) == 0
    assert Case.objects.count() == 5


@pytest.mark.usefixtures("acme")
def test_a_batch_item_that_takes_over_its_tickets_case_is_read_back_with_the_case(ingest_api) -> None:
    first = ingest_api.post(SINGLE, item(1)).json()
    with CaptureQueriesContext(connection) as queries:
        answer = ingest_api.post(BATCH, {"items": [item(2), item(3, ticket="T-b1", external_id="b-1-again")]})
    assert reading_back(queries) == 1
    fresh, again = (result["body"] for result in answer.json()["items"])
    assert again["case"] == first["case"] and again["id"] != first["id"]
    assert again == ingest_api.get(f"{SINGLE}/{again['id']}").json()
    assert fresh == ingest_api.get(f"{SINGLE}/{fresh['id']}").json()


@pytest.mark.usefixtures("acme")
def test_an_ingest_only_token_gets_no_more_from_a_batch_than_from_single_posts() -> None:
    """A replay shows an ingest-only token only the id and status; a token limited to units gets 403 for an item
    of another unit, alone, and it is counted as rejected."""
    from tests.helpers import ApiClient, create_token

    stored = ApiClient(create_token(["ingest", "read"])).post(SINGLE, item(1)).json()
    ingest_only = ApiClient(create_token(["ingest"], units=["SUP-EMEA"]))
    answer = ingest_only.post(BATCH, {"items": [item(1), item(2), item(3, unit="SUP-US")]}).json()
    statuses = [result["status"] for result in answer["items"]]
    assert statuses == [200, 201, 403]
    assert answer["items"][0]["body"] == {"id": stored["id"], "status": "valid"}
    assert answer["items"][2]["body"]["errors"][0]["loc"] == ["unit"]
    assert (answer["created"], answer["replayed"], answer["rejected"]) == (1, 1, 1)
    assert not Response.objects.filter(external_id="b-3").exists()
