"""The follow-up survey: scheduled on closing, emailed with one-click links, answered from a confirm page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from closeloop.actions.close_case import change_case_status
from closeloop.cases.models import Case, CaseEvent
from closeloop.cases.services import do_reopen
from closeloop.feedback.models import Response, Survey
from closeloop.loop.models import FollowUp
from closeloop.loop.services import make_token
from closeloop.notify.models import Delivery
from closeloop.org.stamp import stamp
from closeloop.reports.queries import loop_summary_for
from closeloop.worker.runner import run_due_work
from tests.helpers import ApiClient, create_token
from tests.loop.conftest import LINK, closed_case, send
from tests.web.conftest import ingest


def test_closing_schedules_a_follow_up_after_the_configured_delay(recent_close: Case) -> None:
    follow_up = FollowUp.objects.get(case=recent_close)
    assert follow_up.due_at == recent_close.closed_at + timedelta(days=2)
    assert follow_up.sent_at is None


@pytest.mark.parametrize(
    "customer",
    [
        {"id": "C-no-consent", "email": "pat@example.com", "contact_ok": False},
        {"id": "C-no-email", "phone": "+15555550123", "contact_ok": True},
    ],
)
def test_no_follow_up_without_consent_and_an_email_address(acme: None, customer: dict) -> None:
    case = closed_case(closed_at=timezone.now() - timedelta(days=3), **customer)
    assert not FollowUp.objects.filter(case=case).exists()


def test_nothing_is_sent_before_it_is_due(recent_close: Case) -> None:
    follow_up = FollowUp.objects.get(case=recent_close)
    run_due_work(follow_up.due_at - timedelta(minutes=1))
    assert not Delivery.objects.filter(topic="follow-up").exists()


def test_the_email_reaches_the_customer_with_a_yes_and_a_no_link(recent_close: Case, smtp) -> None:
    follow_up = FollowUp.objects.get(case=recent_close)
    done = run_due_work(follow_up.due_at)
    assert done["follow-ups"] == 1
    (message,) = [m for m in smtp.messages if m["To"] == "pat@example.com"]
    assert "did we resolve your issue?" in message["Subject"]
    body = message.get_content()
    answers = [answer for _, answer in LINK.findall(body)]
    assert answers == ["yes", "no"]
    assert "http://127.0.0.1:8000/follow-up/" in body
    run_due_work(follow_up.due_at + timedelta(hours=1))
    assert sum(m["To"] == "pat@example.com" for m in smtp.messages) == 1  # sent once


def test_a_case_reopened_before_the_follow_up_is_due_is_not_asked(recent_close: Case) -> None:
    do_reopen(recent_close, now=recent_close.closed_at + timedelta(hours=1))
    follow_up = FollowUp.objects.get(case=recent_close)
    run_due_work(follow_up.due_at)
    follow_up.refresh_from_db()
    assert follow_up.sent_at is None and follow_up.due_at is None
    assert not Delivery.objects.filter(topic="follow-up").exists()


def test_opening_a_link_only_asks_for_confirmation(recent_close: Case) -> None:
    follow_up, links = send(recent_close)
    page = Client().get(links["yes"])
    assert page.status_code == 200
    assert b"Send my answer" in page.content
    follow_up.refresh_from_db()
    assert follow_up.answered_at is None


def test_yes_records_a_response_and_counts_as_recovered(recent_close: Case) -> None:
    follow_up, links = send(recent_close)
    page = Client().post(links["yes"])
    assert page.status_code == 200
    assert b"Thank you" in page.content
    follow_up.refresh_from_db()
    assert follow_up.answer is True
    response = Response.objects.get(pk=follow_up.response_id)
    assert response.survey.key == "recovery-check"
    assert response.source == "follow-up"
    assert response.answers == {"resolved": True}
    assert response.customer_id == recent_close.response.customer_id
    assert response.customer.contact_ok and response.contact_ok  # answering does not withdraw consent
    assert Case.objects.get(pk=recent_close.pk).state == Case.State.CLOSED
    day = recent_close.opened_at.date()
    summary = loop_summary_for(day - timedelta(days=1), day + timedelta(days=1))
    assert summary.recovered_percent == 100.0


def test_the_answer_carries_no_details_of_one_unit_into_the_record_of_a_customer_of_others(acme: None) -> None:
    us = ingest(unit="SUP-US")  # the customer's record as SUP-US knows it: pat@example.com
    customer = us.customer
    assert customer is not None
    token = create_token(["ingest"], units=["SUP-EMEA"])
    posted = ApiClient(token).post(
        "/api/v1/responses",
        {
            "survey": "upgrade-install",
            "external_id": "emea-1",
            "submitted_at": (timezone.now() - timedelta(days=4)).isoformat(),
            "unit": "SUP-EMEA",
            "customer": {"id": customer.external_id, "email": "mallory@evil.example", "contact_ok": True},
            "answers": {"ease": 2, "completed": False},
        },
    )
    case = Case.objects.get(response_id=posted.json()["id"])
    change_case_status(case, status="Closed", resolution="resolved", actor=None, now=timezone.now() - timedelta(days=3))
    _, links = send(case)
    assert Client().post(links["yes"]).status_code == 200
    customer.refresh_from_db()
    assert customer.email == "pat@example.com"
    assert Response.objects.get(source="follow-up").customer_email == "mallory@evil.example"


def test_no_reopens_the_case_and_tells_the_team(recent_close: Case) -> None:
    follow_up, links = send(recent_close)
    page = Client().post(links["no"])
    assert page.status_code == 200
    assert b"open again" in page.content
    case = Case.objects.get(pk=recent_close.pk)
    assert case.state == Case.State.OPEN
    assert case.events.filter(type=CaseEvent.Type.REOPENED).exists()
    told = Delivery.objects.filter(idempotency_key__startswith=f"follow-up-no:{follow_up.pk}:")
    assert {d.address for d in told} >= {"erin@acme.example", "rita@acme.example", "dave@acme.example"}
    assert all("NOT resolved" in d.text for d in told)
    day = recent_close.opened_at.date()
    summary = loop_summary_for(day - timedelta(days=1), day + timedelta(days=1))
    assert summary.recovered_percent == 0.0


def test_a_sent_follow_up_without_an_answer_gives_no_figure_yet(recent_close: Case) -> None:
    """Not answered says nothing about recovery: "–", not 0 %."""
    send(recent_close)
    day = recent_close.opened_at.date()
    assert loop_summary_for(day - timedelta(days=1), day + timedelta(days=1)).recovered_percent is None


def test_a_used_link_says_so(recent_close: Case) -> None:
    follow_up, links = send(recent_close)
    client = Client()
    client.post(links["yes"])
    for again in (client.get(links["no"]), client.post(links["no"])):
        assert again.status_code == 200
        assert b"already have your answer" in again.content
    follow_up.refresh_from_db()
    assert follow_up.answer is True
    assert Response.objects.filter(source="follow-up").count() == 1


def test_an_expired_link_says_so(acme: None) -> None:
    case = closed_case(closed_at=timezone.now() - timedelta(days=20))
    follow_up, links = send(case)
    for page in (Client().get(links["yes"]), Client().post(links["yes"])):
        assert page.status_code == 410
        assert b"expired" in page.content
    follow_up.refresh_from_db()
    assert follow_up.answered_at is None


def test_a_yes_link_cannot_be_posted_as_no_nor_the_other_way_round(recent_close: Case) -> None:
    follow_up, links = send(recent_close)
    yes_token = links["yes"].split("/")[2]
    no_token = links["no"].split("/")[2]
    assert yes_token != no_token
    for path in (f"/follow-up/{yes_token}/no", f"/follow-up/{no_token}/yes"):
        for page in (Client().get(path), Client().post(path)):
            assert page.status_code == 400
            assert b"does not work" in page.content
    follow_up.refresh_from_db()
    assert follow_up.answered_at is None
    assert Client().post(links["no"]).status_code == 200
    follow_up.refresh_from_db()
    assert follow_up.answer is False


def test_the_answer_is_stored_under_an_id_nobody_can_guess_in_advance(recent_close: Case) -> None:
    follow_up, links = send(recent_close)
    Client().post(links["yes"])
    follow_up.refresh_from_db()
    external_id = follow_up.response.external_id
    assert external_id != f"follow-up-{follow_up.pk}"
    assert re.fullmatch(r"follow-up-[A-Za-z0-9_-]{16,}", external_id)


def test_the_confirm_page_offers_the_other_answer_with_its_own_signed_link(recent_close: Case) -> None:
    _, links = send(recent_close)
    page = Client().get(links["yes"]).content.decode()
    assert links["no"] in page


def test_a_tampered_link_says_so(recent_close: Case) -> None:
    follow_up, _ = send(recent_close)
    token = make_token(follow_up, "yes")
    forged = token.replace(f"{follow_up.pk}.", f"{follow_up.pk + 1}.", 1)
    for path in (f"/follow-up/{forged}/yes", f"/follow-up/{token[:-2]}/yes", f"/follow-up/{token}/maybe"):
        for page in (Client().get(path), Client().post(path)):
            assert page.status_code == 400
            assert b"does not work" in page.content
    follow_up.refresh_from_db()
    assert follow_up.answered_at is None


def test_a_follow_up_survey_removed_from_the_configuration_closes_the_link(recent_close: Case) -> None:
    follow_up, links = send(recent_close)
    Survey.objects.filter(key="recovery-check").update(active=False)
    stamp()
    page = Client().post(links["yes"])
    assert page.status_code == 410
    assert b"survey is closed" in page.content
    follow_up.refresh_from_db()
    assert follow_up.answered_at is None
