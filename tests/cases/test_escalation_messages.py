"""What an escalation tells each person it reaches: the case in full, their own level, by email and (for
high and urgent cases) by SMS."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command

from closeloop.cases.models import Case
from closeloop.cases.services import do_add_note, do_change_status
from closeloop.notify.models import Delivery
from closeloop.org.models import Person

from .conftest import NOW, case_of, ingest

pytestmark = pytest.mark.usefixtures("acme")

CUSTOMER = {
    "id": "C-900",
    "name": "Pat Lee",
    "email": "pat@example.com",
    "phone": "+15555550123",
    "tier": "Gold",
    "contact_ok": True,
}


def tick(at) -> None:
    call_command("tick", "--at", at.isoformat(), stdout=io.StringIO())


def message(case: Case, person: str, step: int, channel: str = "email") -> Delivery:
    return Delivery.objects.get(idempotency_key=f"case:{case.pk}:step:{step}:{person}:{channel}")


def test_the_escalation_email_carries_the_customer_the_miss_and_what_the_team_did() -> None:
    case = case_of(ingest(customer=CUSTOMER, ticket="T-77"))
    # The worker gets there five minutes late.
    tick(NOW + timedelta(hours=24, minutes=5))
    rita = message(case, "rita", 0)
    assert (
        rita.subject == f"Escalation (level 1) #{case.pk}: not viewed – Pat Lee (Gold) – Installation issues [urgent]"
    )
    assert rita.text == (
        "This case is escalated to you at level 1 because nobody in the team has opened it.\n"
        "\n"
        "Deadline missed: Tue 24 Nov, 15:00 GMT (5 min ago).\n"
        "Due: Tue 24 Nov, 15:00 GMT\n"
        "Closure goal: due Tue 24 Nov, 15:00 GMT: overdue by 5 min.\n"
        "\n"
        "Customer: Pat Lee (Gold), rated 7/10\n"
        "In the customer's words:\n"
        '  "It failed twice."\n'
        "  Phone: +15555550123 <tel:+15555550123>\n"
        "  Email: pat@example.com <mailto:pat@example.com>\n"
        "Ticket: T-77 <https://support.acme.example/tickets/T-77>\n"
        "Unit: Support EMEA (SUP-EMEA)\n"
        "\n"
        "Responsible: Erin Diaz, Rita Region\n"
        "  Viewed: no\n"
        "  Spoke to the customer: no\n"
        "  Last note: none\n"
        "\n"
        f"Case #{case.pk}: Installation issues, severity urgent, status Open\n"
        f"Open the case: http://127.0.0.1:8000/cases/{case.pk}\n"
    )


def test_each_recipient_is_told_their_own_level() -> None:
    case = case_of(ingest(customer=CUSTOMER))
    tick(NOW + timedelta(hours=24))
    # The overdue step names `{level: 1}` and `unit_leads`: Rita is level 1, Erin (the unit's lead) level 0.
    assert message(case, "rita", 3).text.startswith("This case is escalated to you at level 1 because it is past")
    assert message(case, "erin", 3).text.startswith("This case is escalated to you at level 0 because it is past")
    selected = case.events.get(type="escalated", data__step=3).data["selected"]
    assert selected == [
        {"person": "rita", "because": "level 1", "level": 1},
        {"person": "erin", "because": "unit_leads", "level": 0},
    ]
    # The case's own level is the highest reached.
    case.refresh_from_db()
    assert case.escalation_level == 1


def test_an_urgent_case_also_goes_by_sms_to_those_with_a_phone() -> None:
    case = case_of(ingest(customer=CUSTOMER))
    tick(NOW + timedelta(hours=72))
    sms = Delivery.objects.filter(ref=f"case:{case.pk}", topic="escalation", channel="sms")
    # Rita and Erin have phones; the CEO (level 2, not viewed after 72 h) has none, so only her email goes.
    assert sorted(sms.values_list("person__key", flat=True)) == ["erin", "rita", "rita", "rita"]
    assert not sms.filter(person__key="ceo").exists()
    assert message(case, "ceo", 1).status == "sent"
    text = message(case, "rita", 0, "sms").text
    assert text == (
        f"Escalation L1 #{case.pk} not viewed (2 d late): Pat Lee (Gold), Installation issues [urgent] at SUP-EMEA. "
        f'"It failed twice." Tel +15555550123. http://127.0.0.1:8000/cases/{case.pk}'
    )


def test_a_normal_case_escalates_by_email_only() -> None:
    case = case_of(ingest(customer=CUSTOMER | {"tier": "Bronze"}))
    tick(NOW + timedelta(hours=24))
    assert set(
        Delivery.objects.filter(ref=f"case:{case.pk}", topic="escalation").values_list("channel", flat=True)
    ) == {"email"}


def test_contact_details_stay_out_without_consent() -> None:
    case = case_of(ingest(customer=CUSTOMER | {"contact_ok": False}))
    tick(NOW + timedelta(hours=24))
    email = message(case, "rita", 0).text
    assert "+15555550123" not in email and "pat@example.com" not in email
    assert "The customer has not agreed to be contacted directly." in email
    assert "+15555550123" not in message(case, "rita", 0, "sms").text


def test_what_the_team_did_so_far_is_in_the_overdue_escalation() -> None:
    case = case_of(ingest(customer=CUSTOMER))
    do_add_note(case, text="Left a voicemail.", actor=Person.objects.get(key="dave"), now=NOW + timedelta(hours=2))
    tick(NOW + timedelta(hours=24))
    text = message(case, "rita", 3).text
    assert "  Viewed: yes, by Dave Agent on Mon 23 Nov, 17:00 GMT\n" in text
    assert "  Spoke to the customer: no\n" in text
    assert "  Last note: Dave Agent on Mon 23 Nov, 17:00 GMT (Spoke? No): Left a voicemail.\n" in text
    # Dave's note counted as the team's view: no "not viewed" step fired.
    assert not Delivery.objects.filter(idempotency_key__startswith=f"case:{case.pk}:step:0:").exists()


def test_closing_unresolved_says_when_it_was_closed() -> None:
    case = case_of(ingest(customer=CUSTOMER))
    do_change_status(
        case,
        status="Closed",
        resolution="unresolved",
        actor=Person.objects.get(key="erin"),
        now=NOW + timedelta(hours=3),
    )
    text = message(case, "ceo", 4).text
    assert text.startswith(
        "This case is escalated to you at level 2 because it was closed without resolving the customer's problem.\n"
        "\n"
        "What happened: closed as unresolved on Mon 23 Nov, 18:00 GMT.\n"
    )
