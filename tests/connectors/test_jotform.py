"""Jotform: the real multipart capture (LF line endings as stored, and CRLF as sent), rawRequest inside."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from closeloop.connectors import PayloadUnreadable, Survey
from tests.connectors.conftest import inbound, payload, q, source, translate

BOUNDARY = "------------------------J1JNT4vbVO4FCC1qLG4HSv"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture
def survey() -> Survey:
    return Survey(
        "csat",
        {
            "kind": q("kind", "choice", options=("Online Tutoring", "In person")),
            "grade": q("grade", "scale", 1, 12),
            "prior": q("prior", "yes_no"),
            "description": q("description", "text"),
        },
    )


MAP = {
    "answers": {"kind": "typeOf", "grade": "grade", "prior": "priorTutoring", "description": {"field": "description"}},
    "customer": {"name": "studentsName", "id": {"meta": "username"}},
    "ticket": {"qid": "34"},
}


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"], ids=["lf-as-stored", "crlf-as-sent"])
def test_the_real_capture_translates(survey: Survey, line_end: bytes) -> None:
    body = payload("jotform_webhook_zulip.multipart").replace(b"\r\n", b"\n").replace(b"\n", line_end)
    result = translate(source("jotform", map=MAP), inbound(body, content_type=MULTIPART), survey)
    assert result.event_id == "jotform-6084250982513018472"
    (item,) = result.items
    assert item.body == {
        "survey": "csat",
        "external_id": "6084250982513018472",
        "submitted_at": "2026-11-23T10:04:00+00:00",  # Jotform sends no time: the arrival
        "ticket": "Math",
        "customer": {"name": "Niloth P", "id": "UserNiloth"},
        # "12" arrives as text; the question's type makes it a number.
        "answers": {"kind": "Online Tutoring", "grade": 12, "prior": False},
    }
    # description is in the form but empty: unanswered, no problem.
    assert item.problems == ()


def test_an_old_urlencoded_webhook_reads_the_same(survey: Survey) -> None:
    raw = {"q33_typeOf": "In person", "q35_grade": "7", "q27_priorTutoring": "Yes"}
    body = urlencode({"formID": "1", "submissionID": "99", "rawRequest": json.dumps(raw)})
    spec = source("jotform", map={"answers": {"kind": "typeOf", "grade": "grade", "prior": "priorTutoring"}})
    (item,) = translate(spec, inbound(body, content_type="application/x-www-form-urlencoded"), survey).items
    assert item.body["answers"] == {"kind": "In person", "grade": 7, "prior": True}
    assert item.body["external_id"] == "99"


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        ("formID=1", "application/x-www-form-urlencoded", "no rawRequest field: is this a Jotform webhook?"),
        (
            "rawRequest=%7Bbroken",
            "application/x-www-form-urlencoded",
            "rawRequest is not valid JSON (Expecting property name enclosed in double quotes at column 2)",
        ),
        ("rawRequest=%5B%5D", "application/x-www-form-urlencoded", "rawRequest is not a JSON object"),
        ("anything", "multipart/form-data", "multipart/form-data without a boundary in the Content-Type header"),
        ("no parts here", MULTIPART, "the body is not multipart/form-data"),
        (
            f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--\r\n",
            MULTIPART,
            "the multipart body has no form fields (is the boundary right?)",
        ),
    ],
)
def test_unreadable_bodies_say_why(survey: Survey, body: str, content_type: str, reason: str) -> None:
    with pytest.raises(PayloadUnreadable) as caught:
        translate(source("jotform"), inbound(body, content_type=content_type), survey)
    assert caught.value.reason == reason
