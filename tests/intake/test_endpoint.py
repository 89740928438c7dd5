"""POST /hooks/<key>: what it answers and records for each kind of request, and that a retried delivery,
an unreadable body and data the ingest refuses are never lost nor stored twice."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from closeloop.actions.fix_response import fix_response
from closeloop.alerts.models import Alert
from closeloop.cases.models import Case
from closeloop.config.apply import apply_config
from closeloop.feedback.models import Response
from closeloop.intake.models import DeadLetter, HookDelivery
from closeloop.notify.models import Delivery
from tests.connectors.tool_api import FakeApi
from tests.intake.conftest import TOOLS, hooks_config, payload, payload_json, post_hook, query, sign

pytestmark = pytest.mark.usefixtures("hooks")

TYPEFORM = payload("typeform_form_response.json")
PROBE = "the body must never be logged"


def typeform_with(**changes: object) -> bytes:
    data = payload_json("typeform_form_response.json")
    data["form_response"].update(changes)
    return json.dumps(data).encode()


def test_an_unknown_source_is_404_in_the_apis_error_shape() -> None:
    reply = post_hook("no-such-source", TYPEFORM, signed=False)
    assert reply.status == 404
    assert reply.body == {
        "detail": "No source 'no-such-source'.",
        "errors": [{"loc": [], "msg": "No source 'no-such-source'."}],
    }
    assert Client().get("/hooks/no-such-source").status_code == 404
    assert HookDelivery.objects.count() == 0


def test_head_and_get_answer_200_with_no_body_for_the_tools_url_check() -> None:
    for method in ("HEAD", "GET"):
        reply = Client().generic(method, "/hooks/nps-surveymonkey")
        assert (reply.status_code, reply.content) == (200, b"")
    assert HookDelivery.objects.count() == 0


def test_other_methods_are_405_with_the_allowed_ones() -> None:
    reply = Client().put("/hooks/install-typeform", TYPEFORM, content_type="application/json")
    assert reply.status_code == 405
    assert reply["Allow"] == "POST, GET, HEAD"
    assert json.loads(reply.content)["detail"] == "Method PUT is not allowed here; allowed: POST, GET, HEAD."


def test_no_csrf_token_and_no_session_are_needed_or_made() -> None:
    client = Client(enforce_csrf_checks=True)
    reply = client.generic(
        "POST", "/hooks/install-typeform", TYPEFORM, content_type="application/json", headers=sign("typeform", TYPEFORM)
    )
    assert reply.status_code == 200
    assert "sessionid" not in reply.cookies
    assert "csrftoken" not in reply.cookies


def test_a_body_over_1_mib_is_413_and_nothing_is_recorded() -> None:
    big = b'{"x": "' + b"a" * (1024 * 1024) + b'"}'
    reply = post_hook("install-typeform", big)
    assert reply.status == 413
    assert reply.body["detail"] == f"Request body is {len(big)} bytes; the limit is 1048576 bytes (1 MiB)."
    assert HookDelivery.objects.count() == 0


def test_a_wrong_signature_is_401_stores_nothing_and_is_logged_without_the_body(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = typeform_with(hidden={"user_id": PROBE})
    with caplog.at_level(logging.INFO, logger="closeloop"):
        reply = post_hook("install-typeform", body, headers=sign("typeform", body, secret="not-the-secret"))
    assert reply.status == 401
    assert reply.body["detail"] == (
        "Not verified: the Typeform-Signature signature does not match the body "
        "(wrong secret, or the body was changed)."
    )
    assert Response.objects.count() == 0
    delivery = HookDelivery.objects.get()
    assert (delivery.outcome, delivery.status_code) == ("refused", 401)
    assert delivery.problem.startswith("the Typeform-Signature signature does not match")
    assert "hook install-typeform refused (401)" in caplog.text
    assert PROBE not in caplog.text
    assert PROBE not in json.dumps(reply.body)
    assert DeadLetter.objects.count() == 0  # a refused request's body is kept nowhere


# Each source with a published payload of its tool.
SIGNED_PAYLOADS = [
    ("install-typeform", "typeform_form_response.json"),
    ("onboarding-formbricks", "formbricks_real_submission_redacted.json"),
    ("nps-delighted", "delighted_webhook_docs_current.json"),
    ("nps-surveymonkey", "surveymonkey_webhook_events.json"),
    ("support-zendesk", "zendesk_satisfaction_ratings.json"),
    ("support-freshdesk", "freshdesk_satisfaction_ratings.json"),
    ("event-tally", "tally_form_response.json"),
    ("visit-jotform", "jotform_webhook_zulip.multipart"),
    ("support-google-forms", "google_forms_apps_script_form_submit.json"),
    ("install-qualtrics", "qualtrics_event_completedResponse.form"),
]


@pytest.mark.parametrize(("key", "name"), SIGNED_PAYLOADS, ids=[key for key, _ in SIGNED_PAYLOADS])
def test_every_tool_signed_with_the_wrong_secret_is_401_and_stores_nothing(
    key: str, name: str, hooks: FakeApi, caplog: pytest.LogCaptureFixture
) -> None:
    body = payload(name)
    tool = TOOLS[key]
    wrong = "whsec_" + "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZw==" if tool == "formbricks" else "not-the-secret"
    with caplog.at_level(logging.INFO, logger="closeloop"):
        reply = post_hook(
            key, body, signed=False, headers=sign(tool, body, secret=wrong), token_query=query(tool, wrong)
        )
    assert reply.status == 401
    assert reply.body["detail"].startswith("Not verified: ")
    assert "match" in reply.body["detail"]
    assert Response.objects.count() == 0
    assert hooks.requests == []  # nothing is fetched for a request that is not the tool's
    assert list(HookDelivery.objects.values_list("outcome", "status_code")) == [("refused", 401)]
    assert body.decode()[:60] not in caplog.text


def test_a_missing_signature_and_a_missing_token_are_401() -> None:
    assert post_hook("install-typeform", TYPEFORM, signed=False).body["detail"] == (
        "Not verified: the Typeform-Signature header is missing."
    )
    jotform = payload("jotform_webhook_zulip.multipart")
    reply = post_hook("visit-jotform", jotform, signed=False)
    assert reply.status == 401
    assert reply.body["detail"].startswith("Not verified: no token: add ?token=")
    assert Response.objects.count() == 0


def test_a_stale_signed_timestamp_is_401() -> None:
    body = payload("zendesk_satisfaction_ratings.json")
    old = datetime.now(UTC) - timedelta(minutes=10)
    reply = post_hook("support-zendesk", body, headers=sign("zendesk", body, when=old))
    assert reply.status == 401
    assert "(at most 300s is accepted)" in reply.body["detail"]
    assert Response.objects.count() == 0


def test_a_retried_delivery_is_200_and_creates_nothing_new() -> None:
    first = post_hook("install-typeform", TYPEFORM)
    messages = Delivery.objects.count()
    again = post_hook("install-typeform", TYPEFORM)
    assert (again.status, again.body["outcome"]) == (200, "duplicate")
    assert again.body["detail"] == "Already received event LtWXD3crgy: nothing changed."
    assert again.body["responses"] == [{"id": first.body["responses"][0]["id"], "outcome": "replayed"}]
    assert Response.objects.count() == 1
    assert Alert.objects.count() == 1
    assert Case.objects.count() == 1
    assert Delivery.objects.count() == messages
    assert list(HookDelivery.objects.order_by("pk").values_list("outcome", "event_id")) == [
        ("stored", "LtWXD3crgy"),
        ("duplicate", "LtWXD3crgy"),
    ]


def test_the_same_response_in_another_event_is_a_replay_of_the_stored_response() -> None:
    post_hook("install-typeform", TYPEFORM)
    other_event = json.loads(TYPEFORM)
    other_event["event_id"] = "another-delivery"
    reply = post_hook("install-typeform", json.dumps(other_event))
    assert reply.body["outcome"] == "stored"
    assert reply.body["responses"][0]["outcome"] == "replayed"
    assert Response.objects.count() == 1


def test_an_unreadable_body_is_422_with_the_reason_and_kept_as_a_dead_letter_without_the_token() -> None:
    body = b"formID=1&submissionID=99&rawRequest=%7Bbroken"
    reply = post_hook("visit-jotform", body, content_type="application/x-www-form-urlencoded")
    assert reply.status == 422
    reason = "rawRequest is not valid JSON (Expecting property name enclosed in double quotes at column 2)"
    assert reply.body == {"detail": f"Unreadable: {reason}.", "errors": [{"loc": [], "msg": f"Unreadable: {reason}."}]}
    letter = DeadLetter.objects.get()
    assert bytes(letter.body) == body
    assert letter.reason == reason
    assert letter.query == {}  # the token from the URL is not kept
    assert letter.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert (letter.state, letter.source.key) == ("waiting", "visit-jotform")
    delivery = HookDelivery.objects.get()
    assert (delivery.outcome, delivery.status_code, delivery.problem) == ("unreadable", 422, reason)
    assert Response.objects.count() == 0


def test_an_event_closeloop_does_not_use_is_200_with_the_reason() -> None:
    reply = post_hook("install-typeform", b'{"event_type": "form_response_partial", "form_response": {}}')
    assert reply.status == 200
    assert reply.body == {
        "detail": "Ignored: a partial Typeform response (form_response_partial); only submitted responses are taken.",
        "outcome": "ignored",
    }
    assert HookDelivery.objects.get().problem == reply.body["detail"].removeprefix("Ignored: ").removesuffix(".")


def test_a_mapping_that_leaves_no_unit_stores_the_response_quarantined_with_the_map_problem_named() -> None:
    body = json.dumps(
        {
            "satisfaction_rating": {"ticket_id": "77", "score": "bad", "comment": "Still broken."},
            "ticket": {"group": "Billing"},
        }
    )
    reply = post_hook("support-zendesk", body)
    assert reply.status == 200
    response = Response.objects.get(external_id="zendesk-ticket-77")
    assert response.status == "invalid"
    assert response.problems == [
        "unit: missing; the response cannot be routed until a unit is set",
        "map.unit: 'Billing' is not in the values table (it has 'support emea', 'support us')",
    ]
    assert Alert.objects.count() == 0  # alerts wait until the unit is fixed


def test_data_the_ingest_refuses_is_stored_without_it_held_in_quarantine_and_released_by_a_fix() -> None:
    # The connectors' e-mail check lets "laura@example..com" through; Django's validator does not.
    data = payload_json("typeform_form_response.json")
    for answer in data["form_response"]["answers"]:
        if answer["type"] == "email":
            answer["email"] = "laura@example..com"
    reply = post_hook("install-typeform", json.dumps(data))
    assert reply.status == 200
    response = Response.objects.get()
    assert response.status == "invalid"
    assert response.customer is None
    assert response.answers["completed"] is False
    assert response.problems == [
        "customer.email: 'laura@example..com' is not an email address (refused; the response waits in quarantine)"
    ]
    assert Alert.objects.count() == 0
    fixed = fix_response(response, {"unit": "SUP-EMEA"}, now=timezone.now())
    assert fixed.status == "valid"
    assert fixed.problems == response.problems  # what the tool sent wrong stays listed
    assert list(fixed.alerts.values_list("rule_key", flat=True)) == ["install-failed"]


def test_a_missing_secret_file_is_accepted_by_apply_and_answered_503_until_it_exists(
    hooks: FakeApi, tmp_path: Path
) -> None:
    secret_file = tmp_path / "tally-secret"
    source = {"key": "filed-tally", "tool": "tally", "survey": "support-csat", "secret_file": str(secret_file)}
    apply_config(hooks_config(hooks.base, extra_sources=[source]))
    body = payload("tally_form_response.json")
    headers = sign("tally", body, secret="rotated-secret")
    missing = post_hook("filed-tally", body, headers=headers, signed=False)
    assert missing.status == 503
    assert missing.body["detail"] == f"The secret file {secret_file} cannot be read (No such file or directory)."
    assert HookDelivery.objects.get().outcome == "unavailable"
    secret_file.write_text("rotated-secret\n")
    assert post_hook("filed-tally", body, headers=headers, signed=False).status == 200
    assert Response.objects.get().source == "hook:filed-tally"
