"""Every tool's published payloads, the dirty ones too, through a real request to /hooks/<key>, signed as
the tool signs: what is stored, which alerts and cases follow, and what is answered."""

from __future__ import annotations

import json
from typing import Any

import pytest

from closeloop.cases.models import Case
from closeloop.feedback.models import Response
from closeloop.intake.models import HookDelivery
from tests.connectors.conftest import jsonl
from tests.connectors.tool_api import FakeApi
from tests.intake.conftest import SM_DETAILS, payload, payload_json, post_hook

pytestmark = pytest.mark.usefixtures("hooks")


def stored(external_id: str) -> Response:
    return Response.objects.select_related("survey", "customer").get(external_id=external_id)


def rules_of(response: Response) -> list[str]:
    return sorted(response.alerts.values_list("rule_key", flat=True))


def cases_of(response: Response) -> int:
    return Case.objects.filter(response=response).count()


def only(reply_body: dict[str, Any]) -> dict[str, Any]:
    (response,) = reply_body["responses"]
    return response


def test_typeform_the_docs_example_is_an_unfinished_installation_with_its_alert_and_case() -> None:
    reply = post_hook("install-typeform", payload("typeform_form_response.json"))
    assert reply.status == 200
    assert reply.body["outcome"] == "stored"
    assert reply.body["event_id"] == "LtWXD3crgy"
    assert only(reply.body) | {"id": 0} == {
        "id": 0,
        "external_id": "a3a12ec67a1365927098a606107fac15",
        "outcome": "created",
        "status": "valid",
        "problems": [],
    }
    response = stored("a3a12ec67a1365927098a606107fac15")
    assert response.source == "hook:install-typeform"
    assert response.survey.key == "upgrade-install"
    # A rating of 3 on Typeform's 1..5 is halfway up Acme's 1..10: 5.5, rounded half up.
    assert response.answers == {
        "ease": 6,
        "completed": False,
        "comment": "It's cold right now! I live in an older medium-sized city with a university. "
        "Geographically, the area is hilly.",
    }
    assert response.submitted_at.isoformat() == "2018-01-18T18:17:02+00:00"
    assert (response.customer.external_id, response.customer.email) == ("abc123456", "laura@example.com")
    assert rules_of(response) == ["install-failed"]
    assert cases_of(response) == 1


def test_typeform_api_items_without_the_mapped_refs_are_stored_with_every_missing_field_named() -> None:
    rows = jsonl("typeform_api_responses_airbyte.jsonl")
    for row in rows:
        assert post_hook("install-typeform", json.dumps(row)).status == 200
    assert Response.objects.filter(source="hook:install-typeform").count() == len(rows) == 4
    response = stored("x9ege1s9u758nla0bx9ege1bg63u7daz")
    assert response.answers == {}
    assert response.status == "valid"  # what could not be read does not quarantine the response
    assert (
        response.problems
        == response.intake_problems
        == [
            "map.customer.id: hidden 'user_id' is not in the payload",
            "map.customer.email: ref 'readable_ref_email' is not in the payload",
            "map.answers.ease: ref 'readable_ref_rating' is not in the payload",
            "map.answers.completed: ref 'readable_ref_yes_no' is not in the payload",
            "map.answers.comment: ref 'readable_ref_long_text' is not in the payload",
        ]
    )
    assert rules_of(response) == []


def test_formbricks_unfinished_events_are_ignored_and_the_finished_one_stored() -> None:
    docs = payload_json("formbricks_webhooks_docs.json")
    created = post_hook("onboarding-formbricks", json.dumps(docs["responseCreated"]))
    assert (created.status, created.body["outcome"]) == (200, "ignored")
    assert created.body["detail"] == (
        "Ignored: an unfinished Formbricks response (responseCreated); set options.partial to take those."
    )
    assert post_hook("onboarding-formbricks", json.dumps(docs["responseUpdated"])).body["outcome"] == "ignored"
    finished = post_hook("onboarding-formbricks", json.dumps(docs["responseFinished"]), event="msg_2Kd8")
    assert finished.body["event_id"] == "msg_2Kd8"
    response = stored("responseId")
    assert response.answers == {}
    assert response.problems == [
        "map.answers.ease: question 'iht7n48iwkoc1jc8ubnzrqi7' is not in the payload",
        "map.answers.comment: question 'dc185mu0h2xzutpzfgq8eyjy' is not in the payload",
    ]
    assert list(HookDelivery.objects.order_by("pk").values_list("outcome", flat=True)) == [
        "ignored",
        "ignored",
        "stored",
    ]


def test_formbricks_the_real_submission_is_a_low_score_with_an_alert() -> None:
    assert post_hook("onboarding-formbricks", payload("formbricks_real_submission_redacted.json")).status == 200
    response = stored("cmh14h0az0no8ad0163nsndjm")
    assert response.answers == {
        "ease": 6,
        "comment": "I'm looking for something to improve mental clarity and attention",
    }
    assert response.overall == 6
    assert response.customer.email == "REDACTED@example.com"
    assert rules_of(response) == ["threshold"]  # 6 is at Acme's recovery threshold
    assert cases_of(response) == 1


def test_delighted_the_docs_example_is_praise_and_a_repeated_event_id_is_a_duplicate() -> None:
    docs = post_hook("nps-delighted", payload("delighted_webhook_docs_current.json"))
    assert only(docs.body)["outcome"] == "created"
    response = stored("5435")
    assert response.survey.key == "relationship"
    assert response.answers == {"recommend": 9, "comment": "Your service is fast and flawless!"}
    assert (response.customer.external_id, response.customer.name) == ("5975", "Charlie Gravis")
    assert rules_of(response) == ["kudos"]
    assert cases_of(response) == 0
    # The Zulip captures reuse the docs' event id: Delighted would be retrying the same event.
    for name in ("delighted_webhook_non_promoter_zulip.json", "delighted_webhook_promoter_zulip.json"):
        again = post_hook("nps-delighted", payload(name))
        assert (again.status, again.body["outcome"]) == (200, "duplicate")
        assert again.body["responses"] == [{"id": response.pk, "outcome": "replayed"}]
    assert stored("5435").answers == {"recommend": 9, "comment": "Your service is fast and flawless!"}
    assert Response.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "recommend", "rules"),
    [
        ("delighted_webhook_non_promoter_zulip.json", 5, ["threshold"]),
        ("delighted_webhook_promoter_zulip.json", 9, ["kudos"]),
    ],
)
def test_delighted_the_zulip_captures(name: str, recommend: int, rules: list[str]) -> None:
    assert post_hook("nps-delighted", payload(name)).status == 200
    response = stored("5435")
    assert response.answers["recommend"] == recommend
    assert rules_of(response) == rules


def test_delighted_rest_exports_wrapped_as_events_are_each_stored_once() -> None:
    rows = jsonl("delighted_api_survey_responses_airbyte.jsonl")
    for row in rows:
        event = {"event_type": "survey_response.created", "event_id": f"e-{row['id']}", "event_data": row}
        assert post_hook("nps-delighted", json.dumps(event)).status == 200
    assert Response.objects.count() == len({row["id"] for row in rows})
    detractor = stored("210554373")
    assert detractor.answers == {"recommend": 3, "comment": "Test Comment3"}
    assert rules_of(detractor) == ["threshold"]
    assert rules_of(stored("210554372")) == ["quiet-watch"]  # an 8 is a passive


def test_surveymonkey_fetches_the_response_from_the_api_and_stores_it(hooks: FakeApi) -> None:
    event = dict(payload_json("surveymonkey_webhook_events.json")["example_response_event_data"])
    event.update(object_id="5007154325")
    event["resources"] = {**event["resources"], "survey_id": "105723396"}
    reply = post_hook("nps-surveymonkey", json.dumps(event))
    assert (reply.status, reply.body["event_id"]) == (200, "123456789")
    (path, headers) = hooks.requests[0]
    assert path == SM_DETAILS
    assert headers["authorization"] == "Bearer sm-access-token"
    response = stored("5007154325")
    assert response.answers == {"recommend": 2}
    assert (response.ticket, response.segment) == ("one", "ENT")
    assert rules_of(response) == ["threshold"]
    assert cases_of(response) == 1


def test_surveymonkey_a_response_the_api_does_not_have_is_502_so_the_tool_delivers_again(hooks: FakeApi) -> None:
    event = payload_json("surveymonkey_webhook_events.json")["example_collector_event_data"]
    reply = post_hook("nps-surveymonkey", json.dumps(event))
    assert reply.status == 502
    assert reply.body["detail"] == f"{hooks.base.removeprefix('http://')} answered 404 Not Found."
    assert Response.objects.count() == 0
    delivery = HookDelivery.objects.get()
    assert (delivery.outcome, delivery.status_code) == ("fetch_failed", 502)


def test_zendesk_a_page_of_ratings_gives_two_happy_responses_and_the_legacy_object_replays_one() -> None:
    reply = post_hook("support-zendesk", payload("zendesk_satisfaction_ratings.json"))
    assert [r["external_id"] for r in reply.body["responses"]] == ["35436", "120447"]
    first = stored("35436")
    assert first.answers == {"score": 10, "comment": "Awesome support!"}  # good is the top of 1..10
    assert (first.ticket, first.customer.external_id) == ("208", "7881")
    assert rules_of(first) == ["kudos"]
    legacy = post_hook("support-zendesk", payload("zendesk_satisfaction_rating_legacy_object.json"))
    assert only(legacy.body)["outcome"] == "replayed"
    assert Response.objects.count() == 2


def test_zendesk_a_bad_rating_from_the_trigger_body_is_routed_by_its_group_and_alerts() -> None:
    body = {
        "satisfaction_rating": {"ticket_id": "4711", "score": "Bad, I'm unsatisfied", "comment": "Nobody called back."},
        "ticket": {"group": "Support EMEA", "assignee": "erin@acme.example"},
        "requester": {"id": "90210", "name": "Pat Lee", "email": "pat@example.com"},
    }
    assert post_hook("support-zendesk", json.dumps(body)).status == 200
    response = stored("zendesk-ticket-4711")
    assert response.answers == {"score": 1, "comment": "Nobody called back."}
    assert (response.unit_code, response.ticket) == ("SUP-EMEA", "4711")
    assert rules_of(response) == ["threshold"]
    assert cases_of(response) == 1


def test_freshdesk_ratings_are_placed_by_rank_and_a_ticket_event_without_one_is_ignored() -> None:
    reply = post_hook("support-freshdesk", payload("freshdesk_satisfaction_ratings.json"))
    assert [r["external_id"] for r in reply.body["responses"]] == ["102", "112"]
    # 103 is the top of Freshdesk's seven points; 101 the fifth: 1 + 4/6 * 9 = 7.
    assert stored("102").answers == {"score": 10, "comment": "Thank you for the quick action"}
    assert stored("112").answers == {"score": 7, "comment": "Thank you for the support"}
    # The docs' "T010:08:16Z" has a three-digit hour: 10:08:16.
    assert stored("112").submitted_at.isoformat() == "2015-08-28T10:08:16+00:00"
    ignored = post_hook("support-freshdesk", payload("freshdesk_webhook_ticket_created_zulip.json"))
    assert (ignored.status, ignored.body["outcome"]) == (200, "ignored")
    assert Response.objects.count() == 2


def test_tally_the_garbled_email_is_a_problem_kept_with_the_stored_response() -> None:
    reply = post_hook("event-tally", payload("tally_form_response.json"))
    assert only(reply.body)["problems"] == ["map.customer.email: '[email protected]' is not an email address"]
    response = stored("2wgx4n")
    assert response.answers == {"score": 8, "comment": "Hello world"}  # 4 of 1..5 onto 1..10: 7.75
    assert response.status == "valid"
    assert response.problems == ["map.customer.email: '[email protected]' is not an email address"]
    assert response.customer.phone == "+32491223344"


def test_jotform_the_multipart_capture_with_its_token_in_the_url() -> None:
    body = payload("jotform_webhook_zulip.multipart").replace(b"\n", b"\r\n")
    assert post_hook("visit-jotform", body).body["event_id"] == "jotform-6084250982513018472"
    response = stored("6084250982513018472")
    assert response.answers == {"completed": False}  # "No"; the empty description is unanswered
    assert (response.customer.external_id, response.customer.name) == ("UserNiloth", "Niloth P")
    assert rules_of(response) == ["install-failed"]


def test_google_forms_a_relayed_sheets_event_reads_its_time_in_the_organisations_zone() -> None:
    reply = post_hook("support-google-forms", payload("google_forms_apps_script_form_submit.json"))
    (summary,) = reply.body["responses"]
    response = Response.objects.get(pk=summary["id"])
    assert response.external_id.startswith("gf-")
    # 6/7/2015 20:54:13 in New York is 00:54:13 UTC the next day.
    assert response.submitted_at.isoformat() == "2015-06-08T00:54:13+00:00"
    assert response.answers == {}
    assert response.problems == [
        "map.answers.score: title 'How satisfied were you with our support?' is not in the payload",
        "map.answers.resolved: title 'Was your issue resolved?' is not in the payload",
        'map.answers.comment: title "Anything else you\'d like to tell us?" is not in the payload',
    ]


def test_google_forms_the_relay_scripts_body_is_an_unhappy_customer() -> None:
    body = {
        "formId": "1FAIpQLSe-form",
        "responseId": "ACYDBNj_example",
        "timestamp": "2026-11-23T09:58:12.345Z",
        "respondentEmail": "jane.doe@example.com",
        "answers": {
            "How satisfied were you with our support?": "2",
            "Was your issue resolved?": "No",
            "Anything else you'd like to tell us?": "The agent never called me back, I want a refund.",
            "Ticket ID": "48213",
        },
    }
    assert post_hook("support-google-forms", json.dumps(body)).status == 200
    response = stored("ACYDBNj_example")
    assert response.answers == {
        "score": 2,
        "resolved": False,
        "comment": "The agent never called me back, I want a refund.",
    }
    assert response.ticket == "48213"
    assert rules_of(response) == ["churn-words"]
    assert cases_of(response) == 1


def test_qualtrics_the_completed_response_event_fetches_the_response(hooks: FakeApi) -> None:
    reply = post_hook("install-qualtrics", payload("qualtrics_event_completedResponse.form"))
    assert reply.body["event_id"] == "qualtrics-R_2YPOQ602ER1jkf1"
    assert hooks.requests[0][1]["x-api-token"] == "qx-token"
    response = stored("R_2YPOQ602ER1jkf1")
    assert response.answers == {"completed": False, "comment": "Hello World!"}
    assert rules_of(response) == ["install-failed"]
