"""A recovery alert opens one case per response, with the tier's severity and closure goal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from closeloop.actions.ingest import ingest_response
from closeloop.cases.models import Case, CaseEvent
from closeloop.cases.services import do_open_case
from closeloop.notify.models import Delivery
from closeloop.org.models import Calendar

from .conftest import NOW, case_of, ingest

pytestmark = pytest.mark.usefixtures("acme")


@pytest.mark.parametrize(
    ("tier", "severity", "hours"),
    [
        ("Gold", "urgent", 24),
        ("Silver", "high", 48),
        ("Bronze", "normal", 72),
        ("Platinum", "normal", 72),
        (None, "normal", 72),
    ],
)
def test_the_customer_tier_picks_severity_and_closure_goal(tier: str | None, severity: str, hours: int) -> None:
    case = case_of(ingest(tier=tier))
    assert (case.severity, case.due_at - case.opened_at) == (severity, timedelta(hours=hours))
    assert case.opened_at == NOW
    assert case.sla["tier"] == (tier if tier in ("Gold", "Silver", "Bronze") else "default")


def test_a_gold_customers_failed_installation_opens_an_urgent_case_due_in_24_hours() -> None:
    response = ingest(tier="Gold")
    case = case_of(response)
    assert (case.template_key, case.category, case.status, case.state) == (
        "install-case",
        "Installation issues",
        "Open",
        "open",
    )
    assert case.severity == "urgent" and case.due_at == NOW + timedelta(hours=24)
    assert case.unit.code == "SUP-EMEA" and case.tier == "Gold"
    assert {p.key for p in case.managers.all()} == {"erin", "rita"}
    assert {p.key for p in case.members.all()} == {"dave"}
    # The policy is copied: the first step (not viewed for 24h) is the next thing that can happen.
    assert len(case.escalation_steps) == 5 and case.fired_steps == []
    assert case.next_escalation_at == NOW + timedelta(hours=24)
    opened = case.events.get(type="opened")
    assert opened.data["managers"] == ["erin", "rita"] and opened.at == NOW


def test_opening_emails_the_team_with_a_link_and_records_who_was_told(settings) -> None:
    case = case_of(ingest())
    mails = Delivery.objects.filter(ref=f"case:{case.pk}", topic="case")
    assert {(d.person.key, d.channel) for d in mails} == {("erin", "email"), ("rita", "email"), ("dave", "email")}
    assert all(f"{settings.SITE_URL}/cases/{case.pk}" in d.text for d in mails)
    notified = case.events.get(type="notified")
    assert notified.data["about"] == "opened" and notified.data["recipients"] == ["dave", "erin", "rita"]


def test_a_recovery_alert_without_a_template_opens_a_case_from_the_default_template() -> None:
    response = ingest({"ease": 9, "completed": True, "comment": "I want a refund."}, tier="Gold")
    case = case_of(response)
    assert (case.template_key, case.category, case.severity) == ("default", "At-risk customer", "urgent")
    assert case.statuses == ["Open", "Closed"] and case.due_at == NOW + timedelta(hours=72)
    assert [p.key for p in case.managers.all()] == ["erin"] and [p.key for p in case.members.all()] == ["dave"]
    assert case.escalation_steps == [] and case.next_escalation_at is None


def test_praise_opens_no_case() -> None:
    response = ingest({"ease": 10, "completed": True})
    assert not Case.objects.filter(response=response).exists()


def test_a_replay_or_a_second_evaluation_never_opens_a_second_case() -> None:
    response = ingest(external_id="same-1")
    again = ingest(external_id="same-1")
    assert again.pk == response.pk
    alerts = list(response.alerts.filter(kind="recovery"))
    assert do_open_case(response, alerts, now=NOW + timedelta(hours=1)) is None
    assert Case.objects.filter(response=response).count() == 1
    assert CaseEvent.objects.filter(case__response=response, type="opened").count() == 1


def test_an_invalid_response_opens_its_case_when_fixed_and_counts_from_the_fix() -> None:
    from closeloop.actions.fix_response import fix_response

    response = ingest(unit="NOPE")
    assert not Case.objects.filter(response=response).exists()
    fixed_at = NOW + timedelta(hours=5)
    fix_response(response, {"unit": "SUP-EMEA"}, now=fixed_at)
    case = case_of(response)
    assert case.opened_at == fixed_at and case.due_at == fixed_at + timedelta(hours=24)


def _office_template(goal_hours: int) -> None:
    from closeloop.cases.models import CaseTemplate

    template = CaseTemplate.objects.get(key="install-case")
    template.calendar = "office"
    template.sla = {"default": {"severity": "normal", "closure_goal": goal_hours * 3600}}
    template.save()


def test_with_a_business_calendar_friday_1600_plus_8_hours_is_monday_1600() -> None:
    _office_template(8)
    # Friday 2026-11-20 16:00 in London (SUP-EMEA's zone): one hour on Friday, seven on Monday.
    friday = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    case = case_of(ingest(at=friday, tier=None))
    assert case.due_at == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert case.sla["calendar"] == "office"


def test_a_business_calendar_skips_public_holidays() -> None:
    _office_template(8)
    assert Calendar.objects.get(key="office").holidays == "US"
    # Wednesday 2026-11-25 16:00 London; Thursday 26th is Thanksgiving: one hour Wednesday, seven on Friday.
    wednesday = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    case = case_of(ingest(at=wednesday, tier=None))
    assert case.due_at == datetime(2026, 11, 27, 16, 0, tzinfo=UTC)


def test_the_calendar_is_read_in_the_units_time_zone() -> None:
    _office_template(8)
    # SUP-US inherits New York: Friday 16:00 local is 21:00 UTC; Monday 16:00 local is 21:00 UTC.
    friday = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
    case = case_of(ingest(at=friday, tier=None, unit="SUP-US"))
    assert case.due_at == datetime(2026, 11, 23, 21, 0, tzinfo=UTC)


def test_a_batch_with_two_failures_for_different_tickets_opens_two_cases() -> None:
    items = [
        {
            "survey": "upgrade-install",
            "external_id": f"batch-{n}",
            "unit": "SUP-EMEA",
            "segment": "SMB",
            "ticket": f"B-{n}",
            "answers": {"ease": 5, "completed": False},
        }
        for n in range(2)
    ]
    from closeloop.actions.ingest import ingest_responses

    outcomes = ingest_responses(items, source="test", now=NOW)
    assert Case.objects.filter(response__in=[o.response for o in outcomes]).count() == 2


def test_ingest_of_one_response_still_works_without_any_case_template() -> None:
    from closeloop.cases.models import CaseTemplate

    CaseTemplate.objects.all().delete()
    result = ingest_response(
        {
            "survey": "upgrade-install",
            "external_id": "t-1",
            "unit": "SUP-EMEA",
            "segment": "SMB",
            "answers": {"completed": False},
        },
        source="test",
        now=datetime(2026, 11, 23, 12, tzinfo=UTC),
    )
    assert case_of(result.response).template_key == "default"


def test_without_a_default_sla_an_unlisted_tier_gets_the_rule_severity_and_72_hours() -> None:
    from closeloop.cases.models import CaseTemplate

    CaseTemplate.objects.filter(key="install-case").update(sla={"Gold": {"severity": "urgent", "closure_goal": 86400}})
    case = case_of(ingest(tier="Silver"))
    assert (case.severity, case.due_at - case.opened_at, case.sla["tier"]) == ("high", timedelta(hours=72), None)


def test_a_calendar_missing_from_the_database_still_opens_the_case_in_wall_clock_time() -> None:
    from closeloop.cases.models import CaseTemplate

    CaseTemplate.objects.filter(key="install-case").update(calendar="gone")
    case = case_of(ingest(tier="Gold"))
    assert case.due_at == NOW + timedelta(hours=24)
