"""A `submitted_at` before 1970 or more than 5 minutes ahead is refused naming the field, wherever it comes from."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from closeloop.actions.ingest import ingest_responses
from closeloop.connectors import Survey
from closeloop.feedback.files import rejects_path
from closeloop.feedback.models import Response
from closeloop.feedback.store import RejectedInput
from tests.connectors.conftest import inbound, payload_json, q, source, translate
from tests.feedback.test_ingest_file import HEADER, csv_row, read_rejects, write
from tests.helpers import ApiClient, create_token
from tests.web.conftest import login_as

pytestmark = pytest.mark.usefixtures("acme")

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def post(submitted_at: str) -> tuple[int, dict]:
    body = {"survey": "upgrade-install", "external_id": "t-1", "unit": "SUP-EMEA", "answers": {"ease": 3}}
    body["submitted_at"] = submitted_at
    with time_machine.travel(NOW, tick=False):
        response = ApiClient(create_token(["ingest"])).post("/api/v1/responses", body)
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        ("0001-01-01", "0001-01-01T00:00:00 is before 1970; send the time the customer answered"),
        ("0001-01-01T00:00:00+05:00", "0001-01-01T00:00:00+05:00 is before 1970; send the time the customer answered"),
        ("1969-12-31T23:59:59Z", "1969-12-31T23:59:59+00:00 is before 1970; send the time the customer answered"),
        (
            "2026-11-23T15:05:01Z",
            "2026-11-23T15:05:01+00:00 is more than 5 minutes in the future; check the sending system's clock",
        ),
        (
            "2099-01-01T00:00:00Z",
            "2099-01-01T00:00:00+00:00 is more than 5 minutes in the future; check the sending system's clock",
        ),
    ],
)
def test_an_impossible_submission_time_is_refused_naming_the_field_and_nothing_is_stored(sent, message):
    status, body = post(sent)
    assert status == 422
    assert body["errors"] == [{"loc": ["submitted_at"], "msg": message}]
    assert Response.objects.count() == 0


@pytest.mark.parametrize("sent", ["1970-01-01T00:00:00Z", "2026-11-23T15:05:00Z", "2026-11-23T15:04:00Z", "2021-06-01"])
def test_the_first_instant_of_1970_and_five_minutes_of_clock_skew_are_accepted(sent):
    status, body = post(sent)
    assert status == 201, body


def test_a_bad_time_is_reported_together_with_bad_answers():
    body = {
        "survey": "upgrade-install",
        "external_id": "t-2",
        "submitted_at": "2099-01-01T00:00:00Z",
        "answers": {"ease": 11},
    }
    with time_machine.travel(NOW, tick=False):
        response = ApiClient(create_token(["ingest"])).post("/api/v1/responses", body)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["errors"]] == [["answers", "ease"], ["submitted_at"]]


def test_a_file_row_with_an_impossible_date_goes_to_the_rejects_file(tmp_path: Path):
    path = write(
        tmp_path / "in.csv",
        HEADER,
        csv_row("good", date="2026-11-20T10:04:00Z"),
        csv_row("year-one", date="0001-01-01"),
        csv_row("tomorrow", date="2026-11-24T15:00:00Z"),
    )
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("ingest", str(path), "--survey", "upgrade-install", stdout=out)
    assert "created:  1" in out.getvalue() and "rejected: 2" in out.getvalue()
    rejects = {row["external_id"]: row["reason"] for row in read_rejects(path)}
    assert rejects == {
        "year-one": "submitted_at: 0001-01-01T00:00:00 is before 1970; send the time the customer answered",
        "tomorrow": "submitted_at: 2026-11-24T15:00:00+00:00 is more than 5 minutes in the future; "
        "check the sending system's clock",
    }
    assert rejects_path(path).exists()
    assert list(Response.objects.values_list("external_id", flat=True)) == ["good"]


def test_the_responses_page_stays_readable_for_the_unit():
    # Nothing before 1970 can be stored, so the list never has to draw one.
    post("0001-01-01")
    post("2026-11-23T10:00:00Z")
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        page = login_as("erin").get("/responses/")
    assert page.status_code == 200
    assert Response.objects.count() == 1


def test_a_connectors_response_with_a_time_far_ahead_is_refused_when_stored():
    sent = payload_json("delighted_webhook_docs_current.json")
    sent["event_data"]["created_at"] = int(datetime(2099, 1, 1, tzinfo=UTC).timestamp())
    survey = Survey("relationship", {"recommend": q("recommend", "nps"), "comment": q("comment", "text")})
    spec = source("delighted", survey="relationship", map={"answers": {"recommend": "score", "comment": "comment"}})
    (item,) = translate(spec, inbound(json.dumps(sent)), survey).items
    item.body["unit"] = "SUP-EMEA"
    (outcome,) = ingest_responses([item.body], source="delighted", now=NOW)
    assert isinstance(outcome, RejectedInput)
    assert [(error.loc, error.msg) for error in outcome.errors] == [
        (
            ("submitted_at",),
            "2099-01-01T00:00:00+00:00 is more than 5 minutes in the future; check the sending system's clock",
        )
    ]
    assert Response.objects.count() == 0
