"""A case follows its customer's feedback: to a resubmitted response, and to a reassigned unit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from closeloop.actions.fix_response import fix_response
from closeloop.cases.models import Case
from closeloop.cases.queries import responses_for_srn
from closeloop.cases.services import do_add_note
from closeloop.feedback.models import Response
from closeloop.org.models import Person

from .conftest import NOW, case_of, ingest

pytestmark = pytest.mark.usefixtures("acme")


def test_a_resubmission_for_the_same_ticket_moves_the_case_with_its_notes() -> None:
    first = ingest(ticket="T-500")
    case = case_of(first)
    do_add_note(
        case, text="Called.", spoke_to_customer=True, actor=Person.objects.get(key="erin"), now=NOW + timedelta(hours=1)
    )
    second = ingest(ticket="T-500", at=NOW + timedelta(hours=2))
    first.refresh_from_db()
    assert first.superseded_by_id == second.pk
    assert Case.objects.count() == 1
    moved = Case.objects.get()
    assert moved.pk == case.pk and moved.response_id == second.pk
    event = moved.events.get(type="moved")
    assert event.data == {"reason": "resubmitted", "from_response": first.pk, "to_response": second.pk}
    assert [e.data["text"] for e in moved.events.filter(type="note")] == ["Called."]
    # The SLA keeps counting from the first opening.
    assert moved.opened_at == NOW


def test_a_happy_resubmission_still_takes_over_the_case() -> None:
    first = ingest(ticket="T-501")
    second = ingest({"ease": 9, "completed": True}, ticket="T-501", at=NOW + timedelta(hours=1))
    assert case_of(second).events.filter(type="moved").exists()
    assert not Case.objects.filter(response=first).exists()


def test_reassigning_the_response_moves_the_case_and_its_team() -> None:
    response = ingest()
    admin = Person.objects.get(key="admin")
    fix_response(response, {"unit": "SUP-US"}, now=NOW + timedelta(hours=1), actor=admin)
    case = case_of(response)
    assert case.unit.code == "SUP-US"
    assert {p.key for p in case.managers.all()} == {"ursula", "rita"}
    assert not case.members.filter(key="erin").exists()
    event = case.events.get(type="moved")
    assert (event.data["from_unit"], event.data["to_unit"], event.actor) == ("SUP-EMEA", "SUP-US", admin)


def test_pending_escalations_follow_the_case_to_its_new_unit() -> None:
    from closeloop.cases.escalation import escalate_due

    response = ingest(tier="Bronze")
    fix_response(response, {"unit": "SUP-US"}, now=NOW + timedelta(hours=1))
    escalate_due(NOW + timedelta(hours=24))
    # One level above SUP-US is AMER, which has no lead of its own: its nearest lead above is the CEO.
    assert case_of(response).events.get(type="escalated").data["recipients"] == ["ceo"]


def test_the_srn_filters_read_the_case_notes() -> None:
    erin = Person.objects.get(key="erin")
    untouched = ingest()
    voicemail = ingest()
    do_add_note(case_of(voicemail), text="Left a voicemail.", actor=erin, now=NOW)
    spoke = ingest()
    do_add_note(case_of(spoke), text="Voicemail.", actor=erin, now=NOW)
    do_add_note(case_of(spoke), text="Spoke.", spoke_to_customer=True, actor=erin, now=NOW)
    happy = ingest({"ease": 10, "completed": True})

    def ids(srn: str) -> set[int]:
        return set(responses_for_srn(Response.objects.all(), srn).values_list("pk", flat=True))

    assert ids("y") == {untouched.pk, voicemail.pk, spoke.pk, happy.pk}
    assert ids("r") == {untouched.pk, voicemail.pk, spoke.pk}
    assert ids("x") == {untouched.pk}
    assert ids("w") == {voicemail.pk, spoke.pk}
    assert ids("v") == {voicemail.pk}
    assert ids("s") == {spoke.pk}


def test_a_quarantined_resubmission_takes_over_the_case_once_it_is_fixed() -> None:
    first = ingest(ticket="T-502")
    case = case_of(first)
    second = ingest(ticket="T-502", unit="NOPE", at=NOW + timedelta(hours=1))
    assert second.status == "invalid" and case_of(first).pk == case.pk
    fix_response(second, {"unit": "SUP-EMEA"}, now=NOW + timedelta(hours=2))
    assert Case.objects.count() == 1 and case_of(second).pk == case.pk
