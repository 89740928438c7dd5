"""The work of the people on the cases, in a real Chromium at a desktop's and a 390 × 844 phone's size: the
case list and its bulk actions, rows that say what is wrong, closing out, moving a response, the timeline,
settings (and `config export` showing them), the reports and the outbox. Every page is checked for
horizontal overflow and, by the `open_page` fixture, for console errors.

Run with CLOSELOOP_TEST_BROWSER=1.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone

from closeloop.cases.models import Case, CaseEvent
from closeloop.cases.services import do_add_note
from closeloop.org.models import Person
from tests.web.conftest import ingest, login_as, sign_in
from tests.web.test_phone import OVERFLOW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def no_overflow(page: Any, name: str) -> None:
    found = page.evaluate(OVERFLOW)
    width = page.viewport_size["width"]
    problems = [f"{name}: {offender}" for offender in found["offenders"][:10]]
    if found["scrollWidth"] > width:
        problems.insert(0, f"{name}: the page is {found['scrollWidth']} px wide at {width} px")
    assert problems == [], "\n".join(problems)


@pytest.fixture(params=list(SIZES))
def size(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def worked(acme: None) -> dict[str, Case]:
    """Three open cases in SUP-EMEA: one overdue, one with a customer talking about a refund, one fresh."""
    now = timezone.now()
    cases = {
        "overdue": Case.objects.get(response=ingest(at=now - timedelta(days=3), name="Olive Overdue")),
        "churn": Case.objects.get(
            response=ingest(
                {"ease": 8, "completed": True, "comment": "Works now, but I want a refund for the lost day."},
                at=now - timedelta(hours=2),
                name="Chris Churn",
            )
        ),
        "fresh": Case.objects.get(response=ingest(at=now - timedelta(hours=1), name="Fred Fresh")),
    }
    login_as("erin")
    login_as("admin")
    return cases


def test_the_case_list_filters_in_the_address_and_assigns_in_bulk(
    open_page: Callable[..., Any], live_server: Any, worked: dict[str, Case], size: str
) -> None:
    from playwright.sync_api import expect

    page = open_page(viewport=SIZES[size])
    sign_in(page, live_server.url, "erin")
    page.get_by_role("link", name="Cases", exact=True).click()
    expect(page.get_by_role("heading", name="Cases", level=1)).to_be_visible()
    expect(page.locator(".case-count")).to_contain_text("3 cases match")
    no_overflow(page, f"case list ({size})")

    page.get_by_label("Search").fill("refund")
    page.get_by_role("button", name="Show cases").click()
    expect(page).to_have_url(re.compile(r"/cases/\?q=refund"))
    expect(page.locator("tr[data-case]")).to_have_count(1)
    expect(page.locator("tr[data-case]")).to_contain_text("Chris Churn")

    page.goto(f"{live_server.url}/cases/")
    # Folded on a phone, open on a desktop.
    more = page.locator("details.more-filters")
    if size == "desktop":
        expect(more).to_have_attribute("open", "")
    else:
        expect(more).not_to_have_attribute("open", "")
        more.locator("summary").click()
    page.get_by_label("Overdue", exact=True).check()
    page.get_by_role("button", name="Show cases").click()
    expect(page).to_have_url(re.compile(r"flag=overdue"))
    expect(page.locator("tr[data-case]")).to_have_count(1)
    # The address is the view: opening it again shows the same.
    page.goto(page.url)
    expect(more).to_have_attribute("open", "")
    expect(page.get_by_label("Overdue", exact=True)).to_be_checked()

    page.goto(f"{live_server.url}/cases/")
    page.get_by_label(f"Select case #{worked['overdue'].pk}").check()
    page.get_by_label(f"Select case #{worked['fresh'].pk}").check()
    page.get_by_text("Assign or close the ticked cases").click()
    page.get_by_label("Assign to").select_option("dave")
    page.get_by_role("button", name="Assign the ticked cases").click()
    expect(page.get_by_text("Assigned 2 cases to Dave Agent.")).to_be_visible()
    for name in ("overdue", "fresh"):
        assert CaseEvent.objects.filter(case=worked[name], type="assigned", data__owner="dave").count() == 1
    assert Case.objects.get(pk=worked["churn"].pk).owner is None
    no_overflow(page, f"case list after a bulk action ({size})")


def test_the_monitor_counters_open_the_case_list(
    open_page: Callable[..., Any], live_server: Any, worked: dict[str, Case], size: str
) -> None:
    from playwright.sync_api import expect

    page = open_page(viewport=SIZES[size])
    sign_in(page, live_server.url, "erin")
    page.locator(".counter-overdue a").click()
    expect(page).to_have_url(re.compile(r"/cases/\?flag=overdue"))
    expect(page.locator("tr[data-case]")).to_have_count(1)
    expect(page.locator("tr[data-case]")).to_contain_text("Olive Overdue")


def test_rows_say_what_is_wrong(
    open_page: Callable[..., Any], live_server: Any, worked: dict[str, Case], size: str
) -> None:
    from playwright.sync_api import expect

    page = open_page(viewport=SIZES[size])
    sign_in(page, live_server.url, "erin")
    row = page.locator(f'tr[data-case="{worked["churn"].pk}"]')
    expect(row).to_contain_text("At-risk customer")  # the alert's category, not the template's
    expect(row).to_contain_text("urgent")
    expect(row).to_contain_text("“Works now, but I want a refund for the lost day.”")
    expect(row).to_contain_text("Not viewed yet")
    expect(row.locator('td[data-label="Age"]')).to_have_text(re.compile(r"\d+ (min|h)"))
    no_overflow(page, f"monitor ({size})")

    page.goto(f"{live_server.url}/responses/")
    flagged = page.locator("tr").filter(has_text="Chris Churn")
    expect(flagged.locator(".score")).to_have_class(re.compile(r"score-mid"))
    expect(flagged).to_contain_text("Flagged: At-risk customer")
    page.goto(f"{live_server.url}/alerts/")
    alert = page.locator("tr").filter(has_text="Olive Overdue")
    expect(alert.locator('td[data-label="Case"]')).to_contain_text(f"#{worked['overdue'].pk}")
    expect(alert.locator('td[data-label="Contacted"]')).to_have_text("Not yet")
    no_overflow(page, f"alerts ({size})")


def test_closing_out_asks_why_and_the_corrected_form_lands_on_the_case(
    open_page: Callable[..., Any], live_server: Any, worked: dict[str, Case], size: str
) -> None:
    from playwright.sync_api import expect

    case = worked["overdue"]
    case_url = f"{live_server.url}/cases/{case.pk}"
    page = open_page(viewport=SIZES[size], expected_errors=(r"status of 422",))
    sign_in(page, live_server.url, "erin")
    page.goto(case_url)
    page.get_by_text("Change status or close").click()
    page.get_by_label("Status").select_option("Closed")
    page.get_by_label("Resolution (when closing)").select_option("unresolved")
    page.get_by_label("Action taken (when closing)").fill("Offered a credit; she still wants to cancel.")
    page.get_by_label("Spoke to customer? (when closing)").check()
    page.get_by_role("button", name="Save status").click()
    root_cause = page.get_by_label("Root cause (when closing)")
    expect(page.locator("#id_root_cause_error")).to_contain_text("closing a case needs a root cause")
    expect(root_cause).to_be_focused()
    expect(page.get_by_label("Action taken (when closing)")).to_have_value(
        "Offered a credit; she still wants to cancel."
    )
    no_overflow(page, f"close form with an error ({size})")
    root_cause.select_option("Price")
    page.get_by_role("button", name="Save status").click()
    expect(page).to_have_url(case_url)
    expect(page.locator(".case-panel .badge-unresolved")).to_have_text("Closed: unresolved")
    closed = page.locator(".timeline .event-closed")
    expect(closed).to_contain_text("root cause: Price")
    expect(closed).to_have_class(re.compile(r"event-bad"))
    expect(closed.locator(":scope > svg use")).to_have_attribute("href", re.compile(r"#i-cross$"))
    case.refresh_from_db()
    assert (case.root_cause, case.resolution, case.contacted_at is not None) == ("Price", "unresolved", True)


def test_an_admin_moves_a_response_and_its_case_follows(
    open_page: Callable[..., Any], live_server: Any, worked: dict[str, Case], size: str
) -> None:
    from playwright.sync_api import expect

    case = worked["fresh"]
    page = open_page(viewport=SIZES[size])
    sign_in(page, live_server.url, "admin")
    page.goto(f"{live_server.url}/responses/{case.response_id}")
    page.get_by_label("Move to unit").select_option("SUP-UK")
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.get_by_text(f"case #{case.pk} moved with it")).to_be_visible()
    no_overflow(page, f"moved response ({size})")
    page.goto(f"{live_server.url}/cases/{case.pk}")
    expect(page.locator(".timeline .event-moved")).to_contain_text("Moved from SUP-EMEA to SUP-UK")
    assert Case.objects.get(pk=case.pk).unit.code == "SUP-UK"


def test_the_timeline_folds_each_round_of_emails(
    open_page: Callable[..., Any], live_server: Any, worked: dict[str, Case], size: str
) -> None:
    from playwright.sync_api import expect

    case = worked["overdue"]
    do_add_note(case, text="Left a voicemail.", actor=Person.objects.get(key="dave"), now=timezone.now())
    page = open_page(viewport=SIZES[size])
    sign_in(page, live_server.url, "erin")
    page.goto(f"{live_server.url}/cases/{case.pk}")
    note = page.locator(".timeline .event-note")
    rounds = note.locator("details.event-round")
    expect(rounds).to_have_count(1)
    expect(rounds.locator("li").first).to_be_hidden()
    rounds.locator("summary").click()
    expect(rounds.locator("li")).to_have_text(["Erin Diaz", "Rita Region"])
    expect(page.locator(".timeline")).not_to_contain_text("not in the team")
    no_overflow(page, f"timeline ({size})")


def test_a_settings_change_is_validated_logged_and_exported(
    open_page: Callable[..., Any], live_server: Any, worked: dict[str, Case], size: str
) -> None:
    from playwright.sync_api import expect

    page = open_page(viewport=SIZES[size], expected_errors=(r"status of 422",))
    sign_in(page, live_server.url, "admin")
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    no_overflow(page, f"settings ({size})")
    page.get_by_role("link", name="Digests").click()
    page.get_by_label("daily-recovery: alert time").fill("07:45")
    page.get_by_label("daily-recovery: send the SMS at weekends").check()
    page.get_by_role("button", name="Save digests").click()
    expect(page.get_by_text("Digests saved")).to_be_visible()
    no_overflow(page, f"digest settings ({size})")

    out = io.StringIO()
    call_command("config", "export", stdout=out)
    digest = yaml.safe_load(out.getvalue())["digests"][0]
    assert (digest["at"], digest["weekend_sms"]) == ("07:45", True)

    page.goto(f"{live_server.url}/settings/people/dave")
    page.get_by_label("Phone").fill("+15555550177")
    page.get_by_label("Unit, row 2").select_option("SUP-UK")
    page.get_by_label("Role, row 2").select_option("member")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Dave Agent saved")).to_be_visible()
    no_overflow(page, f"person settings ({size})")
    assert Person.objects.get(key="dave").phone == "+15555550177"
    page.goto(f"{live_server.url}/settings/")
    expect(page.locator(".change-log")).to_contain_text("Changed Dave Agent (dave)")
    expect(page.locator(".change-log")).to_contain_text("Digest times and weekend SMS")
    page.goto(f"{live_server.url}/settings/rules/churn-words")
    conditions = page.get_by_label("Conditions")
    expect(conditions).to_have_value(re.compile(r"keywords:"))
    # The configuration's own check, next to its field.
    conditions.fill("all:\n  - {question: nope, equals: 1}")
    page.get_by_role("button", name="Save rule").click()
    expect(page.locator("#id_when_error")).to_contain_text("unknown question")
    no_overflow(page, f"rule settings with an error ({size})")
    conditions.fill("keywords: [refund, cancel, lawyer]")
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text("Rule Talks about leaving saved")).to_be_visible()
    out = io.StringIO()
    call_command("config", "export", stdout=out)
    rule = next(r for r in yaml.safe_load(out.getvalue())["rules"] if r["key"] == "churn-words")
    assert rule["when"] == {"keywords": ["refund", "cancel", "lawyer"]}


def test_the_reports_say_what_they_measure(
    open_page: Callable[..., Any], live_server: Any, worked: dict[str, Case], size: str
) -> None:
    from playwright.sync_api import expect

    page = open_page(viewport=SIZES[size])
    sign_in(page, live_server.url, "erin")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Recovery alerts by category")).to_be_visible()
    expect(page.get_by_role("heading", name="Time to first contact")).to_be_visible()
    expect(page.locator("#recovered-definition")).to_contain_text("Recovered: the customer answered yes")
    expect(page.locator("#timezone-note")).to_have_text(
        "Times are shown in America/New_York, the organisation's time zone."
    )
    no_overflow(page, f"reports ({size})")
    page.get_by_text("Service Recovery Report (PDF)").click()
    pdf_form = page.locator('form[action="/reports/service-recovery.pdf"]')
    expect(pdf_form.get_by_role("button", name="Open the PDF")).to_be_visible()
    pdf_form.get_by_label("Unit").select_option("SUP-EMEA")
    # What the button opens (a browser shows or downloads it): the form's own query, fetched with this session.
    query = pdf_form.evaluate("form => new URLSearchParams(new FormData(form)).toString()")
    assert re.fullmatch(r"unit=SUP-EMEA&date=\d{4}-\d{2}-\d{2}", query)
    pdf = page.request.get(f"{live_server.url}/reports/service-recovery.pdf?{query}")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"


def test_the_outbox_says_it_keeps_messages_and_shows_them(
    open_page: Callable[..., Any], live_server: Any, worked: dict[str, Case], size: str
) -> None:
    from playwright.sync_api import expect

    from closeloop.worker.runner import run_due_work

    run_due_work(timezone.now())
    page = open_page(viewport=SIZES[size])
    sign_in(page, live_server.url, "admin")
    page.goto(f"{live_server.url}/outbox/")
    expect(page.locator(".outbox-notice")).to_contain_text("emails are kept here, not sent")
    first = page.locator("tr[data-delivery]").filter(has=page.locator(".delivery-status-kept")).first
    expect(first.locator(".delivery-status")).to_have_text("Kept here, not sent")
    first.get_by_text("Show the message").click()
    expect(first.locator("pre")).to_be_visible()
    expect(first.locator("pre")).to_contain_text(re.compile(r"https?://\S+/"))
    no_overflow(page, f"outbox ({size})")
