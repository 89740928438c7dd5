"""The weekly programme summary: on its weekday at its local time, one email per owner with last week's loop
figures (the loop report's own), the open overdue cases, the complaint themes and a link to the report."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import time_machine
import yaml
from django.core.management import call_command

from closeloop.cases.models import Case
from closeloop.cases.services import do_add_note, do_change_status
from closeloop.config.apply import apply_config
from closeloop.notify.models import Delivery
from closeloop.org.models import Unit
from closeloop.reports.models import SummaryRun, SummarySchedule
from closeloop.reports.queries import case_tally_for, loop_summary_for
from closeloop.reports.summaries import NO_MODEL_LINE, build_summary, run_due_summaries, run_schedule
from closeloop.reports.themes import report_themes
from tests import factories
from tests.helpers import race
from tests.notify.conftest import SmtpSink
from tests.reports.conftest import tick
from tests.textmodel.data import rows
from tests.web.conftest import login_as

pytestmark = pytest.mark.django_db

ACME = Path(__file__).parents[1] / "fixtures" / "acme.yaml"
# Acme's root is in New York (EST in November). 23 Nov 2026 is a Monday: 08:00 there is 13:00Z.
MON_23 = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
MON_30 = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
WEEK = (date(2026, 11, 16), date(2026, 11, 22))


def configure(**fields: Any) -> None:
    """Acme with a Monday 08:00 summary of the whole tree to its lead (Cora) and Rita."""
    data = yaml.safe_load(ACME.read_text())
    summary = {"key": "weekly-programme", "units": ["ACME"], "at": "08:00", "to": ["unit_leads", {"person": "rita"}]}
    data["summaries"] = [{**summary, **fields}]
    apply_config(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture
def running() -> None:
    """Configured the Wednesday before: the first summary goes out on Monday the 23rd."""
    configure()
    tick(datetime(2026, 11, 18, 15, 0, tzinfo=UTC))
    assert SummarySchedule.objects.get().next_run_at == MON_23


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def response(when: datetime, ease: int = 3, comment: str = "", **fields: Any):
    answers: dict[str, Any] = {"ease": ease, "completed": True}
    if comment:
        answers["comment"] = comment
    return factories.ingest(answers, at=when, prefix="wk", **fields)


def subject(message: EmailMessage) -> str:
    # A subject with non-ASCII characters (the dash) arrives folded as encoded words: a leading space.
    return str(message["Subject"]).strip()


def summary_emails(sink: SmtpSink) -> list[EmailMessage]:
    return [m for m in sink.messages if subject(m).startswith("Weekly summary")]


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


@pytest.fixture
def week_of_feedback(running: None) -> dict[str, Any]:
    """Last week in Acme: four unhappy customers and a happy one across units, one case contacted and closed
    resolved, the customer saying so in the follow-up; one case open past its goal. And the week before: one."""
    response(at(10, 15))  # the week before
    first = response(at(16, 14), unit="SUP-US")
    response(at(17, 14), unit="SUP-EMEA")
    response(at(18, 14), unit="SUP-UK")
    response(at(19, 14), unit="SUP-US")
    response(at(20, 14), ease=10, unit="SUP-US")  # praise
    response(at(23, 4), unit="SUP-US")  # Sunday 23:00 in New York: still last week
    case = Case.objects.get(response=first)
    do_add_note(case, text="Called, sorted it.", spoke_to_customer=True, now=case.opened_at + timedelta(hours=2))
    do_change_status(case, status="Closed", resolution="resolved", now=case.opened_at + timedelta(hours=3))
    factories.ingest(
        {"resolved": True},
        survey="recovery-check",
        customer={"id": first.customer.external_id},
        at=case.opened_at + timedelta(hours=30),
        prefix="wk",
    )
    return {"first": first}


def test_on_monday_morning_the_owners_get_last_weeks_loop_for_the_whole_tree(week_of_feedback, smtp):
    tick(at(23, 12, 59))
    assert summary_emails(smtp) == []
    tick(MON_23)

    run = SummaryRun.objects.get()
    assert (run.run_at, run.date_from, run.date_to, run.unit.code) == (MON_23, *WEEK, "ACME")
    assert run.responses == 7 and run.recipients == 2  # the follow-up answer is a response too
    assert SummarySchedule.objects.get().next_run_at == MON_30

    emails = summary_emails(smtp)
    assert sorted(str(m["To"]) for m in emails) == ["cora@acme.example", "rita@acme.example"]
    cora = next(m for m in emails if str(m["To"]) == "cora@acme.example")
    assert subject(cora) == "Weekly summary: Acme, Mon 16 Nov – Sun 22 Nov 2026: 7 responses, 5 unhappy"
    text = text_of(cora)
    assert text.startswith("Hello Cora Chief,")
    assert "- Responses: 7 (week before: 1)" in text
    assert "- Unhappy (needing recovery): 5 (week before: 1)" in text
    assert "- Cases closed: 1 (week before: 0)" in text
    assert "- Recovered (said so in the follow-up): 1 of 1 answered (100 %) (week before: –)" in text
    assert "- Praise alerts: 1 (week before: 0)" in text
    assert "- Median time to first contact: 2 h (week before: –)" in text
    # Gold customers' cases are due within 24 h: by Monday morning those of the week still open are overdue.
    overdue = Case.objects.filter(state=Case.State.OPEN, due_at__lt=MON_23).count()
    assert overdue >= 3
    assert (
        f"Open cases past their closure goal now: {overdue} (http://127.0.0.1:8000/cases/?flag=overdue&unit=ACME)"
        in text
    )
    link = "http://127.0.0.1:8000/reports/?date_from=2026-11-16&date_to=2026-11-22&unit=ACME"
    assert f"The full report for the week: {link}" in text
    html = html_of(cora)
    assert f'<a href="{link.replace("&", "&amp;")}">' in html and "<strong>Acme (ACME)</strong>" in html
    assert Delivery.objects.filter(topic="summary", status="sent").count() == 2


def test_the_email_says_what_the_loop_report_says_for_that_week_and_unit(week_of_feedback):
    unit = Unit.objects.get(code="ACME")
    content = build_summary(SummarySchedule.objects.get().summary, unit, "America/New_York", MON_23)
    assert content.current.summary == loop_summary_for(*WEEK, unit, now=MON_23)
    assert content.previous.summary == loop_summary_for(date(2026, 11, 9), date(2026, 11, 15), unit, now=MON_23)
    assert content.current.tally == case_tally_for(*WEEK, unit, now=MON_23)
    assert content.current.tally.closed == 1
    # The page the email links to, read at the run's instant, shows the same figures.
    with time_machine.travel(MON_23, tick=False):
        page = login_as("admin").get(content.reports_url.removeprefix("http://127.0.0.1:8000")).content.decode()
    counters = {
        label: value
        for value, label in re.findall(
            r'<span class="counter-value">([^<]*)</span><span class="counter-label">([^<]*)</span>', page
        )
    }
    lines = {line.label: line.current for line in content.lines}
    assert counters["Responses"] == lines["Responses"] == "7"
    assert counters["Needing recovery"] == lines["Unhappy (needing recovery)"] == "5"
    assert counters["Median hours to contact"] + " h" == lines["Median time to first contact"]
    assert counters["Closed within goal"] == lines["Closed within goal"]
    assert counters["Recovered (follow-up)"] in lines["Recovered (said so in the follow-up)"]


def test_a_unit_below_the_root_reports_its_own_subtree_only(running, smtp):
    configure(units=["AMER"], to=["unit_leads", {"person": "ursula"}])
    response(at(17, 14), unit="SUP-EMEA")
    response(at(18, 14), unit="SUP-US")
    tick(MON_23)
    run = SummaryRun.objects.get()
    assert (run.unit.code, run.responses) == ("AMER", 1)
    # AMER has no lead of its own: unit_leads finds the nearest one up the tree, as alerts do.
    assert {str(m["To"]) for m in summary_emails(smtp)} >= {"ursula@acme.example"}
    assert all("- Responses: 1 (week before: 0)" in text_of(m) for m in summary_emails(smtp))


def test_ticking_twice_at_the_same_instant_sends_one_summary(week_of_feedback, smtp):
    tick(MON_23)
    tick(MON_23)
    tick(MON_23 + timedelta(hours=1))
    assert SummaryRun.objects.count() == 1
    assert len(summary_emails(smtp)) == 2


def test_a_worker_that_lost_the_claim_runs_nothing(week_of_feedback):
    run_due_summaries(MON_23 - timedelta(minutes=1))  # synced, nothing due yet
    schedule = SummarySchedule.objects.get()
    assert run_schedule(schedule.pk, MON_23) is not None
    # A second worker that read the same due row a moment ago finds it moved on.
    assert run_schedule(schedule.pk, MON_23) is None
    assert SummaryRun.objects.count() == 1
    assert Delivery.objects.filter(topic="summary").count() == 2


def test_closeloop_tick_runs_the_summary(week_of_feedback, smtp, capsys):
    call_command("tick", at="2026-11-23T13:00:00Z")
    assert "summaries: 1" in capsys.readouterr().out
    assert len(summary_emails(smtp)) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_a_tick_beside_three_workers_at_the_summary_time_produces_one_summary(attempt):
    configure()
    run_due_summaries(at(18, 15))
    response(at(17, 14), unit="SUP-US")
    # `closeloop tick --at` (every step, until nothing is due) beside the workers' summary step.
    errors = race([lambda: tick(MON_23), *[lambda: run_due_summaries(MON_23) for _ in range(3)]])
    assert errors == []
    assert SummaryRun.objects.count() == 1
    assert Delivery.objects.filter(topic="summary").count() == 2
    assert SummarySchedule.objects.get().next_run_at == MON_30


def test_a_worker_that_was_down_catches_up_one_summary_per_week(running, smtp):
    response(at(17, 14), unit="SUP-US")
    response(at(24, 14), unit="SUP-US")
    response(at(25, 14), unit="SUP-US")
    tick(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    runs = {run.run_at: run.responses for run in SummaryRun.objects.all()}
    assert runs == {MON_23: 1, MON_30: 2}


def test_the_week_follows_local_days_across_the_autumn_clock_change():
    """New York's clocks go back on Sunday 1 Nov 2026: the week of 26 Oct has 169 hours."""
    configure(units=["AMER"])
    run_due_summaries(datetime(2026, 10, 21, 15, 0, tzinfo=UTC))
    assert SummarySchedule.objects.get().next_run_at == datetime(2026, 10, 26, 12, 0, tzinfo=UTC)  # 08:00 EDT
    run_due_summaries(datetime(2026, 10, 26, 12, 0, tzinfo=UTC))
    response(datetime(2026, 10, 26, 3, 30, tzinfo=UTC), unit="SUP-US")  # Sun 25 Oct 23:30 EDT: the week before
    response(datetime(2026, 10, 26, 4, 30, tzinfo=UTC), unit="SUP-US")  # Mon 26 Oct 00:30 EDT
    response(datetime(2026, 11, 2, 4, 30, tzinfo=UTC), unit="SUP-US")  # Sun 1 Nov 23:30 EST
    response(datetime(2026, 11, 2, 5, 30, tzinfo=UTC), unit="SUP-US")  # Mon 2 Nov 00:30 EST: next week
    monday = datetime(2026, 11, 2, 13, 0, tzinfo=UTC)  # 08:00 EST
    assert SummarySchedule.objects.get().next_run_at == monday
    run_due_summaries(monday)
    run = SummaryRun.objects.get(run_at=monday)
    assert (run.date_from, run.date_to, run.responses) == (date(2026, 10, 26), date(2026, 11, 1), 2)
    content = build_summary(run.summary, run.unit, "America/New_York", monday)
    assert content.previous.summary.responses == 1
    assert SummarySchedule.objects.get().next_run_at == datetime(2026, 11, 9, 13, 0, tzinfo=UTC)


def test_a_changed_weekday_reschedules_the_summary(running):
    configure(day="friday", at="17:30")
    tick(at(18, 16))
    assert SummarySchedule.objects.get().next_run_at == at(20, 22, 30)  # Friday 17:30 EST


def test_a_week_without_responses_still_sends_and_says_so(running, smtp):
    tick(MON_23)
    [cora] = [m for m in summary_emails(smtp) if str(m["To"]) == "cora@acme.example"]
    assert subject(cora).endswith(": no responses")
    text = text_of(cora)
    assert "No responses came in last week." in text
    assert "- Responses: 0 (week before: 0)" in text
    assert "- Cases closed: 0 (week before: 0)" in text
    assert "No complaint themes: no responses last week." in text or NO_MODEL_LINE in text
    assert SummaryRun.objects.get().responses == 0


def test_a_person_without_email_is_kept_as_skipped(running, smtp):
    data = yaml.safe_load(ACME.read_text())
    for person in data["people"]:
        if person["id"] == "rita":
            person["email"] = ""
    data["summaries"] = [
        {"key": "weekly-programme", "units": ["ACME"], "at": "08:00", "to": ["unit_leads", {"person": "rita"}]}
    ]
    apply_config(yaml.safe_dump(data, sort_keys=False))
    tick(MON_23)
    skipped = Delivery.objects.get(topic="summary", person__key="rita")
    assert (skipped.status, skipped.last_error) == ("skipped", "no email address")
    assert [str(m["To"]) for m in summary_emails(smtp)] == ["cora@acme.example"]


def test_without_the_text_model_the_themes_part_is_one_line(running, smtp, without_text_model):
    response(at(17, 14), comment="I was charged twice for the same order.", unit="SUP-US")
    response(at(18, 14), comment="Charged twice again this month.", unit="SUP-US")
    tick(MON_23)
    text = text_of(summary_emails(smtp)[0])
    assert NO_MODEL_LINE in text
    assert "charged twice" not in text.lower().split(NO_MODEL_LINE.lower())[1]


def test_themes_zero_leaves_the_themes_out(running, smtp):
    configure(themes=0)
    response(at(17, 14), comment="The engineer never came.", unit="SUP-US")
    tick(MON_23)
    text = text_of(summary_emails(smtp)[0])
    assert "What customers complained about" not in text and NO_MODEL_LINE not in text


def test_the_top_themes_of_the_week_are_listed_with_trend_units_and_linked_quotes(running, smtp, text_model):
    configure(themes=3)
    # The hand-written theme set, as the demo's month of complaints: four themes in four languages.
    for n, (_, text) in enumerate(rows("themes.tsv")):
        response(at(16 + n % 7, 14), comment=text, unit=["SUP-US", "SUP-EMEA"][n % 2])
    for day in (10, 11, 12, 13):
        response(at(day, 14), ease=9, unit="SUP-US")
    response(at(12, 15), comment="The bar under our room played music until 3 am.", unit="SUP-US")
    tick(MON_23)

    unit = Unit.objects.get(code="ACME")
    expected = report_themes(*WEEK, unit).report.themes[:3]
    assert len(expected) == 3
    cora = next(m for m in summary_emails(smtp) if str(m["To"]) == "cora@acme.example")
    html = html_of(cora)
    assert re.findall(r'<li data-theme="([^"]+)"', html) == [theme.label for theme in expected]
    assert re.search(r'<a href="http://127\.0\.0\.1:8000/responses/\d+">“', html)
    text = text_of(cora)
    first = expected[0]
    assert f"1. {first.label}: {first.count} complaints" in text
    assert ", new (none the week before)" in text
    assert re.search(r"   Units: SUP-(US|EMEA) \(\d+\)", text)
    quotes = re.findall(r'   "(.+)" (http://127\.0\.0\.1:8000/responses/(\d+))', text)
    assert 3 <= len(quotes) <= 6
    for _, _, pk in quotes:
        assert int(pk) in {r for theme in expected for r in theme.responses}
