"""Google Forms through the Apps Script relay, and a relayed Sheets "On form submit" event."""

from __future__ import annotations

import json

import pytest

from closeloop.connectors import PayloadUnreadable, Survey
from tests.connectors.conftest import inbound, payload, q, source, translate

# What the relay script in docs/connectors.md posts for one response.
RELAYED = {
    "formId": "1FAIpQLSe-form",
    "responseId": "ACYDBNj_example",
    "timestamp": "2026-11-23T09:58:12.345Z",
    "respondentEmail": "jane.doe@example.com",
    "answers": {
        "How satisfied were you with our support?": "2",
        "Was your issue resolved?": "No",
        "Which channels did you use?": ["Email", "Phone"],
        "Anything else you'd like to tell us?": 'The agent never called me back, and the "fix" broke my order.',
        "Ticket ID": "48213",
    },
    "items": {"1204518": "2"},
}


@pytest.fixture
def survey() -> Survey:
    return Survey(
        "csat",
        {
            "satisfied": q("satisfied", "scale", 1, 5),
            "resolved": q("resolved", "yes_no"),
            "channels": q("channels", "multi_choice", options=("Email", "Phone", "Chat")),
            "comment": q("comment", "text"),
        },
        overall="satisfied",
    )


MAP = {
    "answers": {
        "satisfied": {"item": "1204518"},
        "resolved": "Was your issue resolved?",
        "channels": "Which channels did you use?",
        "comment": "Anything else you'd like to tell us?",
    },
    "ticket": "Ticket ID",
}


def test_the_relay_body_translates(survey: Survey) -> None:
    result = translate(source("google_forms", map=MAP), inbound(json.dumps(RELAYED)), survey)
    assert result.event_id == "google-forms-ACYDBNj_example"
    (item,) = result.items
    assert item.body == {
        "survey": "csat",
        "external_id": "ACYDBNj_example",
        "submitted_at": "2026-11-23T09:58:12.345000+00:00",
        "ticket": "48213",
        "customer": {"email": "jane.doe@example.com", "id": "jane.doe@example.com"},
        "answers": {
            "satisfied": 2,
            "resolved": False,
            "channels": ["Email", "Phone"],
            "comment": 'The agent never called me back, and the "fix" broke my order.',
        },
    }
    assert item.problems == ()


def test_a_relayed_sheets_event_reads_named_values_in_the_sheets_locale(survey: Survey) -> None:
    event = json.loads(payload("google_forms_apps_script_form_submit.json"))
    mapping = {"customer": {"name": "First Name"}, "interviewer_notes": "Last Name"}
    first = translate(source("google_forms", map=mapping), inbound(json.dumps(event)), survey).items[0]
    again = translate(source("google_forms", map=mapping), inbound(json.dumps(event)), survey).items[0]
    # No response id in a Sheets event: one is derived from the answers, the same on every retry.
    assert first.external_id == again.external_id
    assert first.external_id.startswith("gf-") and len(first.external_id) == 27
    assert first.body["submitted_at"] == "2015-06-07T20:54:13"  # M/D/YYYY, no zone: the organisation's
    assert first.body["interviewer_notes"] == "Doe"
    assert first.problems == ("map.customer.id: missing; the customer's details are not stored without an id",)
    day_first = translate(source("google_forms", options={"day_first": True}), inbound(json.dumps(event)), survey)
    assert day_first.items[0].body["submitted_at"] == "2015-07-06T20:54:13"


def test_checkbox_answers_joined_in_one_string_are_split(survey: Survey) -> None:
    body = {**RELAYED, "answers": {**RELAYED["answers"], "Which channels did you use?": ["Email, Chat"]}}
    (item,) = translate(source("google_forms", map=MAP), inbound(json.dumps(body)), survey).items
    assert item.body["answers"]["channels"] == ["Email", "Chat"]


def test_a_body_that_is_not_the_relay_is_unreadable(survey: Survey) -> None:
    with pytest.raises(PayloadUnreadable, match="neither answers nor namedValues"):
        translate(source("google_forms"), inbound('{"values": ["a"]}'), survey)
