"""Delighted's webhook: score first, comment later, both the same response; REST exports too."""

from __future__ import annotations

import json

import pytest

from closeloop.connectors import Ignored, Survey
from tests.connectors.conftest import inbound, jsonl, payload, payload_json, q, source, translate


def test_the_docs_example_gives_score_comment_customer_and_additional_answers(nps: Survey) -> None:
    survey = Survey(
        "csat",
        {
            "likely": q("likely", "nps"),
            "comment": q("comment", "text"),
            "enjoyed": q("enjoyed", "multi_choice", options=("Convenience", "Friendly staff", "Price")),
            "returning": q("returning", "yes_no"),
            "visits": q("visits", "scale", 1, 5),
            "heard": q("heard", "text"),
        },
        overall="likely",
    )
    mapping = {
        "answers": {
            "likely": "score",
            "comment": "comment",
            "enjoyed": {"question": "enum_z9EvYV"},
            "returning": {"question": "enum_caUUdY"},
            "visits": {"question": "integer_buwb3w"},
            "heard": {"question": "text_BJPEm0"},
        }
    }
    result = translate(
        source("delighted", map=mapping), inbound(payload("delighted_webhook_docs_current.json")), survey
    )
    assert result.event_id == "b8d057c59327541d7ec2104c0a9a255ad1997fb00831b9c6bbf09561e6d5cbd0"
    assert result.merge is True  # survey_response.updated
    (item,) = result.items
    assert item.body == {
        "survey": "csat",
        "external_id": "5435",
        "submitted_at": "2024-11-21T11:00:44+00:00",
        "customer": {"id": "5975", "name": "Charlie Gravis", "email": "charlie_gravis@example.com"},
        "answers": {
            "likely": 9,
            "comment": "Your service is fast and flawless!",
            "enjoyed": ["Convenience", "Friendly staff"],
            "returning": True,
            "visits": 4,
            "heard": "A friend recommended you to me!",
        },
    }
    assert item.problems == ()


def test_the_two_phases_are_one_response_the_later_one_a_merge(nps: Survey) -> None:
    later = payload_json("delighted_webhook_non_promoter_zulip.json")
    first = json.loads(json.dumps(later))
    first["event_type"] = "survey_response.created"
    first["event_id"] = "evt-created"
    first["event_data"]["comment"] = None
    spec = source("delighted")  # zero-config: score to the overall nps question, comment to `comment`
    created = translate(spec, inbound(json.dumps(first)), nps)
    updated = translate(spec, inbound(json.dumps(later)), nps)
    assert (created.merge, updated.merge) == (False, True)
    assert created.items[0].external_id == updated.items[0].external_id == "5435"
    assert created.event_id != updated.event_id
    assert created.items[0].body["answers"] == {"likely": 5}
    assert updated.items[0].body["answers"] == {
        "likely": 5,
        "comment": "Your service is slow, but nearly flawless! Keep up the good work!",
    }
    assert updated.items[0].body["customer"] == {
        "id": "5975",
        "name": "Paul Gravis",
        "email": "paul_gravis@example.com",
    }
    assert updated.items[0].body["submitted_at"] == "2016-12-24T14:23:29+00:00"


def test_a_json_body_labelled_as_a_form_is_read(nps: Survey) -> None:
    body = payload("delighted_webhook_promoter_zulip.json")
    (item,) = translate(source("delighted"), inbound(body, content_type="application/x-www-form-urlencoded"), nps).items
    assert item.body["answers"] == {"likely": 9, "comment": "Your service is fast and flawless!"}


def test_scores_are_rescaled_onto_a_five_point_overall_question(csat: Survey) -> None:
    rows = jsonl("delighted_api_survey_responses_airbyte.jsonl")
    spec = source("delighted")
    scores = []
    for row in rows:
        event = {"event_type": "survey_response.created", "event_id": f"e-{row['id']}", "event_data": row}
        (item,) = translate(spec, inbound(json.dumps(event)), csat).items
        # The REST API names the person by id only.
        assert item.body["customer"] == {"id": row["person"]}
        scores.append((row["score"], item.body["answers"]["score"]))
    # 1 + score * 4 / 10, half up: 0 -> 1, 3 -> 2.2 -> 2, 6 -> 3.4 -> 3, 7 -> 3.8 -> 4, 9 -> 4.6 -> 5
    assert sorted(set(scores)) == [(0, 1), (1, 1), (3, 2), (6, 3), (7, 4), (8, 4), (9, 5)]


def test_properties_fill_the_envelope_and_unsubscribes_are_ignored(nps: Survey) -> None:
    event = payload_json("delighted_webhook_promoter_zulip.json")
    event["event_data"]["person_properties"] = {
        "Unit": "SUP-EMEA",
        "ticket": "T-9",
        "Purchase Experience": "Retail Store",
    }
    spec = source("delighted", map={"segment": {"property": "Purchase Experience", "values": {"retail store": "SMB"}}})
    (item,) = translate(spec, inbound(json.dumps(event)), nps).items
    assert (item.body["unit"], item.body["ticket"], item.body["segment"]) == ("SUP-EMEA", "T-9", "SMB")
    with pytest.raises(Ignored, match="'unsubscribe.created' is not a survey response"):
        translate(spec, inbound('{"event_type": "unsubscribe.created", "event_data": {}}'), nps)


def test_a_score_outside_the_question_is_a_problem_not_a_rejection() -> None:
    survey = Survey("csat", {"score": q("score", "scale", 1, 5)})
    spec = source("delighted", map={"answers": {"score": "score"}})
    (item,) = translate(spec, inbound(payload("delighted_webhook_promoter_zulip.json")), survey).items
    assert item.body["answers"] == {}
    assert item.problems == ("map.answers.score: 9 is above the maximum 5",)
