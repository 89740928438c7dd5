"""No input makes the API fail: text that cannot be stored, absurd nesting and dates off the calendar each get
a 422 naming the field, and nothing is stored. Run on SQLite and on PostgreSQL (which refuses NUL characters)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from closeloop.feedback.models import Response
from tests.api.conftest import response_body
from tests.api.test_auth import assert_error

pytestmark = pytest.mark.django_db

LIST = "/api/v1/responses"


def errors_of(response) -> list[tuple[list, str]]:
    return [(e["loc"], e["msg"]) for e in assert_error(response, 422)["errors"]]


@pytest.mark.parametrize(
    ("raw", "loc", "msg"),
    [
        (json.dumps(response_body(answers={"ease": 3, "comment": "a\x00b"})), ["answers", "comment"], "NUL"),
        (json.dumps(response_body(external_id="x\x00")), ["external_id"], "NUL"),
        (json.dumps(response_body(customer={"id": "C-1", "name": "\x00"})), ["customer", "name"], "NUL"),
        (json.dumps(response_body()).replace('"T-1001"', '"\\ud800"'), ["ticket"], "lone surrogate"),
        (json.dumps(response_body(answers={"ease": 3, "c\x00": 1})), ["answers", "c\x00"], "field name"),
    ],
)
def test_text_that_cannot_be_stored_gets_422_naming_the_field(org, api_as, raw: str, loc: list, msg: str) -> None:
    ((where, problem),) = errors_of(api_as("ingest").post(LIST, raw=raw.encode()))
    assert where == loc and msg in problem
    assert not Response.objects.exists()


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_json_nested_absurdly_deep_gets_422(org, api_as, depth: int) -> None:
    raw = b'{"survey": "upgrade-install", "external_id": "d", "answers": {}, "customer": ' + b'{"x":' * depth
    raw += b"1" + b"}" * (depth + 1)
    ((_, problem),) = errors_of(api_as("ingest").post(LIST, raw=raw))
    assert problem == "nested more than 32 levels deep"
    assert not Response.objects.exists()


def test_a_note_with_a_nul_character_is_refused_and_nothing_is_written(org, api_as) -> None:
    # Submitted just now: an older response (past organization.alert_max_age) would open no case.
    body = response_body(submitted_at=datetime.now(UTC).isoformat())
    response = api_as("ingest", "read").post(LIST, body).json()
    case = response["case"]
    assert case is not None
    ((where, problem),) = errors_of(api_as("write").post(f"/api/v1/cases/{case}/notes", {"text": "hi\x00"}))
    assert where == ["text"] and "NUL" in problem


@pytest.mark.parametrize(
    ("path", "loc"),
    [
        (f"{LIST}?ticket=a%00b", ["query", "ticket"]),
        (f"{LIST}?unit=%ED%A0%80", None),  # not UTF-8: read as a replacement character, an unknown unit
        ("/api/v1/alerts?category=%00", ["query", "category"]),
        ("/api/v1/cases?unit=x%00", ["query", "unit"]),
    ],
)
def test_query_parameters_that_cannot_be_text_get_422(org, api_as, path: str, loc: list | None) -> None:
    answer = api_as("read").get(path)
    assert answer.status_code in (200, 422)
    if loc is not None:
        assert errors_of(answer)[0][0] == loc


@pytest.mark.parametrize(
    ("path", "loc", "msg"),
    [
        (f"{LIST}?date=9999-12-31", ["date"], "9999-12-31 is outside 1970-01-01..2999-12-31"),
        (f"{LIST}?date=0001-01-01", ["date"], "0001-01-01 is outside 1970-01-01..2999-12-31"),
        (f"{LIST}?date=0", ["date"], "'0' is not a date like 2026-11-23 (YYYY-MM-DD)"),
        ("/api/v1/reports/summary?from=0", ["from"], "'0' is not a date like 2026-11-23 (YYYY-MM-DD)"),
        ("/api/v1/reports/summary?to=9999-12-31", ["to"], "9999-12-31 is outside 1970-01-01..2999-12-31"),
        (
            "/api/v1/reports/retention?from=1700000000",
            ["from"],
            "'1700000000' is not a date like 2026-11-23 (YYYY-MM-DD)",
        ),
        (
            "/api/v1/alerts?since=9999-12-31T23:59:59%2B14:00",
            ["since"],
            "9999-12-31T23:59:59+14:00 is outside the years 1970..2999",
        ),
        (
            "/api/v1/alerts?since=0001-01-01T00:00:00-14:00",
            ["since"],
            "0001-01-01T00:00:00-14:00 is outside the years 1970..2999",
        ),
    ],
)
def test_dates_off_the_calendar_get_422_naming_the_field(org, api_as, path: str, loc: list, msg: str) -> None:
    assert (loc, msg) in errors_of(api_as("read").get(path))


def test_a_day_at_the_edge_of_the_range_still_works(org, api_as) -> None:
    assert api_as("read").get(f"{LIST}?date=2999-12-31").json()["count"] == 0
    assert api_as("read").get("/api/v1/reports/summary?from=1970-01-01&to=2999-12-31").status_code == 200
