"""The survey tools' endpoints keep to what is theirs: a replayed response is answered without what is
stored with it, a later request never rewrites a response another source sent, and a source's recording
addresses become links only on the hosts its allow-list names."""

from __future__ import annotations

import json
from typing import Any

import pytest

from closeloop.config.apply import apply_config
from closeloop.feedback.models import Response
from tests.connectors.conftest import SECRET
from tests.helpers import ApiClient, create_token
from tests.intake.conftest import hooks_config, payload_json, post_hook
from tests.intake.test_merge import delighted_phases

pytestmark = pytest.mark.usefixtures("hooks")

TYPEFORM = json.dumps(payload_json("typeform_form_response.json"))
TYPEFORM_TOKEN = "a3a12ec67a1365927098a606107fac15"  # the response's external id as Typeform gives it


def api_post(item: dict[str, Any]) -> dict[str, Any]:
    answer = ApiClient(create_token(["ingest"])).post("/api/v1/responses", item)
    assert answer.status_code == 201, answer.json()
    result: dict[str, Any] = answer.json()
    return result


def test_a_replayed_response_is_answered_with_its_id_and_status_only() -> None:
    stored = api_post(
        {
            "survey": "upgrade-install",
            "external_id": TYPEFORM_TOKEN,
            "unit": "SUP-US",
            "agent": "someone-in-us",
            "answers": {"ease": 2},
        }
    )
    assert stored["problems"] == ["agent: unknown person 'someone-in-us'"]
    reply = post_hook("install-typeform", TYPEFORM)
    assert reply.status == 200
    assert reply.body["responses"] == [
        {"id": stored["id"], "external_id": TYPEFORM_TOKEN, "outcome": "replayed", "status": "valid"}
    ]
    assert "someone-in-us" not in json.dumps(reply.body)


def test_a_later_request_does_not_rewrite_a_response_another_source_sent() -> None:
    _, updated = delighted_phases()
    stored = api_post({"survey": "relationship", "external_id": "5435", "unit": "SUP-US", "answers": {"recommend": 9}})
    reply = post_hook("nps-delighted", updated)
    assert reply.body["responses"] == [
        {"id": stored["id"], "external_id": "5435", "outcome": "replayed", "status": "valid"}
    ]
    response = Response.objects.get(pk=stored["id"])
    assert (response.answers, response.source, response.unit.code) == ({"recommend": 9}, "api", "SUP-US")


def test_the_source_that_sent_a_response_still_completes_it() -> None:
    created, updated = delighted_phases()
    post_hook("nps-delighted", created)
    assert post_hook("nps-delighted", updated).body["responses"][0]["outcome"] == "updated"


def typeform_source(tool_api: Any, *, audio_hosts: list[str] | None) -> None:
    """Acme with the tools' sources; the Typeform one gives a constant recording address and consent."""
    typeform: dict[str, Any] = {
        "key": "install-typeform",
        "tool": "typeform",
        "survey": "upgrade-install",
        "secret": SECRET,
        "map": {
            "answers": {"ease": {"ref": "readable_ref_rating", "scale": [1, 5]}},
            "unit": {"value": "SUP-EMEA"},
            "customer": {"id": {"hidden": "user_id"}, "contact_ok": {"value": True}},
            "audio_url": {"value": "https://media.typeform.example/r.mp3"},
        },
    }
    if audio_hosts is not None:
        typeform["audio_hosts"] = audio_hosts
    apply_config(hooks_config(tool_api.base, extra_sources=[typeform]))


def test_a_source_links_to_the_hosts_of_its_own_allow_list(hooks: Any) -> None:
    typeform_source(hooks, audio_hosts=["MEDIA.typeform.example"])
    reply = post_hook("install-typeform", TYPEFORM)
    response = Response.objects.get(pk=reply.body["responses"][0]["id"])
    assert (response.audio_url, response.audio_url_allowed) == ("https://media.typeform.example/r.mp3", True)


def test_a_source_without_a_list_of_its_own_has_the_organisations(hooks: Any) -> None:
    typeform_source(hooks, audio_hosts=None)  # Acme's list names recordings.example.com only
    reply = post_hook("install-typeform", TYPEFORM)
    response = Response.objects.get(pk=reply.body["responses"][0]["id"])
    assert (response.audio_url, response.audio_url_allowed) == ("https://media.typeform.example/r.mp3", False)
