"""Zendesk CSAT: rating objects from the API docs and a trigger's templated webhook body."""

from __future__ import annotations

import json

import pytest

from closeloop.connectors import Ignored, PayloadUnreadable, Survey
from tests.connectors.conftest import inbound, payload, payload_json, q, source, translate

# The body docs/connectors.md recommends for the trigger, as Zendesk renders it.
TEMPLATED = {
    "satisfaction_rating": {"ticket_id": "4711", "score": "Bad, I'm unsatisfied", "comment": "Nobody called me back."},
    "ticket": {"group": "Support EMEA", "assignee": "erin@acme.example", "brand": "Acme"},
    "requester": {"id": "90210", "name": "Pat Lee", "email": "pat@example.com", "phone": "+1 555 0123"},
}


def test_a_page_of_the_list_endpoint_gives_one_item_per_rating(csat: Survey) -> None:
    result = translate(source("zendesk"), inbound(payload("zendesk_satisfaction_ratings.json")), csat)
    assert result.merge is True
    assert [item.body for item in result.items] == [
        {
            "survey": "csat",
            "external_id": "35436",
            "submitted_at": "2011-07-20T22:55:29+00:00",
            "ticket": "208",
            "customer": {"id": "7881"},
            "answers": {"score": 5, "comment": "Awesome support!"},
        },
        {
            "survey": "csat",
            "external_id": "120447",
            "submitted_at": "2012-02-02T10:32:59+00:00",
            "ticket": "209",
            "customer": {"id": "7881"},
            "answers": {"score": 5, "comment": "Awesome support!"},
        },
    ]
    assert result.problems == []


def test_the_legacy_single_object_without_a_comment(csat: Survey) -> None:
    (item,) = translate(
        source("zendesk"), inbound(payload("zendesk_satisfaction_rating_legacy_object.json")), csat
    ).items
    assert item.body["answers"] == {"score": 5}
    assert item.body["external_id"] == "35436"  # its own id, not the inconsistent one in its url


def test_good_and_bad_fit_a_yes_no_or_nps_question_too() -> None:
    yes_no = Survey("csat", {"happy": q("happy", "yes_no")}, overall="happy")
    nps = Survey("csat", {"likely": q("likely", "nps")}, overall="likely")
    bad = json.dumps(TEMPLATED)
    assert translate(source("zendesk"), inbound(bad), yes_no).items[0].body["answers"] == {"happy": False}
    assert translate(source("zendesk"), inbound(bad), nps).items[0].body["answers"] == {"likely": 0}


def test_a_templated_trigger_body_maps_group_and_agent_through_tables(csat: Survey) -> None:
    mapping = {
        "unit": {"ticket": "group", "values": {"Support EMEA": "SUP-EMEA"}},
        "agent": {"ticket": "assignee", "values": {"erin@acme.example": "erin"}},
        "customer": {"tier": {"ticket": "brand", "values": {"acme": "Gold"}}},
    }
    result = translate(source("zendesk", map=mapping), inbound(json.dumps(TEMPLATED)), csat)
    (item,) = result.items
    assert item.body == {
        "survey": "csat",
        # No rating id in a trigger's body: the ticket names the response, and a changed rating merges.
        "external_id": "zendesk-ticket-4711",
        "submitted_at": "2026-11-23T10:04:00+00:00",
        "unit": "SUP-EMEA",
        "agent": "erin",
        "ticket": "4711",
        "customer": {
            "id": "90210",
            "name": "Pat Lee",
            "email": "pat@example.com",
            "phone": "+1 555 0123",
            "tier": "Gold",
        },
        "answers": {"score": 1, "comment": "Nobody called me back."},
    }
    assert result.merge is True
    assert result.event_id.startswith("sha256:")


def test_an_unknown_group_is_a_problem_and_the_response_still_comes(csat: Survey) -> None:
    body = json.loads(json.dumps(TEMPLATED))
    body["ticket"]["group"] = "Billing"
    spec = source("zendesk", map={"unit": {"ticket": "group", "values": {"Support EMEA": "SUP-EMEA"}}})
    (item,) = translate(spec, inbound(json.dumps(body)), csat).items
    assert "unit" not in item.body
    assert item.problems == ("map.unit: 'Billing' is not in the values table (it has 'support emea')",)


def test_offered_ratings_are_skipped_and_a_body_of_only_those_is_ignored(csat: Survey) -> None:
    ratings = payload_json("zendesk_satisfaction_ratings.json")
    ratings["satisfaction_ratings"][0]["score"] = "offered"
    result = translate(source("zendesk"), inbound(json.dumps(ratings)), csat)
    assert [item.external_id for item in result.items] == ["120447"]
    ratings["satisfaction_ratings"][1]["score"] = "unoffered"
    with pytest.raises(Ignored, match=r"no good or bad rating \(ticket 208: offered; ticket 209: unoffered\)"):
        translate(source("zendesk"), inbound(json.dumps(ratings)), csat)


def test_a_body_without_a_rating_is_unreadable(csat: Survey) -> None:
    with pytest.raises(PayloadUnreadable, match="no satisfaction rating"):
        translate(source("zendesk"), inbound('{"ticket": {"id": 1}}'), csat)
