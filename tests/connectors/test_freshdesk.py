"""Freshdesk CSAT: the -103..103 scale, the malformed docs timestamps, and a ticket event without a rating."""

from __future__ import annotations

import json

import pytest

from closeloop.connectors import Ignored, Survey
from tests.connectors.conftest import inbound, payload, q, source, translate


@pytest.fixture
def two_questions() -> Survey:
    return Survey(
        "csat",
        {"score": q("score", "scale", 1, 7), "speed": q("speed", "scale", 1, 10), "comment": q("comment", "text")},
        overall="score",
    )


def test_the_docs_ratings_translate_with_the_malformed_times_read(two_questions: Survey) -> None:
    mapping = {
        "answers": {
            "score": {"rating": "default_question", "points": [-103, -102, -101, 100, 101, 102, 103]},
            "speed": {"rating": "question_2", "scale": [-103, 103]},
            "comment": "feedback",
        }
    }
    result = translate(
        source("freshdesk", map=mapping), inbound(payload("freshdesk_satisfaction_ratings.json")), two_questions
    )
    first, second = result.items
    assert first.body == {
        "survey": "csat",
        "external_id": "102",
        "submitted_at": "2015-08-28T09:08:16+00:00",
        "ticket": "432",
        "customer": {"id": "2"},
        # 103 is the top point (7); -102 on a linear -103..103 onto 1..10: 1 + 1/206 * 9 = 1.04 -> 1
        "answers": {"score": 7, "speed": 1, "comment": "Thank you for the quick action"},
    }
    assert first.problems == ()
    # "2015-08-28T010:08:16Z" has a three-digit hour; it is 10:08:16.
    assert second.body["submitted_at"] == "2015-08-28T10:08:16+00:00"
    # 101 (Happy) is the 5th of 7 points: 1 + 4/6 * 6 = 5
    assert second.body["answers"] == {"score": 5, "comment": "Thank you for the support"}
    assert second.problems == ("map.answers.speed: rating 'question_2' is not in the payload",)
    assert result.merge is False


def test_zero_config_maps_the_default_question_by_rank(csat: Survey) -> None:
    result = translate(source("freshdesk"), inbound(payload("freshdesk_satisfaction_ratings.json")), csat)
    # On 1..5: 103 -> 5, 101 (5th of 7) -> 1 + 4/6 * 4 = 3.67 -> 4
    assert [item.body["answers"]["score"] for item in result.items] == [5, 4]
    assert result.event_id.startswith("sha256:")


@pytest.mark.parametrize(
    ("rating", "expected"),
    [("Extremely Unhappy", False), ("-101", False), ("Very Happy", True), (103, True)],
)
def test_an_automation_rule_body_with_a_label_or_number(rating: object, expected: bool) -> None:
    survey = Survey("csat", {"happy": q("happy", "yes_no")}, overall="happy")
    body = {
        "freshdesk_webhook": {
            "ticket_id": "11",
            "requester_email": "requester-bob@example.com",
            "requester_name": "Requester ☃ Bob",
            "rating": rating,
        }
    }
    result = translate(source("freshdesk"), inbound(json.dumps(body, ensure_ascii=False)), survey)
    (item,) = result.items
    assert item.body["answers"] == {"happy": expected}
    assert item.body["external_id"] == "freshdesk-ticket-11"
    assert item.body["customer"] == {
        "name": "Requester ☃ Bob",
        "email": "requester-bob@example.com",
        "id": "requester-bob@example.com",
    }
    assert result.merge is True


def test_neutral_has_no_yes_or_no() -> None:
    survey = Survey("csat", {"happy": q("happy", "yes_no")}, overall="happy")
    body = {"freshdesk_webhook": {"ticket_id": "11", "rating": "Neutral"}}
    (item,) = translate(source("freshdesk"), inbound(json.dumps(body)), survey).items
    assert item.body["answers"] == {}
    assert item.problems[0].startswith("map.answers.happy: '100' is not in the values table")


def test_a_ticket_created_event_without_a_rating_is_ignored(csat: Survey) -> None:
    with pytest.raises(Ignored, match="no satisfaction rating in the request"):
        translate(source("freshdesk"), inbound(payload("freshdesk_webhook_ticket_created_zulip.json")), csat)


def test_a_rating_off_freshdesks_scale_is_a_problem(csat: Survey) -> None:
    body = {"id": 5, "ticket_id": 1, "ratings": {"default_question": 42}}
    (item,) = translate(source("freshdesk"), inbound(json.dumps(body)), csat).items
    assert item.problems == (
        "map.answers.score: 42 is not one of the tool's points -103, -102, -101, 100, 101, 102, 103",
    )
