"""Tally's FORM_RESPONSE webhook: every field type of the official example, garbage e-mails included."""

from __future__ import annotations

import json

import pytest

from closeloop.connectors import Ignored, PayloadUnreadable, Survey
from tests.connectors.conftest import inbound, payload, q, source, translate


@pytest.fixture
def survey() -> Survey:
    return Survey(
        "csat",
        {
            "stars": q("stars", "scale", 1, 5),
            "likely": q("likely", "nps"),
            "status": q("status", "choice", options=("Not started", "In progress", "Done", "Blocked")),
            "sports": q("sports", "multi_choice", options=("Soccer", "Swimming", "Skiing")),
            "quality": q("quality", "choice", options=("Unsatisfied", "Neutral", "Satisfied")),
            "speed": q("speed", "choice", options=("Unsatisfied", "Neutral", "Satisfied")),
            "skis": q("skis", "yes_no"),
            "comment": q("comment", "text"),
            "files": q("files", "text"),
        },
        overall="stars",
    )


MAP = {
    "answers": {
        "stars": "Rating",
        "likely": {"label": "Linear scale"},
        "status": "Multiple choice",
        "sports": "Checkboxes",
        "quality": "Matrix/Quality",
        "speed": {"key": "question_mBazQn/53c86017-bdd4-4a41-b501-4f389dfec300"},
        "skis": "Checkboxes (Skiing)",
        "comment": "Long text",
        "files": "File upload",
    },
    "segment": {"hidden": "utm_campaign", "values": {"newsletter": "SMB"}},
    "customer": {"name": "Payment (name)", "tier": {"calculated": "Type"}},
}


def test_the_official_example_translates_every_field_kind(survey: Survey) -> None:
    result = translate(source("tally", map=MAP), inbound(payload("tally_form_response.json")), survey)
    assert result.event_id == "a4cb511e-d513-4fa5-baee-b815d718dfd1"
    (item,) = result.items
    assert item.body == {
        "survey": "csat",
        "external_id": "2wgx4n",
        "submitted_at": "2023-06-28T15:00:21+00:00",
        "segment": "SMB",
        "customer": {"phone": "+32491223344", "name": "Alice Smith", "tier": "Hard", "id": "+32491223344"},
        "answers": {
            "stars": 4,
            "likely": 7,
            "status": "In progress",
            "sports": ["Swimming", "Skiing"],
            "quality": "Satisfied",
            "speed": "Neutral",
            "skis": True,
            "comment": "Hello world",
            "files": "https://storage.googleapis.com/tally-response-assets-dev/vBXMXN/"
            "34fd1ee5-4ead-4929-9a4a-918ac9f0b416/Tally_Icon.png",
        },
    }
    # The scraped page obfuscated the e-mail; it is reported, not stored, and not a rejection.
    assert item.problems == ("map.customer.email: '[email protected]' is not an email address",)


def test_other_events_and_broken_bodies(survey: Survey) -> None:
    with pytest.raises(Ignored, match="'FORM_DELETED' is not a form response"):
        translate(source("tally"), inbound('{"eventType": "FORM_DELETED"}'), survey)
    with pytest.raises(PayloadUnreadable, match="data.fields is missing"):
        translate(source("tally"), inbound('{"eventType": "FORM_RESPONSE", "data": {"fields": "x"}}'), survey)


def test_hidden_fields_named_like_our_keys_fill_the_envelope(survey: Survey) -> None:
    data = json.loads(payload("tally_form_response.json"))
    data["data"]["fields"].append({"key": "h2", "label": "ticket", "type": "HIDDEN_FIELDS", "value": "T-77"})
    (item,) = translate(source("tally"), inbound(json.dumps(data)), survey).items
    assert item.body["ticket"] == "T-77"
