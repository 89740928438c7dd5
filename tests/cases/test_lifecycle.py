"""Viewing, notes, status changes, assignment: each a service writing one event, telling the team."""

from __future__ import annotations

from datetime import timedelta

import pytest

from closeloop.cases.models import Case, CaseEvent
from closeloop.cases.services import (
    CaseInputError,
    CasePermissionDenied,
    do_add_note,
    do_assign,
    do_change_status,
    do_reopen,
    do_view_case,
)
from closeloop.notify.models import Delivery
from closeloop.org.models import Person

from .conftest import NOW


def person(key: str) -> Person:
    return Person.objects.get(key=key)


def notified(event: CaseEvent) -> list[str]:
    return CaseEvent.objects.get(type="notified", data__event=event.pk).data["recipients"]


def test_the_first_team_view_sets_viewed_at_and_each_person_views_once(failed_install: Case) -> None:
    dave = person("dave")
    do_view_case(failed_install, actor=dave, now=NOW + timedelta(hours=1))
    do_view_case(failed_install, actor=dave, now=NOW + timedelta(hours=2))
    do_view_case(failed_install, actor=person("erin"), now=NOW + timedelta(hours=3))
    failed_install.refresh_from_db()
    assert failed_install.viewed_at == NOW + timedelta(hours=1)
    assert [e.actor.key for e in failed_install.events.filter(type="viewed")] == ["dave", "erin"]
    # The not-viewed steps are gone; the next thing that can happen is the overdue step at 24 h.
    assert failed_install.next_escalation_at == NOW + timedelta(hours=24)


def test_a_note_is_written_by_the_actor_and_emails_everyone_else_in_the_team(failed_install: Case) -> None:
    note = do_add_note(failed_install, text="Left a voicemail.", actor=person("erin"), now=NOW + timedelta(hours=1))
    assert note.data == {"text": "Left a voicemail.", "spoke_to_customer": False, "author": "Erin Diaz"}
    assert notified(note) == ["dave", "rita"]
    failed_install.refresh_from_db()
    assert failed_install.contacted_at is None
    keys = set(
        Delivery.objects.filter(idempotency_key__startswith=f"case-event:{note.pk}:").values_list(
            "person__key", flat=True
        )
    )
    assert keys == {"dave", "rita"}


def test_without_an_actor_the_author_is_the_unit_lead_unless_named(failed_install: Case) -> None:
    assert do_add_note(failed_install, text="Imported", now=NOW).data["author"] == "Erin Diaz"
    named = do_add_note(failed_install, text="By phone", author_name="Front desk", now=NOW)
    assert named.data["author"] == "Front desk"


def test_the_first_note_that_spoke_to_the_customer_sets_contacted_at(failed_install: Case) -> None:
    do_add_note(
        failed_install, text="Spoke.", spoke_to_customer=True, actor=person("dave"), now=NOW + timedelta(hours=2)
    )
    do_add_note(
        failed_install, text="Spoke again.", spoke_to_customer=True, actor=person("dave"), now=NOW + timedelta(hours=5)
    )
    failed_install.refresh_from_db()
    assert failed_install.contacted_at == NOW + timedelta(hours=2)


def test_a_note_needs_text(failed_install: Case) -> None:
    with pytest.raises(CaseInputError) as error:
        do_add_note(failed_install, text="   ", actor=person("erin"), now=NOW)
    assert error.value.field == "text"


def test_a_status_must_come_from_the_template(failed_install: Case) -> None:
    with pytest.raises(CaseInputError):
        do_change_status(failed_install, status="Limbo", actor=person("erin"), now=NOW)
    do_change_status(failed_install, status="Pending", actor=person("dave"), now=NOW + timedelta(hours=1))
    failed_install.refresh_from_db()
    assert (failed_install.status, failed_install.state) == ("Pending", "open")
    event = failed_install.events.get(type="status")
    assert event.data == {"from": "Open", "to": "Pending"}


def test_closing_needs_a_resolution_and_a_manager_or_an_admin(failed_install: Case) -> None:
    with pytest.raises(CaseInputError):
        do_change_status(failed_install, status="Closed", actor=person("erin"), now=NOW)
    with pytest.raises(CasePermissionDenied):
        do_change_status(failed_install, status="Closed", resolution="resolved", actor=person("dave"), now=NOW)
    do_change_status(
        failed_install, status="Closed", resolution="resolved", actor=person("admin"), now=NOW + timedelta(hours=1)
    )
    failed_install.refresh_from_db()
    assert (failed_install.state, failed_install.resolution, failed_install.closed_at) == (
        "closed",
        "resolved",
        NOW + timedelta(hours=1),
    )


def test_a_service_token_without_a_person_acts_as_an_admin(failed_install: Case) -> None:
    do_change_status(failed_install, status="Closed", resolution="resolved", note="Done.", actor=None, now=NOW)
    failed_install.refresh_from_db()
    assert failed_install.state == "closed"
    assert failed_install.events.get(type="note").data["text"] == "Done."


def test_reopening_moves_out_of_the_closed_status(failed_install: Case) -> None:
    erin = person("erin")
    do_change_status(failed_install, status="Closed", resolution="resolved", actor=erin, now=NOW + timedelta(hours=1))
    do_reopen(failed_install, actor=erin, now=NOW + timedelta(hours=2))
    failed_install.refresh_from_db()
    assert (failed_install.state, failed_install.status, failed_install.resolution, failed_install.closed_at) == (
        "open",
        "Open",
        None,
        None,
    )
    reopened = failed_install.events.get(type="reopened")
    assert reopened.data == {"from": "Closed", "to": "Open"} and notified(reopened) == ["dave", "rita"]


def test_assigning_an_owner_records_it_and_the_owner_counts_as_team(failed_install: Case) -> None:
    # The lead of the whole organisation holds a role above the case's unit but is not in its team.
    cora = person("ceo")
    # An admin outside the team assigns: their action is not the team's view.
    do_assign(failed_install, owner=cora, actor=person("admin"), now=NOW + timedelta(hours=1))
    failed_install.refresh_from_db()
    assert failed_install.owner == cora and failed_install.viewed_at is None
    assert failed_install.events.get(type="assigned").data["owner"] == "ceo"
    do_view_case(failed_install, actor=cora, now=NOW + timedelta(hours=2))
    failed_install.refresh_from_db()
    assert failed_install.viewed_at == NOW + timedelta(hours=2)
