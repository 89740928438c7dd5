"""The loop report read from stored day tallies (reports.tallies) equals the report counted from every case's
facts (closeloop.core.metrics, the definition): built, partly stale, and after each kind of change a user,
a survey tool or an operator can make. The database triggers note each change; a change that no trigger
noted would leave a stored day wrong, which these tests would see."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import QuerySet

from closeloop.actions.fix_response import fix_response
from closeloop.alerts.models import Alert
from closeloop.cases.models import Case
from closeloop.cases.services import do_add_note, do_assign, do_change_status, do_reopen
from closeloop.core.metrics import MICROSECONDS_PER_HOUR, LoopSummary, loop_summary
from closeloop.feedback.models import Response
from closeloop.loop.models import FollowUp
from closeloop.org.directory import current_organization
from closeloop.org.models import Organization, Unit
from closeloop.reports.models import TallyChange, TallyDay, UnitDayTally
from closeloop.reports.queries import case_facts, loop_summary_for, needing_recovery_by_week, selected_responses
from closeloop.reports.tallies import (
    basis,
    build_next_days,
    day_hours,
    day_runs,
    hour_days,
    microseconds,
    refresh_tallies,
)
from closeloop.worker.runner import run_due_work
from tests.reports.varied import FIRST, LAST, START, reference_activity
from tests.web.conftest import ingest

NOW = START + timedelta(days=4, hours=5)
LATER = NOW + timedelta(minutes=1, seconds=1)  # past the wait before a day is built again


def build_all(now: datetime = NOW) -> int:
    """Run the builder until no day needs it; returns how many days it built."""
    built = 0
    while done := build_next_days(now):
        built += done
    return built


def reference(now: datetime, unit: Unit | None = None, units: QuerySet[Unit] | None = None) -> LoopSummary:
    responses = selected_responses(FIRST, LAST, unit, units=units)
    return loop_summary(reference_activity(responses), case_facts(responses), now)


def clean_days() -> set[date]:
    runs = day_runs(FIRST, LAST, current_organization().time_zone)
    return {day for first, last, clean in runs if clean for day in _days(first, last)}


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@pytest.mark.parametrize("hours_after", [0, 30, 60, 200])
def test_a_report_from_built_days_is_the_report_from_the_cases(varied: None, hours_after: int) -> None:
    assert build_all() >= 4
    assert not TallyChange.objects.exists()
    assert clean_days() == set(_days(FIRST, LAST))
    now = START + timedelta(days=3, hours=hours_after)
    expected = reference(now)
    assert expected.cases > 25 and expected.by_person
    assert loop_summary_for(FIRST, LAST, now=now) == expected


@pytest.mark.parametrize("window", [1, 24, 48])
def test_stored_days_judge_a_waiting_case_from_the_instant_it_has_waited_the_whole_window(
    varied: None, window: int
) -> None:
    build_all()
    waiting = Case.objects.filter(contacted_at__isnull=True).order_by("opened_at").first()
    assert waiting is not None
    for now in (waiting.opened_at + timedelta(hours=window), waiting.opened_at + timedelta(hours=window, seconds=-1)):
        assert loop_summary_for(FIRST, LAST, now=now) == reference(now)


def test_stored_days_agree_for_a_units_subtree_and_a_visibility_restriction(varied: None) -> None:
    build_all()
    emea = Unit.objects.get(code="EMEA")
    assert loop_summary_for(FIRST, LAST, emea, now=NOW).by_unit == reference(NOW, emea).by_unit
    visible = Unit.objects.filter(code__in=["SUP-UK", "SUP-US"])
    assert loop_summary_for(FIRST, LAST, units=visible, now=NOW) == reference(NOW, units=visible)


def test_the_weekly_chart_reads_the_same_from_stored_and_counted_days(varied: None) -> None:
    counted = needing_recovery_by_week(FIRST, LAST)
    build_all()
    assert needing_recovery_by_week(FIRST, LAST) == counted
    assert sum(n for _, n in counted) == selected_responses(FIRST, LAST).filter(needs_recovery=True).count()


def _first_case(**filters: object) -> Case:
    case = Case.objects.filter(**filters).order_by("id").select_related("response__customer").first()
    assert case is not None
    return case


def _note(at: datetime) -> None:
    case = _first_case(contacted_at__isnull=True)
    do_add_note(case, text="Reached them at last.", spoke_to_customer=True, now=at)


def _assign(at: datetime) -> None:
    # A member, not the lead who answers for an unowned case already: the person figures move.
    case = _first_case(owner__isnull=True, closed_at__isnull=True, members__isnull=False)
    do_assign(case, owner=case.members.order_by("key").first(), now=at)


def _close(at: datetime) -> None:
    case = _first_case(closed_at__isnull=True)
    do_change_status(case, status="Closed", resolution="resolved", now=at)


def _reopen(at: datetime) -> None:
    do_reopen(_first_case(closed_at__isnull=False), now=at)


def _recategorise(at: datetime) -> None:
    # An operator's SQL, not a service: the triggers see it all the same.
    alert = Alert.objects.filter(kind="recovery").order_by("id").first()
    assert alert is not None
    Alert.objects.filter(pk=alert.pk).update(category="Billing")


def _move_unit(at: datetime) -> None:
    response = _first_case(unit__code="SUP-EMEA").response
    fix_response(response, {"unit": "SUP-US"}, now=at)


def _invalidate(at: datetime) -> None:
    response = selected_responses(FIRST, LAST).order_by("id").first()
    assert response is not None
    Response.objects.filter(pk=response.pk).update(status=Response.Status.INVALID)


def _survey_answer(at: datetime) -> None:
    # The customer of a closed case with no answer yet answers the follow-up survey.
    answered = set(FollowUp.objects.values_list("case_id", flat=True))
    case = next(
        case
        for case in Case.objects.filter(closed_at__isnull=False).order_by("id").select_related("response__customer")
        if case.pk not in answered and case.response.customer is not None
    )
    ingest(
        {"resolved": True},
        survey="recovery-check",
        customer={"id": case.response.customer.external_id},
        at=case.closed_at + timedelta(minutes=30),
    )


def _follow_up_answered(at: datetime) -> None:
    follow_up = FollowUp.objects.filter(answer__isnull=True).order_by("id").first()
    assert follow_up is not None
    FollowUp.objects.filter(pk=follow_up.pk).update(answer=True, answered_at=at)


CHANGES: dict[str, Callable[[datetime], None]] = {
    "first contact": _note,
    "owner assigned": _assign,
    "closed": _close,
    "reopened": _reopen,
    "alert recategorised": _recategorise,
    "response moved to another unit": _move_unit,
    "response quarantined": _invalidate,
    "follow-up survey answered": _survey_answer,
    "sent follow-up answered": _follow_up_answered,
}


@pytest.mark.parametrize("change", CHANGES)
def test_after_a_change_the_report_is_right_before_and_after_the_worker_builds_again(varied: None, change: str) -> None:
    build_all()
    before = loop_summary_for(FIRST, LAST, now=NOW)
    CHANGES[change](NOW)
    assert TallyChange.objects.exists()
    assert clean_days() != set(_days(FIRST, LAST))  # the changed day is counted from the cases
    expected = reference(NOW)
    assert expected != before  # the change moved a figure
    assert loop_summary_for(FIRST, LAST, now=NOW) == expected
    assert build_all(LATER) >= 1
    assert not TallyChange.objects.exists()
    assert loop_summary_for(FIRST, LAST, now=NOW) == expected


def test_a_change_no_trigger_noted_would_show_so_the_tests_can_fail(varied: None) -> None:
    build_all()
    _close(NOW)
    TallyChange.objects.all().delete()
    assert loop_summary_for(FIRST, LAST, now=NOW) != reference(NOW)


@pytest.mark.parametrize("change", ["time zone", "follow-up survey"])
def test_a_new_basis_counts_every_day_from_the_cases_until_built_on_it(varied: None, change: str) -> None:
    build_all()
    organization = Organization.objects.get()
    if change == "time zone":
        organization.time_zone = "Asia/Kolkata"
    else:
        organization.follow_up_survey = ""
    organization.save()
    assert not TallyDay.objects.filter(basis=basis()).exists()
    expected = reference(NOW)
    assert loop_summary_for(FIRST, LAST, now=NOW) == expected
    assert build_all(LATER) >= 4
    assert set(TallyDay.objects.values_list("basis", flat=True)) == {basis()}
    assert loop_summary_for(FIRST, LAST, now=NOW) == expected


def test_the_worker_builds_the_tallies_and_the_report_then_reads_few_queries(
    varied: None, django_assert_max_num_queries
) -> None:
    assert TallyChange.objects.exists()
    assert run_due_work(NOW)["tallies"] >= 4
    assert not TallyChange.objects.exists()
    assert UnitDayTally.objects.filter(day__gte=FIRST, day__lte=LAST).count() >= 4
    # The configuration stamp and the directory, built days, changed hours, one read of the stored rows:
    # however many days and cases.
    with django_assert_max_num_queries(6):
        loop_summary_for(FIRST, LAST, now=NOW)


def test_a_report_counted_from_the_cases_reads_a_fixed_number_of_queries(
    varied: None, django_assert_max_num_queries
) -> None:
    # Nothing built: the stamp and directory, built days and changed hours, responses and alerts per unit, one
    # narrow row per case, follow-ups: no query per case or per day.
    with django_assert_max_num_queries(15):
        loop_summary_for(FIRST, LAST, now=NOW)


def test_one_change_leaves_the_other_days_stored(varied: None) -> None:
    build_all()
    case = _first_case(contacted_at__isnull=True)
    do_add_note(case, text="Called.", spoke_to_customer=True, now=NOW)
    day = case.response.submitted_at.astimezone(ZoneInfo(current_organization().time_zone)).date()
    assert clean_days() == set(_days(FIRST, LAST)) - {day}
    # A day built a moment ago waits a minute before it is built again: today changes all day long.
    assert build_all(NOW + timedelta(seconds=59)) == 0
    assert build_all(LATER) == 1


def test_the_step_stops_when_its_time_is_up(varied: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from closeloop.reports import tallies

    monkeypatch.setattr(tallies, "STEP_SECONDS", 0)
    assert refresh_tallies(NOW) == 0
    monkeypatch.setattr(tallies, "STEP_SECONDS", 60)
    assert refresh_tallies(NOW) >= 4


def test_having_found_nothing_the_step_looks_again_only_after_a_while(varied: None, django_assert_num_queries) -> None:
    build_all()
    assert refresh_tallies(NOW) == 0
    _close(NOW)  # today's figures change: a day built a moment ago, so not built again yet anyway
    _note(LATER)
    # Within CHECK_EVERY of finding nothing, the step does not even look: the worker runs it on every wake.
    with django_assert_num_queries(0):
        assert refresh_tallies(NOW + timedelta(seconds=4)) == 0
    assert refresh_tallies(LATER) >= 1


def test_an_hour_overlaps_one_local_day_or_two_where_the_offset_is_not_whole_hours() -> None:
    midnight = microseconds(datetime(2026, 11, 16, tzinfo=UTC)) // MICROSECONDS_PER_HOUR
    assert hour_days(midnight, "UTC") == {date(2026, 11, 16)}
    assert hour_days(midnight - 1, "UTC") == {date(2026, 11, 15)}
    # Kolkata is UTC+5:30: 18:00-19:00 UTC is 23:30-00:30 there.
    assert hour_days(midnight + 18, "Asia/Kolkata") == {date(2026, 11, 16), date(2026, 11, 17)}
    assert hour_days(midnight + 19, "Asia/Kolkata") == {date(2026, 11, 17)}
    # Kolkata's 16 November runs from 18:30 UTC on the 15th to 18:30 UTC on the 16th.
    assert day_hours(date(2026, 11, 16), date(2026, 11, 16), "Asia/Kolkata") == (midnight - 6, midnight + 18)
    # London's spring-forward day has 23 hours.
    first, last = day_hours(date(2026, 3, 29), date(2026, 3, 29), "Europe/London")
    assert last - first + 1 == 23


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_workers_building_at_once_build_each_day_once_and_lose_no_change(acme: None) -> None:
    from tests.helpers import race

    for n in range(12):
        ingest(at=START + timedelta(hours=n * 7))

    def survey_tool(first: int) -> None:
        # Responses landing on the days being built, while they are built.
        for n in range(first, first + 6):
            ingest(at=START + timedelta(hours=n * 7 + 3))
            refresh_tallies(NOW + timedelta(minutes=2 * n))

    errors = race(
        [lambda: refresh_tallies(NOW), lambda: refresh_tallies(NOW), lambda: survey_tool(0), lambda: survey_tool(6)]
    )
    assert errors == []
    build_all(NOW + timedelta(hours=1))
    assert not TallyChange.objects.exists()
    responses = selected_responses(FIRST, LAST)
    assert loop_summary_for(FIRST, LAST, now=NOW) == loop_summary(
        reference_activity(responses), case_facts(responses), NOW
    )


@pytest.mark.django_db(transaction=True)
def test_the_migration_notes_every_hour_of_the_responses_stored_before_it(acme: None) -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    for n in range(6):
        ingest(at=START + timedelta(hours=n * 9))
    executor = MigrationExecutor(connection)
    executor.migrate([("reports", "0005_report_tallies")])  # no triggers yet, and no change rows
    TallyChange.objects.all().delete()
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    hours = {
        microseconds(at) // MICROSECONDS_PER_HOUR for at in Response.objects.values_list("submitted_at", flat=True)
    }
    assert set(TallyChange.objects.values_list("hour", flat=True)) == hours
    assert build_all() >= 3
    responses = selected_responses(FIRST, LAST)
    assert loop_summary_for(FIRST, LAST, now=NOW) == loop_summary(
        reference_activity(responses), case_facts(responses), NOW
    )
    # And the triggers are back: a change is noted again.
    _close(NOW)
    assert TallyChange.objects.exists()
