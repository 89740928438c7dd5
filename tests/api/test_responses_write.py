"""POST /api/v1/responses and PATCH /api/v1/responses/{id} through the ingest service."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from closeloop.cases.models import Case
from closeloop.feedback.models import Response
from tests.api.conftest import response_body
from tests.api.test_auth import assert_error

pytestmark = pytest.mark.django_db

LIST = "/api/v1/responses"


def error_locs(response) -> list[list]:
    return [e["loc"] for e in assert_error(response, 422)["errors"]]


def test_the_201_is_built_from_what_the_post_wrote_without_reading_its_alerts_and_case_back(org, api_as):
    with CaptureQueriesContext(connection) as queries:
        posted = api_as("ingest").post(LIST, response_body())
    # The serialisation's prefetch reads by response: `"alerts_alert"."response_id" IN (...)`, and the same
    # for cases (counted before the next request clears the connection's log).
    read_back = [
        q["sql"]
        for q in queries.captured_queries
        if re.search(r'"(alerts_alert|cases_case)"."response_id" IN', q["sql"])
    ]
    assert posted.status_code == 201 and len(queries.captured_queries) > 5
    assert read_back == []
    body = posted.json()
    assert body["alerts"] and body["case"] == Case.objects.get().pk
    assert body == api_as("read").get(f"{LIST}/{body['id']}").json()


def test_a_new_response_gets_201_with_the_stored_response(org, api_as):
    response = api_as("ingest").post(LIST, response_body())
    assert response.status_code == 201, response.content
    body = response.json()
    stored = Response.objects.get()
    assert body["id"] == stored.pk
    assert stored.source == "api"
    assert body["status"] == "valid" and body["problems"] == []
    assert body["unit"] == "SUP-EMEA" and body["agent"] == "erin" and body["customer"]["id"] == "C-77"
    assert body["ticket_url"] == "https://support.example/t/T-1001"
    assert "case" in body and isinstance(body["notes"], list)
    # No rule matches, so the built-in `threshold` rule flags the low overall score (3 <= 6).
    assert body["overall"] == 3 and body["needs_recovery"] is True
    assert [(a["rule"], a["kind"]) for a in body["alerts"]] == [("threshold", "recovery")]
    assert body["alerts"][0]["id"] == stored.alerts.get().pk
    assert datetime.fromisoformat(body["submitted_at"]) == datetime.fromisoformat("2026-11-23T10:04:00+00:00")


def test_submitted_at_defaults_to_now(org, api_as):
    body = response_body()
    del body["submitted_at"]
    with time_machine.travel("2026-11-23T12:00:00Z", tick=False):
        created = api_as("ingest").post(LIST, body).json()
    assert datetime.fromisoformat(created["submitted_at"]) == datetime.fromisoformat("2026-11-23T12:00:00+00:00")


def test_the_same_survey_and_external_id_again_gets_200_and_nothing_new(org, api_as):
    client = api_as("ingest", "read")
    first = client.post(LIST, response_body())
    again = client.post(LIST, response_body(answers={"ease": 9}))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["answers"]["ease"] == 3
    assert Response.objects.count() == 1


def test_an_unknown_unit_is_stored_as_invalid_with_its_problems(org, api_as):
    response = api_as("ingest").post(LIST, response_body(unit="ATLANTIS"))
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "invalid"
    assert any("ATLANTIS" in problem for problem in body["problems"])
    assert body["alerts"] == [] and body["case"] is None


def test_a_response_without_a_segment_is_valid_when_segments_are_configured(org, api_as):
    body = response_body()
    del body["segment"]
    response = api_as("ingest").post(LIST, body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "valid" and created["problems"] == []
    assert [a["rule"] for a in created["alerts"]] == ["threshold"]


def test_an_unknown_segment_is_stored_as_invalid(org, api_as):
    created = api_as("ingest").post(LIST, response_body(segment="GOV")).json()
    assert created["status"] == "invalid"
    assert created["problems"] == ["segment: unknown segment 'GOV'"]
    assert created["alerts"] == [] and created["case"] is None


@pytest.mark.parametrize("field", ["survey", "external_id", "answers"])
def test_a_missing_required_field_gets_422_naming_it(org, api_as, field):
    body = response_body()
    del body[field]
    assert error_locs(api_as("ingest").post(LIST, body)) == [[field]]
    assert not Response.objects.exists()


def test_every_missing_required_field_is_named_at_once(org, api_as):
    assert sorted(error_locs(api_as("ingest").post(LIST, {}))) == [["answers"], ["external_id"], ["survey"]]


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"survey": 12}, ["survey"]),
        ({"interviewer_flag": "yes"}, ["interviewer_flag"]),
        ({"answers": ["ease", 3]}, ["answers"]),
        ({"customer": {"id": "C-1", "email": "not-an-email"}}, ["customer", "email"]),
        ({"submitted_at": "yesterday"}, ["submitted_at"]),
        ({"colour": "blue"}, ["colour"]),
    ],
)
def test_a_field_of_the_wrong_type_gets_422_naming_it(org, api_as, overrides, loc):
    assert loc in error_locs(api_as("ingest").post(LIST, response_body(**overrides)))
    assert not Response.objects.exists()


def test_bad_answers_get_422_naming_each_question(org, api_as):
    answers = {"ease": 11, "completed": "no", "mood": "fine"}
    locs = error_locs(api_as("ingest").post(LIST, response_body(answers=answers)))
    assert sorted(locs) == [["answers", "completed"], ["answers", "ease"], ["answers", "mood"]]
    assert not Response.objects.exists()


def test_an_unknown_survey_gets_422_naming_survey(org, api_as):
    response = api_as("ingest").post(LIST, response_body(survey="no-such-survey"))
    body = assert_error(response, 422)
    assert body["errors"][0]["loc"] == ["survey"]
    assert "survey" in body["detail"]


def test_patch_fixes_a_quarantined_response(org, api_as):
    created = api_as("ingest").post(LIST, response_body(unit="ATLANTIS")).json()
    response = api_as("write").patch(f"{LIST}/{created['id']}", {"unit": "SUP-UK"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "valid" and body["problems"] == [] and body["unit"] == "SUP-UK"
    assert Response.objects.get().unit.code == "SUP-UK"


def test_patch_with_an_unknown_unit_gets_422_and_changes_nothing(org, api_as):
    created = api_as("ingest").post(LIST, response_body(unit="ATLANTIS")).json()
    assert error_locs(api_as("write").patch(f"{LIST}/{created['id']}", {"unit": "NOWHERE"})) == [["unit"]]
    assert Response.objects.get().unit_code == "ATLANTIS"


def test_patch_of_an_unknown_field_gets_422_naming_it(org, api_as):
    created = api_as("ingest").post(LIST, response_body(unit="ATLANTIS")).json()
    assert error_locs(api_as("write").patch(f"{LIST}/{created['id']}", {"answers": {}})) == [["answers"]]


def test_patch_with_malformed_json_gets_422(org, api_as):
    created = api_as("ingest").post(LIST, response_body(unit="ATLANTIS")).json()
    body = assert_error(api_as("write").patch(f"{LIST}/{created['id']}", raw=b"{unit:"), 422)
    assert body["detail"].startswith("Malformed JSON")


def test_patch_of_a_response_outside_the_persons_units_gets_404(org, api_as):
    created = api_as("ingest").post(LIST, response_body(unit="SUP-AMER")).json()
    erin = api_as("write", person=org["people"]["erin"])
    assert_error(erin.patch(f"{LIST}/{created['id']}", {"segment": "ENT"}), 404)
    assert Response.objects.get().segment == "SMB"


def test_a_new_response_for_the_same_ticket_replaces_the_earlier_one_in_the_list(org, api_as):
    ingest, reader = api_as("ingest"), api_as("read")
    earlier = ingest.post(LIST, response_body(external_id="sm-1", ticket="T-7")).json()
    later = ingest.post(LIST, response_body(external_id="sm-2", ticket="T-7")).json()
    assert [item["id"] for item in reader.get(LIST, ticket="T-7").json()["items"]] == [later["id"]]
    assert reader.get(f"{LIST}/{earlier['id']}").json()["superseded_by"] == later["id"]
    everything = reader.get(LIST, ticket="T-7", include_superseded="true").json()
    assert {item["id"] for item in everything["items"]} == {earlier["id"], later["id"]}


def test_only_an_admin_or_a_service_token_moves_a_valid_response_to_another_unit(org, api_as):
    created = api_as("ingest").post(LIST, response_body(unit="SUP-UK")).json()
    erin = api_as("write", person=org["people"]["erin"])  # leads SUP-EMEA, which holds SUP-UK
    body = assert_error(erin.patch(f"{LIST}/{created['id']}", {"unit": "SUP-EMEA"}), 403)
    assert "admin" in body["detail"]
    assert erin.patch(f"{LIST}/{created['id']}", {"segment": "ENT"}).status_code == 200
    amy = api_as("write", person=org["people"]["amy"])  # an admin
    moved = amy.patch(f"{LIST}/{created['id']}", {"unit": "SUP-AMER"})
    assert moved.status_code == 200 and moved.json()["unit"] == "SUP-AMER"
    assert api_as("write").patch(f"{LIST}/{created['id']}", {"unit": "SUP-UK"}).json()["unit"] == "SUP-UK"
