"""Formbricks' webhook: the documented examples (array-wrapped) and a real submission with opaque ids."""

from __future__ import annotations

import json

import pytest

from closeloop.connectors import Ignored, PayloadUnreadable, Survey
from tests.connectors.conftest import WHSEC, inbound, payload, payload_json, q, source, translate


def formbricks(**fields: object):
    return source("formbricks", WHSEC, **fields)


@pytest.fixture
def intent() -> Survey:
    return Survey("csat", {"q1": q("q1", "text"), "q2": q("q2", "choice", options=("accepted", "Just browsing"))})


def test_a_finished_response_translates_and_the_webhook_id_is_the_event_id(intent: Survey) -> None:
    body = json.dumps(payload_json("formbricks_webhooks_docs.json")["responseFinished"])
    result = translate(formbricks(), inbound(body, {"webhook-id": "msg_2Kd8"}), intent)
    assert result.event_id == "msg_2Kd8"
    assert result.merge is False
    (item,) = result.items
    assert item.body == {
        "survey": "csat",
        "external_id": "responseId",
        "submitted_at": "2025-07-24T07:47:56.116000+00:00",
        "answers": {"q1": "clicked", "q2": "accepted"},
    }
    assert item.problems == ()


def test_unfinished_responses_are_ignored_unless_partials_are_taken(intent: Survey) -> None:
    docs = payload_json("formbricks_webhooks_docs.json")
    for event in ("responseCreated", "responseUpdated"):
        with pytest.raises(Ignored, match="unfinished Formbricks response"):
            translate(formbricks(), inbound(json.dumps(docs[event])), intent)
    result = translate(formbricks(options={"partial": True}), inbound(json.dumps(docs["responseUpdated"])), intent)
    # Each later event updates the same response.
    assert result.merge is True
    assert result.items[0].body["answers"] == {"q1": "clicked", "q2": "Just browsing"}
    assert result.items[0].body["external_id"] == "responseId"


def test_the_real_submission_maps_opaque_ids_and_the_email_to_the_customer() -> None:
    survey = Survey(
        "csat",
        {
            "goal": q("goal", "text"),
            "areas": q("areas", "multi_choice", options=("Energy & Vitality", "Men's Health", "Sleep")),
            "rating": q("rating", "scale", 1, 10),
            "age": q("age", "choice", options=("46-55", "56-65")),
        },
        overall="rating",
    )
    mapping = {
        "answers": {
            "goal": "dc185mu0h2xzutpzfgq8eyjy",
            "areas": "ty1zv10pffpxh2a2bymi2wz7",
            "rating": {"question": "iht7n48iwkoc1jc8ubnzrqi7", "scale": [1, 5]},
            "age": "yru7w3e402yk8vpf1dfbw0tr",
        },
        "customer": {"email": "y4t3q9ctov2dn6qdon1kdbrq"},
    }
    result = translate(formbricks(map=mapping), inbound(payload("formbricks_real_submission_redacted.json")), survey)
    (item,) = result.items
    assert result.event_id.startswith("sha256:")  # no webhook-id header: the body's digest
    assert item.body["external_id"] == "cmh14h0az0no8ad0163nsndjm"
    assert item.body["submitted_at"] == "2025-10-21T22:15:54.776000+00:00"
    assert item.body["customer"] == {"email": "REDACTED@example.com", "id": "REDACTED@example.com"}
    assert item.body["answers"] == {
        "goal": "I'm looking for something to improve mental clarity and attention",
        "areas": ["Energy & Vitality", "Men's Health"],
        "rating": 6,  # 3 of 1..5 onto 1..10: 5.5, half up
        "age": "56-65",
    }
    assert item.problems == ()


def test_contacts_and_hidden_fields_fill_the_customer_and_envelope(intent: Survey) -> None:
    event = payload_json("formbricks_webhooks_docs.json")["responseFinished"][0]
    event["data"]["contact"] = {"id": "ctc_1", "userId": "C-77"}
    event["data"]["contactAttributes"] = {"email": "pat@example.com", "firstName": "Pat", "lastName": "Lee"}
    event["data"]["data"]["ticket"] = "T-1001"
    (item,) = translate(formbricks(), inbound(json.dumps(event)), intent).items
    assert item.body["customer"] == {"id": "C-77", "email": "pat@example.com", "name": "Pat Lee"}
    assert item.body["ticket"] == "T-1001"


def test_other_events_and_broken_bodies(intent: Survey) -> None:
    with pytest.raises(Ignored, match="'surveyClosed' is not a response event"):
        translate(formbricks(), inbound('{"event": "surveyClosed", "data": {}}'), intent)
    with pytest.raises(PayloadUnreadable, match=r"expected \{event, data\}"):
        translate(formbricks(), inbound('{"event": "responseFinished"}'), intent)


def test_the_secret_must_be_a_standard_webhooks_secret() -> None:
    from closeloop.connectors import SourceInvalid, load_source

    with pytest.raises(SourceInvalid) as caught:
        load_source({"key": "fb", "tool": "formbricks", "survey": "csat", "secret": "whsec_***"})
    assert caught.value.problems == ["secret: the source's secret is not a Standard Webhooks secret (whsec_<base64>)"]
