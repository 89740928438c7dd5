"""Loop metrics against hand-computed examples."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from closeloop.core.metrics import (
    NEVER_CONTACTED,
    NOT_RECOVERED,
    RECOVERED,
    RECOVERED_DEFINITION,
    CaseFacts,
    CategoryShare,
    UnitActivity,
    contact_times,
    hours_between_statuses,
    is_recovered,
    loop_summary,
    percent,
    quantile,
    retention,
    retention_group,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=48)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def case(unit: str = "A", **facts) -> CaseFacts:
    return CaseFacts(unit=unit, category="Installation issues", opened_at=T0, **facts)


# Five cases, worked out by hand in the comments of the tests below.
CASES = [
    case(first_contact_at=at(2), due_at=at(24), closed_at=at(10), resolution="resolved",
         followup_asked=True, followup_answer=True),
    case(first_contact_at=at(5), due_at=at(24), closed_at=at(30), resolution="unresolved",
         followup_asked=True, followup_answer=False),
    case(first_contact_at=at(1), due_at=at(24)),
    case(unit="B", due_at=at(72)),
    case(unit="B", first_contact_at=at(11), due_at=at(24), closed_at=at(20), resolution="resolved",
         followup_asked=True, followup_answer=None),
]  # fmt: skip
ACTIVITY = [
    UnitActivity("A", responses=40, needing_recovery=6, alert_categories=["Install", "Install", "Billing"]),
    UnitActivity("B", responses=10, needing_recovery=2, alert_categories=["Install", "Courtesy"]),
]


def test_percent_rounds_half_up_to_one_decimal_and_is_none_without_a_denominator():
    assert percent(1, 3) == 33.3
    assert percent(2, 3) == 66.7
    assert percent(1, 16) == 6.3
    assert percent(0, 5) == 0.0
    assert percent(0, 0) is None


def test_quantile_interpolates_between_ranks():
    values = [Decimal(v) for v in (11, 1, 5, 2)]
    assert quantile(values, 0.5) == Decimal("3.5")
    assert quantile(values, 0.9) == Decimal("9.2")
    assert quantile([Decimal(7)], 0.9) == Decimal(7)
    assert quantile([], 0.5) is None


def test_summary_over_all_units():
    summary = loop_summary(ACTIVITY, CASES, NOW)
    assert summary.unit is None
    assert (summary.responses, summary.needing_recovery, summary.cases) == (50, 8, 5)
    assert summary.alerts_by_category == (
        CategoryShare("Install", 3, 60.0),
        CategoryShare("Billing", 1, 20.0),
        CategoryShare("Courtesy", 1, 20.0),
    )
    # Contacted after 2, 5, 1 and 11 hours; one case never contacted.
    assert summary.contacted_percent == 80.0
    assert summary.median_hours_to_contact == 3.5
    assert summary.p90_hours_to_contact == 9.2
    # Judged at hour 48: two closed in time, one closed late, one open past its due time; the case due at
    # hour 72 is not judged yet.
    assert summary.closed_within_goal_percent == 50.0
    # Closed: two resolved, one unresolved.
    assert summary.resolved_percent == 66.7
    # Follow-up asked three times, answered twice: yes once.
    assert summary.recovered_percent == 50.0


def test_summary_per_unit():
    unit_a, unit_b = loop_summary(ACTIVITY, CASES, NOW).by_unit
    assert unit_a.unit == "A"
    assert (unit_a.responses, unit_a.needing_recovery, unit_a.cases) == (40, 6, 3)
    assert unit_a.alerts_by_category == (CategoryShare("Install", 2, 66.7), CategoryShare("Billing", 1, 33.3))
    assert unit_a.contacted_percent == 100.0
    assert unit_a.median_hours_to_contact == 2.0
    assert unit_a.p90_hours_to_contact == 4.4
    assert unit_a.closed_within_goal_percent == 33.3
    assert unit_a.resolved_percent == 50.0
    assert unit_a.recovered_percent == 50.0
    assert unit_a.by_unit == ()

    assert unit_b.unit == "B"
    assert unit_b.contacted_percent == 50.0
    assert unit_b.median_hours_to_contact == 11.0
    assert unit_b.closed_within_goal_percent == 100.0
    assert unit_b.resolved_percent == 100.0
    # Asked once, no answer: nothing to measure, so no figure (not 0 %).
    assert unit_b.recovered_percent is None


def test_the_same_cases_judged_later_count_the_open_case_due_at_72h_as_missed():
    assert loop_summary(ACTIVITY, CASES, at(72)).closed_within_goal_percent == 40.0


def test_empty_denominators_give_none_not_zero():
    summary = loop_summary([UnitActivity("C", responses=12, needing_recovery=0)], [], NOW)
    assert summary.responses == 12
    assert summary.alerts_by_category == ()
    assert summary.contacted_percent is None
    assert summary.median_hours_to_contact is None
    assert summary.p90_hours_to_contact is None
    assert summary.closed_within_goal_percent is None
    assert summary.resolved_percent is None
    assert summary.recovered_percent is None
    assert [unit.unit for unit in summary.by_unit] == ["C"]


def test_units_with_cases_but_no_responses_still_appear():
    summary = loop_summary([], [case(unit="Z")], NOW)
    assert [(unit.unit, unit.responses, unit.cases) for unit in summary.by_unit] == [("Z", 0, 1)]


def test_contact_before_the_case_opened_counts_as_no_delay():
    summary = loop_summary([], [case(first_contact_at=at(-3))], NOW)
    assert summary.median_hours_to_contact == 0.0


def test_summary_serialises_to_the_contract_shape():
    data = asdict(loop_summary(ACTIVITY, CASES, NOW))
    assert data["alerts_by_category"][0] == {"category": "Install", "count": 3, "percent": 60.0}
    assert data["by_unit"][0]["unit"] == "A"
    assert {"contacted_percent", "median_hours_to_contact", "closed_within_goal_percent"} <= data.keys()


def test_hours_between_statuses_is_the_median_over_cases_that_went_through_both_in_order():
    cases = [
        case(status_times={"Open": at(0), "Pending": at(3)}),
        case(status_times={"Open": at(0), "Pending": at(5)}),
        case(status_times={"Open": at(0)}),
        case(status_times={"Open": at(10), "Pending": at(1)}),
    ]
    assert hours_between_statuses(cases, "Open", "Pending") == 4.0
    assert hours_between_statuses(cases, "Pending", "Closed") is None


def test_retention_per_group():
    customers = [
        (RECOVERED, True),
        (RECOVERED, True),
        (RECOVERED, False),
        (NOT_RECOVERED, True),
        (NOT_RECOVERED, False),
    ]
    assert retention(customers) == {RECOVERED: 66.7, NOT_RECOVERED: 50.0, NEVER_CONTACTED: None}


@pytest.mark.parametrize(
    ("facts", "group"),
    [
        ({}, NEVER_CONTACTED),
        ({"first_contact_at": at(1), "followup_answer": True}, RECOVERED),
        # Closed as resolved but the customer never said so: not recovered, by the one definition.
        ({"first_contact_at": at(1), "resolution": "resolved"}, NOT_RECOVERED),
        ({"first_contact_at": at(1), "resolution": "resolved", "followup_answer": False}, NOT_RECOVERED),
        ({"first_contact_at": at(1), "resolution": "unresolved"}, NOT_RECOVERED),
    ],
)
def test_retention_group_of_a_case(facts, group):
    assert retention_group(case(**facts)) == group


def test_naive_datetimes_and_negative_counts_are_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        CaseFacts(unit="A", category="X", opened_at=datetime(2026, 11, 2, 9, 0))  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        case(status_times={"Open": datetime(2026, 11, 2, 9, 0)})  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        loop_summary([], [], datetime(2026, 11, 2, 9, 0))  # noqa: DTZ001
    with pytest.raises(ValueError, match="negative"):
        UnitActivity("A", responses=-1, needing_recovery=0)


def test_praise_and_watch_alerts_are_counted_apart_from_the_shares_of_what_needs_action():
    activity = [
        UnitActivity("A", responses=10, needing_recovery=2, alert_categories=["Install"], praise_count=3,
                     watch_categories=["Pricing", "Pricing", "Docs"]),
        UnitActivity("B", responses=5, needing_recovery=1, alert_categories=["Billing"], praise_count=1),
    ]  # fmt: skip
    summary = loop_summary(activity, [], NOW)
    assert summary.alerts_by_category == (CategoryShare("Billing", 1, 50.0), CategoryShare("Install", 1, 50.0))
    assert summary.praise_count == 4
    assert summary.watch_by_category == (CategoryShare("Pricing", 2, 66.7), CategoryShare("Docs", 1, 33.3))
    unit_b = summary.by_unit[1]
    assert (unit_b.praise_count, unit_b.watch_by_category) == (1, ())


def test_time_to_first_contact_is_read_against_1_24_and_48_hours():
    cases = [
        case(first_contact_at=at(0.5)),  # within every window
        case(first_contact_at=at(30)),  # within 48 h only
        case(first_contact_at=at(60)),  # within none
        case(),  # never contacted, open 72 h by now: counts against all three
    ]
    contact = contact_times(cases, at(72))
    assert (contact.cases, contact.contacted) == (4, 3)
    assert contact.within_hours == {1: 25.0, 24: 25.0, 48: 50.0}
    assert contact.median_hours == 30.0
    assert contact.p90_hours == 54.0


def test_a_case_too_young_for_a_window_is_not_judged_by_it_yet():
    young = [case(first_contact_at=at(0.5)), case()]  # the second opened 2 hours ago, not called yet
    contact = contact_times(young, at(2))
    # Judged for the first hour (both are older than that); not yet for 24 or 48 hours.
    assert contact.within_hours == {1: 50.0, 24: 100.0, 48: 100.0}
    assert contact_times([], at(2)).within_hours == {1: None, 24: None, 48: None}


def test_contact_times_per_responsible_person():
    cases = [
        case(responsible="erin", first_contact_at=at(2)),
        case(responsible="erin"),
        case(responsible="sam", first_contact_at=at(0.5)),
        case(responsible=None, first_contact_at=at(1)),
    ]
    people = loop_summary([], cases, at(48)).by_person
    assert [(p.person, p.contact.cases, p.contact.within_hours[24]) for p in people] == [
        ("erin", 2, 50.0),
        ("sam", 1, 100.0),
    ]


def test_root_causes_are_counted_over_the_closed_cases_that_have_one():
    cases = [
        case(closed_at=at(5), resolution="resolved", root_cause="Process"),
        case(closed_at=at(6), resolution="unresolved", root_cause="Process"),
        case(closed_at=at(7), resolution="resolved", root_cause="Product"),
        case(closed_at=at(8), resolution="resolved"),
        case(root_cause="Price"),  # still open: its cause is not settled
    ]
    assert loop_summary([], cases, NOW).root_causes == (
        CategoryShare("Process", 2, 66.7),
        CategoryShare("Product", 1, 33.3),
    )


def test_praise_is_counted_apart_from_the_recovery_alerts():
    activity = [UnitActivity("A", 10, 2, alert_categories=["Install", "Install"], praise_categories=["Kudos"])]
    summary = loop_summary(activity, [], NOW)
    assert summary.alerts_by_category == (CategoryShare("Install", 2, 100.0),)
    assert summary.praise_by_category == (CategoryShare("Kudos", 1, 100.0),)


def test_recovered_has_one_definition_everywhere():
    yes = case(first_contact_at=at(1), followup_asked=True, followup_answer=True, resolution="resolved")
    unasked = case(first_contact_at=at(1), closed_at=at(2), resolution="resolved")
    assert is_recovered(yes) and not is_recovered(unasked)
    assert retention_group(yes) == RECOVERED and retention_group(unasked) == NOT_RECOVERED
    assert "follow-up" in RECOVERED_DEFINITION
