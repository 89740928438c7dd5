"""Escalation: the responsible people are watched, and their managers hear when they do not act."""

from __future__ import annotations

import io
from datetime import timedelta

from django.core.management import call_command

from closeloop.cases.escalation import escalate_due
from closeloop.cases.models import Case
from closeloop.cases.services import do_add_note, do_change_status, do_view_case
from closeloop.notify.models import Delivery
from closeloop.org.models import Person

from .conftest import NOW, case_of, ingest


def escalation_mails(case: Case) -> set[str]:
    return set(Delivery.objects.filter(ref=f"case:{case.pk}", topic="escalation").values_list("person__key", flat=True))


def escalated_steps(case: Case) -> list[int]:
    return [event.data["step"] for event in case.events.filter(type="escalated").order_by("id")]


def tick(at) -> None:
    call_command("tick", "--at", at.isoformat(), stdout=io.StringIO())


def test_a_manager_who_never_opens_the_case_is_escalated_after_24_and_72_hours(acme: None) -> None:
    # A Bronze case is due after 72 h, so up to then only the not-viewed and not-contacted steps can fire.
    case = case_of(ingest(tier="Bronze"))
    tick(NOW + timedelta(hours=23, minutes=59))
    assert escalation_mails(case) == set()

    tick(NOW + timedelta(hours=24))
    case.refresh_from_db()
    assert escalation_mails(case) == {"rita"}
    assert case.escalation_level == 1 and case.fired_steps == [0]
    event = case.events.get(type="escalated")
    assert event.data["when"] == "not_viewed" and event.data["recipients"] == ["rita"]

    tick(NOW + timedelta(hours=72))
    case.refresh_from_db()
    assert escalation_mails(case) == {"rita", "ceo", "erin"}
    assert case.escalation_level == 2
    by_step = {event.data["step"]: event.data for event in case.events.filter(type="escalated")}
    assert sorted(by_step) == [0, 1, 2, 3]
    assert (by_step[1]["when"], by_step[1]["level"], by_step[1]["recipients"]) == ("not_viewed", 2, ["ceo"])
    assert by_step[3]["when"] == "overdue" and by_step[3]["recipients"] == ["rita", "erin"]


def test_the_escalation_mails_are_sent_by_the_same_tick(failed_install: Case) -> None:
    tick(NOW + timedelta(hours=24))
    sent = Delivery.objects.filter(ref=f"case:{failed_install.pk}", topic="escalation")
    assert sent and all(d.status == "sent" for d in sent)


def test_opening_the_case_at_hour_23_prevents_both_not_viewed_steps(failed_install: Case) -> None:
    case = failed_install
    erin = Person.objects.get(key="erin")
    do_view_case(case, actor=erin, now=NOW + timedelta(hours=23))
    case.refresh_from_db()
    assert case.viewed_at == NOW + timedelta(hours=23)
    tick(NOW + timedelta(hours=80))
    case.refresh_from_db()
    assert 0 not in case.fired_steps and 1 not in case.fired_steps
    assert all(e.data["when"] != "not_viewed" for e in case.events.filter(type="escalated"))


def test_a_view_by_someone_outside_the_team_does_not_count(failed_install: Case) -> None:
    case = failed_install
    do_view_case(case, actor=Person.objects.get(key="ursula"), now=NOW + timedelta(hours=1))
    case.refresh_from_db()
    assert case.viewed_at is None and case.events.filter(type="viewed").count() == 1


def test_closing_in_time_cancels_every_pending_step(failed_install: Case) -> None:
    case = failed_install
    do_change_status(
        case, status="Closed", resolution="resolved", actor=Person.objects.get(key="erin"), now=NOW + timedelta(hours=2)
    )
    case.refresh_from_db()
    assert case.next_escalation_at is None
    tick(NOW + timedelta(days=10))
    assert escalation_mails(case) == set()


def test_speaking_to_the_customer_in_time_prevents_not_contacted(failed_install: Case) -> None:
    case = failed_install
    erin = Person.objects.get(key="erin")
    do_view_case(case, actor=erin, now=NOW + timedelta(hours=1))
    do_add_note(
        case, text="Called, fixed the installer.", spoke_to_customer=True, actor=erin, now=NOW + timedelta(hours=3)
    )
    do_change_status(case, status="Pending", actor=erin, now=NOW + timedelta(hours=4))
    tick(NOW + timedelta(hours=60))
    case.refresh_from_db()
    # Only the overdue step (a Gold case is due after 24 h) fired.
    assert escalated_steps(case) == [3]
    assert {e.data["when"] for e in case.events.filter(type="escalated")} == {"overdue"}


def test_closing_as_unresolved_emails_the_two_levels_above_at_once(failed_install: Case) -> None:
    case = failed_install
    erin = Person.objects.get(key="erin")
    do_view_case(case, actor=erin, now=NOW + timedelta(hours=1))
    do_add_note(case, text="Spoke to Pat.", spoke_to_customer=True, actor=erin, now=NOW + timedelta(hours=2))
    do_change_status(case, status="Closed", resolution="unresolved", actor=erin, now=NOW + timedelta(hours=3))
    case.refresh_from_db()
    assert escalation_mails(case) == {"rita", "ceo"}
    assert case.fired_steps == [4] and case.escalation_level == 2
    event = case.events.get(type="escalated")
    assert event.at == NOW + timedelta(hours=3) and event.data["when"] == "closed_unresolved"
    assert case.next_escalation_at is None


def test_each_step_fires_once_however_often_the_worker_runs(failed_install: Case) -> None:
    at = NOW + timedelta(hours=30)
    assert escalate_due(at) == 1
    assert escalate_due(at) == 0
    tick(at)
    assert sorted(escalated_steps(failed_install)) == [0, 3]


def test_the_worker_only_reads_cases_whose_next_escalation_is_due(
    failed_install: Case, django_assert_max_num_queries
) -> None:
    with django_assert_max_num_queries(1):
        assert escalate_due(NOW + timedelta(hours=1)) == 0


def test_the_worked_example_of_the_documentation(failed_install: Case) -> None:
    case = failed_install
    fired: dict[int, list[str]] = {}
    for hours, expected_level in ((24, 1), (48, 1), (72, 2)):
        tick(NOW + timedelta(hours=hours))
        case.refresh_from_db()
        assert case.escalation_level == expected_level
        fired = {e.data["step"]: e.data["recipients"] for e in case.events.filter(type="escalated")}
    assert fired == {0: ["rita"], 3: ["rita", "erin"], 2: ["rita"], 1: ["ceo"]}
    at = {e.data["step"]: e.at for e in case.events.filter(type="escalated")}
    assert (at[0], at[3], at[2], at[1]) == tuple(NOW + timedelta(hours=h) for h in (24, 24, 48, 72))
