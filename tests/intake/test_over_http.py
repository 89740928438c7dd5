"""The endpoint behind a real HTTP server: the tool's request over a socket, SurveyMonkey's follow-up fetch
against a local stand-in for its API, and two deliveries of one event at the same instant (PostgreSQL)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from django.test import Client

from closeloop.config.apply import apply_config
from closeloop.feedback.models import Response
from closeloop.intake.models import HookDelivery
from tests.connectors.tool_api import FakeApi
from tests.helpers import race
from tests.intake.conftest import SM_DETAILS, hooks_config, payload, payload_json, sign


@pytest.fixture
def served(transactional_db: None, tool_api: FakeApi, live_server: Any) -> str:
    apply_config(hooks_config(tool_api.base))
    return str(live_server.url)


def send(url: str, body: bytes, headers: dict[str, str], method: str = "POST") -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body if method == "POST" else None, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def surveymonkey_callback() -> bytes:
    event = dict(payload_json("surveymonkey_webhook_events.json")["example_response_event_data"])
    event.update(object_id="5007154325")
    event["resources"] = {**event["resources"], "survey_id": "105723396"}
    return json.dumps(event).encode()


def test_a_signed_typeform_request_over_http_is_stored_and_a_forged_one_refused(served: str) -> None:
    body = payload("typeform_form_response.json")
    url = f"{served}/hooks/install-typeform"
    status, reply = send(url, body, {"Content-Type": "application/json", **sign("typeform", body)})
    assert status == 200
    assert json.loads(reply)["responses"][0]["outcome"] == "created"
    forged = body.replace(b"Laura", b"Mallory")
    status, reply = send(url, forged, {"Content-Type": "application/json", **sign("typeform", body)})
    assert status == 401
    assert b"Mallory" not in reply
    assert Response.objects.get().customer.name == ""  # the map reads no name; the forged one changed nothing
    assert send(url, b"", {}, method="HEAD") == (200, b"")


def test_surveymonkey_over_http_fetches_from_its_api_within_the_request(served: str, tool_api: FakeApi) -> None:
    body = surveymonkey_callback()
    status, reply = send(
        f"{served}/hooks/nps-surveymonkey", body, {"Content-Type": "application/json", **sign("surveymonkey", body)}
    )
    assert status == 200
    assert json.loads(reply)["event_id"] == "123456789"
    assert [path for path, _ in tool_api.requests] == [SM_DETAILS]
    assert Response.objects.get().answers == {"recommend": 2}


@pytest.mark.postgres
def test_the_same_event_delivered_twice_at_once_is_stored_once(transactional_db: None, tool_api: FakeApi) -> None:
    apply_config(hooks_config(tool_api.base))
    body = payload("typeform_form_response.json")
    headers = sign("typeform", body)
    statuses: list[int] = []

    def deliver() -> None:
        reply = Client().generic(
            "POST", "/hooks/install-typeform", body, content_type="application/json", headers=headers
        )
        statuses.append(reply.status_code)

    assert race([deliver, deliver]) == []
    assert statuses == [200, 200]
    assert Response.objects.count() == 1
    assert sorted(HookDelivery.objects.values_list("outcome", flat=True)) == ["duplicate", "stored"]
    response = Response.objects.get()
    assert response.alerts.count() == 1
    assert HookDelivery.objects.get(outcome="duplicate").responses == [response.pk]
