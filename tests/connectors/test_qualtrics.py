"""Qualtrics: the three-header-row export CSV and the completedResponse event with its fetch."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from closeloop.connectors import Ignored, PayloadUnreadable, QualtricsExport, Survey, load_source, receive
from tests.connectors.conftest import NOW, SECRET, inbound, payload, q
from tests.connectors.tool_api import FakeApi, serve

EXPORT = payload("qualtrics_export_qualtRics_sample.csv").decode("utf-8")
RESPONSE_PATH = "/API/v3/surveys/SV_0123456789ABCDE/responses/R_2YPOQ602ER1jkf1"
MAP = {"answers": {"choice": {"id": "QID1", "values": {"1": "Yes", "2": "No", "3": "Maybe"}}, "comment": "QID2_TEXT"}}


@pytest.fixture
def survey() -> Survey:
    return Survey(
        "csat", {"choice": q("choice", "choice", options=("Yes", "No", "Maybe")), "comment": q("comment", "text")}
    )


def qualtrics(api_base: str | None = None, **extra: object):
    options = {"api_base": api_base, "api_token": "qx-token"} if api_base else {}
    return load_source(
        {"key": "qx", "tool": "qualtrics", "survey": "csat", "secret": SECRET, "options": options, "map": MAP, **extra}
    )


def test_the_export_reads_by_import_id(survey: Survey) -> None:
    export = QualtricsExport(io.StringIO(EXPORT, newline=""), survey, source=qualtrics(), received_at=NOW)
    assert export.columns[:3] == ["StartDate", "EndDate", "Status"]
    (row,) = list(export.rows())
    assert row.line == 4
    assert row.item is not None
    assert row.item.body == {
        "survey": "csat",
        "external_id": "R_2YPOQ602ER1jkf1",
        "submitted_at": "2017-07-18T08:28:48",
        "answers": {"choice": "No", "comment": "Hello World!"},
    }
    assert row.item.problems == ()


def test_without_a_source_columns_named_like_question_keys_are_used() -> None:
    renamed = EXPORT.replace(",Q1,Q2,", ",rating,comment,", 1)
    survey = Survey("csat", {"rating": q("rating", "scale", 1, 3), "comment": q("comment", "text")})
    (row,) = list(QualtricsExport(io.StringIO(renamed, newline=""), survey, received_at=NOW).rows())
    assert row.item is not None
    assert row.item.body["answers"] == {"rating": 2, "comment": "Hello World!"}


def test_previews_tests_and_spam_are_skipped_and_short_rows_reported(survey: Survey) -> None:
    lines = EXPORT.splitlines()
    preview = lines[3].replace(",0,130.92.34.66,", ",1,130.92.34.66,")
    text = "\n".join([*lines[:3], preview, "a,b,c"]) + "\n"
    rows = list(QualtricsExport(io.StringIO(text, newline=""), survey, source=qualtrics()).rows())
    assert [(r.line, r.skipped, r.error) for r in rows] == [
        (4, "a survey preview", None),
        (5, None, "the row has 3 cells, the header has 20"),
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("StartDate,EndDate\nA,B\n", "a Qualtrics export has three header rows; this file has fewer"),
        ("StartDate,EndDate\nA,B\nC,D\n", 'the third header row is not the ImportIds ({"ImportId":"QID1"}, ...)'),
    ],
)
def test_a_file_that_is_not_an_export_is_unreadable(survey: Survey, text: str, reason: str) -> None:
    with pytest.raises(PayloadUnreadable) as caught:
        QualtricsExport(io.StringIO(text, newline=""), survey)
    assert caught.value.reason == reason


@pytest.fixture
def api() -> Iterator[FakeApi]:
    body = payload("qualtrics_get_response_reconstructed.json")
    with serve(FakeApi({RESPONSE_PATH: (200, body)})) as running:
        yield running


def test_the_completed_response_event_fetches_the_same_values(api: FakeApi, survey: Survey) -> None:
    event = inbound(
        payload("qualtrics_event_completedResponse.form"),
        query=f"token={SECRET}",
        content_type="application/x-www-form-urlencoded",
    )
    result = receive(event, qualtrics(api.base + "/API/v3"), survey=survey, now=NOW)
    assert api.requests[0][0] == RESPONSE_PATH
    assert api.requests[0][1]["x-api-token"] == "qx-token"
    assert result.event_id == "qualtrics-R_2YPOQ602ER1jkf1"
    (item,) = result.items
    assert item.body == {
        "survey": "csat",
        "external_id": "R_2YPOQ602ER1jkf1",
        "submitted_at": "2017-07-18T08:28:48+00:00",
        "answers": {"choice": "No", "comment": "Hello World!"},
    }


def test_a_json_event_with_other_key_case_is_read(api: FakeApi, survey: Survey) -> None:
    body = json.dumps(
        {
            "topic": "surveyengine.completedResponse.SV_0123456789ABCDE",
            "surveyId": "SV_0123456789ABCDE",
            "responseId": "R_2YPOQ602ER1jkf1",
        }
    )
    result = receive(inbound(body, query=f"token={SECRET}"), qualtrics(api.base + "/API/v3"), survey=survey, now=NOW)
    assert result.items[0].body["answers"]["comment"] == "Hello World!"


def test_other_topics_and_events_without_ids(survey: Survey) -> None:
    spec = qualtrics("http://127.0.0.1:9/API/v3")
    form = "application/x-www-form-urlencoded"
    with pytest.raises(Ignored, match="is not a completed response"):
        spec.connector.translate(
            inbound("Topic=surveyengine.partialResponse.SV_1", content_type=form),
            spec,
            survey=survey,
            fetch=lambda url, headers: b"",
        )
    with pytest.raises(PayloadUnreadable, match="no SurveyID or ResponseID"):
        spec.connector.translate(
            inbound("Topic=surveyengine.completedResponse.SV_1", content_type=form),
            spec,
            survey=survey,
            fetch=lambda url, headers: b"",
        )
    without_api = qualtrics()
    with pytest.raises(PayloadUnreadable, match="no options.api_base"):
        without_api.connector.translate(
            inbound(payload("qualtrics_event_completedResponse.form"), content_type=form),
            without_api,
            survey=survey,
            fetch=lambda url, headers: b"",
        )
