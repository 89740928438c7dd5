"""Typeform's form_response webhook (the docs example) and Responses API items (real account data)."""

from __future__ import annotations

import json

import pytest

from closeloop.connectors import Ignored, PayloadUnreadable, Survey
from tests.connectors.conftest import inbound, jsonl, payload, payload_json, q, source, translate

DOCS_MAP = {
    "answers": {
        "weather": {"ref": "readable_ref_rating", "scale": [1, 5]},
        "favourite_missing": {"ref": "readable_ref_yes_no"},
        "comment": "readable_ref_long_text",
        "cities": {"field": "PNe8ZKBK8C2Q"},
        "city": "readable_ref_multiple_choice",
    },
    "customer": {"id": {"hidden": "user_id"}, "email": "readable_ref_email", "name": "readable_ref_short_text"},
    "segment": {"variable": "name", "values": {"typeform": "SMB"}},
}


@pytest.fixture
def city_survey() -> Survey:
    return Survey(
        "csat",
        {
            "weather": q("weather", "scale", 1, 10),
            "favourite_missing": q("favourite_missing", "yes_no"),
            "comment": q("comment", "text"),
            "cities": q("cities", "multi_choice", options=("London", "Sydney", "Paris")),
            "city": q("city", "choice", options=("London", "Paris")),
        },
        overall="weather",
    )


def test_the_docs_example_translates_through_the_map(city_survey: Survey) -> None:
    result = translate(source("typeform", map=DOCS_MAP), inbound(payload("typeform_form_response.json")), city_survey)
    assert result.event_id == "LtWXD3crgy"
    assert result.merge is False
    (item,) = result.items
    assert item.problems == ()
    assert item.body == {
        "survey": "csat",
        "external_id": "a3a12ec67a1365927098a606107fac15",
        "submitted_at": "2018-01-18T18:17:02+00:00",
        "segment": "SMB",
        "customer": {"id": "abc123456", "email": "laura@example.com", "name": "Laura"},
        "answers": {
            # rating 3 of 1..5 is halfway: 1 + 0.5 * 9 = 5.5, rounded half up
            "weather": 6,
            "favourite_missing": False,
            "comment": "It's cold right now! I live in an older medium-sized city with a university. "
            "Geographically, the area is hilly.",
            "cities": ["London", "Sydney"],
            "city": "London",
        },
    }


def test_without_a_map_refs_and_hidden_fields_named_like_our_keys_are_used() -> None:
    data = payload_json("typeform_form_response.json")
    data["form_response"]["hidden"] = {"ticket": "T-1001", "unit": "SUP-EMEA", "customer_email": "pat@example.com"}
    survey = Survey(
        "csat",
        {"readable_ref_opinion_scale": q("readable_ref_opinion_scale", "scale", 1, 5), "other": q("other", "text")},
    )
    (item,) = translate(source("typeform"), inbound(json.dumps(data)), survey).items
    assert item.body["answers"] == {"readable_ref_opinion_scale": 2}
    assert (item.body["ticket"], item.body["unit"]) == ("T-1001", "SUP-EMEA")
    # The e-mail is the customer's id when nothing else names one.
    assert item.body["customer"] == {"email": "pat@example.com", "id": "pat@example.com"}
    assert item.problems == ()


def test_a_question_in_the_definition_but_unanswered_is_no_problem(city_survey: Survey) -> None:
    data = payload_json("typeform_form_response.json")
    answers = data["form_response"]["answers"]
    data["form_response"]["answers"] = [a for a in answers if a["field"]["id"] != "WOTdC00F8A3h"]
    (item,) = translate(source("typeform", map=DOCS_MAP), inbound(json.dumps(data)), city_survey).items
    assert "weather" not in item.body["answers"]
    assert item.problems == ()


def test_mapping_problems_are_listed_and_the_rest_is_kept(city_survey: Survey) -> None:
    mapping = {
        "answers": {
            "weather": "readable_ref_short_text",  # "Laura" is no score
            "comment": "no_such_ref",
            "city": "readable_ref_number1",  # 5 is not one of the options
            "favourite_missing": {"ref": "readable_ref_yes_no"},
        },
        "unit": {"hidden": "store", "optional": True},
        "customer": {"email": "readable_ref_short_text"},
    }
    (item,) = translate(
        source("typeform", map=mapping), inbound(payload("typeform_form_response.json")), city_survey
    ).items
    assert item.body["answers"] == {"favourite_missing": False}
    assert "customer" not in item.body
    # Envelope and customer fields come first, then the answers in the order the map lists them.
    assert item.problems == (
        "map.customer.email: 'Laura' is not an email address",
        "map.answers.weather: 'Laura' is not a number",
        "map.answers.comment: ref 'no_such_ref' is not in the payload",
        "map.answers.city: '5' is not one of the options: London, Paris",
    )


def test_responses_api_items_without_definition_translate() -> None:
    rows = jsonl("typeform_api_responses_airbyte.jsonl")
    survey = Survey(
        "csat",
        {
            "party": q("party", "choice", options=("Center-right party", "Left")),
            "direction": q("direction", "choice", options=("Going in the wrong direction", "Right direction")),
            "speed": q("speed", "nps"),
            "weeks": q("weeks", "multi_choice", options=("Dec 12-16", "Dec 19-23", "Jan 9-14", "Jan 16-20")),
        },
    )
    mapping = {
        "answers": {
            "party": {"ref": "8267768033031e53", "optional": True},
            "direction": {"field": "rB7FJUThFlu4", "optional": True},
            "speed": {"ref": "f1939629f760be75", "scale": [1, 5], "optional": True},
            "weeks": {"ref": "01GHC6KQ5Y6S9ZQH5CHKZPT1RM", "optional": True},
        }
    }
    spec = source("typeform", map=mapping)
    first = translate(spec, inbound(json.dumps(rows[0])), survey)
    assert first.event_id == "fr2wm964fnyxpdx9a8tfr2wmlph34hqi"
    assert first.items[0].body["answers"] == {}
    assert first.items[0].problems == (
        "map.answers.weeks: 'Jan 22-26', 'Jan30 - Feb3', 'Feb 19-24' not among the options: "
        "Dec 12-16, Dec 19-23, Jan 9-14, Jan 16-20",
    )
    third = translate(spec, inbound(json.dumps(rows[2])), survey).items[0]
    assert third.body["external_id"] == "x9ege1s9u758nla0bx9ege1bg63u7daz"
    assert third.body["submitted_at"] == "2021-07-01T10:04:01+00:00"
    # opinion scale 1 of 1..5 is the bottom of nps
    assert third.body["answers"] == {
        "party": "Center-right party",
        "direction": "Going in the wrong direction",
        "speed": 0,
    }
    assert third.problems == ()


def test_partial_responses_and_other_events_are_ignored(csat: Survey) -> None:
    with pytest.raises(Ignored, match="form_response_partial"):
        translate(source("typeform"), inbound('{"event_type": "form_response_partial", "form_response": {}}'), csat)
    with pytest.raises(Ignored, match="'form_deleted' is not a response"):
        translate(source("typeform"), inbound('{"event_type": "form_deleted"}'), csat)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "the body is empty"),
        (
            b"{not json",
            "the body is not valid JSON (Expecting property name enclosed in double quotes at line 1 column 2)",
        ),
        (b"\xff\xfe{}", "the body is not UTF-8 text (invalid start byte at byte 0)"),
        (b"[1, 2]", "expected a JSON object, got a JSON list"),
        (
            b'{"event_type": "form_response", "form_response": {"answers": {}}}',
            "form_response is missing or not an object with an answers list",
        ),
        (
            b'{"event_type": "form_response", "form_response": {"answers": []}}',
            "no response id to use as external_id (map.external_id: meta 'token' is not in the payload)",
        ),
    ],
)
def test_unreadable_bodies_say_why(csat: Survey, body: bytes, reason: str) -> None:
    with pytest.raises(PayloadUnreadable) as caught:
        translate(source("typeform"), inbound(body), csat)
    assert caught.value.reason == reason
