"""SurveyMonkey: verify the thin callback, fetch the response from (a local stand-in for) their API, translate it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from closeloop.connectors import (
    FetchFailed,
    Ignored,
    PayloadUnreadable,
    SourceInvalid,
    Survey,
    http,
    load_source,
    receive,
)
from tests.connectors.conftest import NOW, SECRET, b64_hmac, inbound, payload_json, q
from tests.connectors.tool_api import FakeApi, serve

RESPONSE = payload_json("surveymonkey_responses_bulk.json")["data"][0]
DETAILS = "/v3/surveys/105723396/responses/5007154325/details"


def callback(event_type: str = "response_completed") -> bytes:
    event = dict(payload_json("surveymonkey_webhook_events.json")["example_response_event_data"])
    event.update(event_type=event_type, object_id="5007154325")
    event["resources"] = {**event["resources"], "survey_id": "105723396"}
    return json.dumps(event).encode()


def signed(body: bytes) -> dict[str, str]:
    return {"Sm-Apikey": "client-123", "Sm-Signature": b64_hmac(f"client-123&{SECRET}", body, "sha1")}


@pytest.fixture
def api() -> Iterator[FakeApi]:
    with serve(FakeApi({DETAILS: (200, json.dumps(RESPONSE).encode())})) as running:
        yield running


@pytest.fixture
def survey() -> Survey:
    return Survey("csat", {"likely": q("likely", "nps"), "comment": q("comment", "text")}, overall="likely")


def spec(api_base: str, **extra: object):
    return load_source(
        {
            "key": "sm",
            "tool": "surveymonkey",
            "survey": "csat",
            "secret": SECRET,
            "options": {"client_id": "client-123", "access_token": "sm-access-token", "api_base": api_base + "/v3"},
            "map": {
                "answers": {"likely": {"question": "319352786", "values": {"3057839051": 2}}},
                "ticket": {"custom": "custvar_1"},
                "segment": {"custom": "custvar_2", "values": {"two": "ENT"}},
            },
            **extra,
        }
    )


def test_a_completed_response_is_fetched_with_the_token_and_translated(api: FakeApi, survey: Survey) -> None:
    body = callback()
    result = receive(inbound(body, signed(body)), spec(api.base), survey=survey, now=NOW, fetch=http.fetch)
    (path, headers) = api.requests[0]
    assert path == DETAILS
    assert headers["authorization"] == "Bearer sm-access-token"
    assert headers["accept"] == "application/json"
    assert result.event_id == "123456789"
    assert result.merge is False
    (item,) = result.items
    assert item.body == {
        "survey": "csat",
        "external_id": "5007154325",
        # The docs' own epoch-ish date is kept as sent, not refused.
        "submitted_at": "1970-01-17T19:07:34+00:00",
        "ticket": "one",
        "segment": "ENT",
        "answers": {"likely": 2},
    }
    assert item.problems == ()


def test_an_update_is_a_merge_and_other_events_are_not_fetched(api: FakeApi, survey: Survey) -> None:
    body = callback("response_updated")
    assert receive(inbound(body, signed(body)), spec(api.base), survey=survey, now=NOW).merge is True
    for event_type in ("response_created", "response_disqualified", "collector_created"):
        body = callback(event_type)
        with pytest.raises(Ignored, match=event_type):
            receive(inbound(body, signed(body)), spec(api.base), survey=survey, now=NOW)
    assert len(api.requests) == 1


def test_an_unmapped_choice_is_a_problem(api: FakeApi, survey: Survey) -> None:
    body = callback()
    source = spec(api.base, map={"answers": {"likely": {"question": "319352786", "values": {"1": 0}}}})
    (item,) = receive(inbound(body, signed(body)), source, survey=survey, now=NOW).items
    assert item.body["answers"] == {}
    assert item.problems == ("map.answers.likely: '3057839051' is not in the values table (it has '1')",)


def test_api_failures_are_fetch_failures_and_bad_answers_unreadable(survey: Survey) -> None:
    body = callback()
    with serve(FakeApi({DETAILS: (500, b"oops")})) as broken:
        with pytest.raises(FetchFailed) as caught:
            receive(inbound(body, signed(body)), spec(broken.base), survey=survey, now=NOW)
        assert caught.value.reason == f"{broken.base.removeprefix('http://')} answered 500 Internal Server Error"
        assert caught.value.status == 502
    with serve(FakeApi({DETAILS: (200, b"<html>")})) as odd, pytest.raises(PayloadUnreadable, match="not JSON"):
        receive(inbound(body, signed(body)), spec(odd.base), survey=survey, now=NOW)
    with (
        serve(FakeApi({DETAILS: (200, b'{"pages": []}')})) as empty,
        pytest.raises(PayloadUnreadable, match="no response id"),
    ):
        receive(inbound(body, signed(body)), spec(empty.base), survey=survey, now=NOW)


def test_a_partial_response_is_ignored(survey: Survey) -> None:
    body = callback()
    partial = {**RESPONSE, "response_status": "partial"}
    with (
        serve(FakeApi({DETAILS: (200, json.dumps(partial).encode())})) as api,
        pytest.raises(Ignored, match="'partial'"),
    ):
        receive(inbound(body, signed(body)), spec(api.base), survey=survey, now=NOW)


def test_a_callback_without_ids_is_unreadable(survey: Survey) -> None:
    body = b'{"event_type": "response_completed", "object_type": "response"}'
    with pytest.raises(PayloadUnreadable, match="names no response"):
        receive(inbound(body, signed(body)), spec("http://127.0.0.1:9"), survey=survey, now=NOW)


def test_matrix_rows_other_text_and_the_token_file(tmp_path: Path, survey: Survey) -> None:
    response = {
        **RESPONSE,
        "pages": [
            {
                "id": "1",
                "questions": [
                    {"id": "900", "answers": [{"row_id": "r1", "choice_id": "c9"}]},
                    {"id": "901", "answers": [{"text": "Nobody called me back."}]},
                    {"id": "902", "answers": [{"choice_id": "c1"}, {"other_id": "o1", "text": "By fax"}]},
                ],
            }
        ],
    }
    token = tmp_path / "sm-token"
    token.write_text("file-token\n")
    body = callback()
    with serve(FakeApi({DETAILS: (200, json.dumps(response).encode())})) as api:
        source = load_source(
            {
                "key": "sm",
                "tool": "surveymonkey",
                "survey": "csat",
                "secret": SECRET,
                "options": {"client_id": "client-123", "access_token_file": str(token), "api_base": api.base + "/v3"},
                "map": {
                    "answers": {"likely": {"question": "900/r1", "values": {"c9": 9}}, "comment": "901"},
                    "interviewer_notes": "902/other",
                },
            }
        )
        (item,) = receive(inbound(body, signed(body)), source, survey=survey, now=NOW).items
        assert api.requests[0][1]["authorization"] == "Bearer file-token"
    assert item.body["answers"] == {"likely": 9, "comment": "Nobody called me back."}
    assert item.body["interviewer_notes"] == "By fax"


def test_options_are_checked() -> None:
    with pytest.raises(SourceInvalid) as caught:
        load_source(
            {
                "key": "sm",
                "tool": "surveymonkey",
                "survey": "csat",
                "secret": SECRET,
                "options": {"api_base": "ftp://x"},
            }
        )
    assert caught.value.problems == ["options.client_id: Field required"]
    with pytest.raises(SourceInvalid) as caught:
        load_source(
            {"key": "sm", "tool": "surveymonkey", "survey": "csat", "secret": SECRET, "options": {"client_id": "c"}}
        )
    assert caught.value.problems == ["options.access_token: give access_token or access_token_file (one of them)"]
