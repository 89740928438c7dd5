"""On a 390 × 844 phone: every main page fits the screen; a case reads words, call, note, timeline; an alert's
link lands on its case after signing in; a corrected form lands back on its page; the monitor refreshes in place.

Run with CLOSELOOP_TEST_BROWSER=1. Every page is also checked for console errors (the `open_page` fixture).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from closeloop.cases.models import Case
from closeloop.feedback.models import Customer, Question, Response
from closeloop.notify.models import Delivery
from tests.web.conftest import SCREENSHOTS, fill_login, ingest, load_demo_pages, login_as, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# The phone screenshots for docs/: the first screen of most, the notes dialog whole, the report at its charts.
PHONE_SCREENSHOTS = {
    "monitor": "",
    "cases": "",
    "response": "",
    "case": "",
    "recovery-notes": "whole",
    "reports": ".charts",
    "settings": "",
}

# Everything visible whose box passes the screen's right edge, named by a short CSS path. An element inside
# a scroll container of its own that fits the screen is allowed: that box scrolls, not the page.
OVERFLOW = """() => {
  const right = document.documentElement.clientWidth;
  const scrollsInside = (element) => {
    for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
      const overflow = getComputedStyle(parent).overflowX;
      if ((overflow === "auto" || overflow === "scroll") && parent.getBoundingClientRect().right <= right + 0.5) {
        return true;
      }
    }
    return false;
  };
  const name = (element) => element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
    + [...element.classList].map((c) => "." + c).join("");
  const path = (element) => {
    const parts = [];
    for (let e = element; e && e !== document.body && parts.length < 4; e = e.parentElement) parts.unshift(name(e));
    return parts.join(" > ");
  };
  const offenders = [];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || getComputedStyle(element).visibility === "hidden") continue;
    if (box.right > right + 0.5 && !scrollsInside(element)) {
      offenders.push(`${path(element)} reaches ${Math.round(box.right)} px`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, offenders: offenders};
}"""

# The smallest text of the report's charts as drawn on the screen, in CSS pixels.
SMALLEST_CHART_TEXT = """() => Math.min(...[...document.querySelectorAll(".chart svg text")]
  .filter((text) => text.getBoundingClientRect().width > 0)
  .map((text) => {
    const svg = text.ownerSVGElement;
    return parseFloat(getComputedStyle(text).fontSize) * svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  }))"""

LONG_EMAIL = "maximilian.alexander.worthington-smythe.customer-relations@subsidiary-of-a-very-long-domain.example"
LONG_COMMENT = (
    "The upgrade failed again, see https://support.example.com/tickets/T-12335/attachments/"
    "screenshot-of-the-installer-error-message-taken-on-the-thirtieth-of-november.png and call me back."
)


def overflow_problems(page: Any, name: str) -> list[str]:
    found = page.evaluate(OVERFLOW)
    problems = []
    if found["scrollWidth"] > PHONE["width"]:
        problems.append(f"{name}: the page is {found['scrollWidth']} px wide")
    problems += [f"{name}: {offender}" for offender in found["offenders"][:10]]
    return problems


def top(locator: Any) -> float:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not shown"
    return box["y"]


def lengthen(response: Response) -> None:
    """Give `response` what breaks narrow layouts: an address and a URL without a place to wrap."""
    comment = Question.objects.filter(survey=response.survey, type=Question.Type.TEXT).values_list("key", flat=True)
    assert comment, "the demo's survey asks for a comment"
    Response.objects.filter(pk=response.pk).update(answers={**response.answers, comment[0]: LONG_COMMENT})
    Customer.objects.filter(pk=response.customer_id).update(email=LONG_EMAIL)


def test_every_main_page_fits_a_phone(open_page: Callable[..., Any], live_server: Any) -> None:
    from playwright.sync_api import expect

    demo = load_demo_pages()
    # A second case, with long words, shown on its own: the demo's own stays as it is for the screenshots.
    long_one = (
        Response.objects.filter(needs_recovery=True, cases__isnull=False, superseded_by__isnull=True)
        .exclude(pk=demo.response.pk)
        .exclude(ticket="")
        .exclude(customer__isnull=True)
        .filter(customer__contact_ok=True)
        .order_by("-submitted_at")
        .first()
    )
    assert long_one is not None
    lengthen(long_one)
    pages = [
        *demo.pages,
        ("response with long words", f"/responses/{long_one.pk}"),
        ("case with long words", f"/cases/{long_one.cases.get().pk}"),
        ("responses with long words", "/responses/"),
        ("recovery notes with long words", f"/recovery-notes?unit={long_one.unit.code}&ticket={long_one.ticket}"),
        ("cases with long words", f"/cases/?q={long_one.ticket}&state=all"),
        ("closed cases", "/cases/?state=closed&sort=-opened"),
        ("alerts with their cases", "/alerts/"),
        ("settings: thresholds", "/settings/thresholds"),
        ("settings: digests", "/settings/digests"),
        ("settings: weekly summaries", "/settings/summaries"),
        ("settings: people", "/settings/people/"),
        ("settings: a new person", "/settings/people/new"),
        ("settings: rules", "/settings/rules/"),
        ("settings: a rule", "/settings/rules/risk-words"),
    ]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = open_page(viewport=PHONE, device_scale_factor=2)
    sign_in(page, live_server.url, demo.username, demo.password)
    problems: list[str] = []
    for name, url in pages:
        page.goto(live_server.url + url)
        expect(page.locator("main h1")).to_be_visible()
        problems += overflow_problems(page, name)
        if name in PHONE_SCREENSHOTS:
            view = PHONE_SCREENSHOTS[name]
            if view.startswith("."):
                page.locator(view).evaluate("element => element.scrollIntoView()")
            page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=view == "whole")
        if name == "reports":
            smallest = page.evaluate(SMALLEST_CHART_TEXT)
            if smallest < 11:
                problems.append(f"reports: the charts' smallest text is {smallest:.1f} px, under 11 px")
    assert problems == [], "wider than a 390 px phone:\n" + "\n".join(problems)


@pytest.mark.parametrize("kind", ["case", "response"])
def test_a_case_reads_in_the_phones_order(
    open_page: Callable[..., Any], live_server: Any, failed_install: Case, kind: str
) -> None:
    """Words, call button, note form, timeline, from top to bottom; the call button on the first screen."""
    from playwright.sync_api import expect

    login_as("erin")
    page = open_page(viewport=PHONE)
    sign_in(page, live_server.url, "erin")
    url = f"/cases/{failed_install.pk}" if kind == "case" else f"/responses/{failed_install.response_id}"
    page.goto(live_server.url + url)
    words = page.locator(".customer-words")
    call = page.get_by_role("link", name="Call +15555550123")
    email = page.get_by_role("link", name="Email pat@example.com")
    note = page.get_by_label("Your notes")
    timeline = page.locator(".timeline")
    expect(words).to_contain_text("It failed twice.")
    expect(call).to_have_attribute("href", "tel:+15555550123")
    expect(email).to_have_attribute("href", "mailto:pat@example.com")
    expect(call).to_be_in_viewport()
    expect(page.get_by_role("link", name="Add a note")).to_be_in_viewport()
    assert top(words) < top(call) < top(note) < top(timeline)
    # The case's actions come right after the call button, before the rest of the response.
    assert top(note) < top(page.get_by_role("heading", name="Customer", exact=True))
    assert top(page.get_by_label("Spoke to customer?", exact=True)) < top(timeline)
    assert top(page.get_by_text("Change status or close")) < top(timeline)
    assert overflow_problems(page, kind) == []


def test_no_call_button_without_the_customers_consent(
    open_page: Callable[..., Any], live_server: Any, acme: None
) -> None:
    from playwright.sync_api import expect

    refused = Case.objects.get(response=ingest(contact_ok=False, at=timezone.now() - timedelta(hours=1)))
    login_as("erin")
    page = open_page(viewport=PHONE)
    sign_in(page, live_server.url, "erin")
    page.goto(f"{live_server.url}/cases/{refused.pk}")
    expect(page.locator(".contact-refused")).to_have_text("The customer did not agree to be contacted.")
    expect(page.locator('a[href^="tel:"], a[href^="mailto:"]')).to_have_count(0)
    expect(page.get_by_role("link", name="Add a note")).to_be_in_viewport()


@pytest.mark.parametrize(("channel", "topic"), [("email", "case"), ("sms", "alert")])
def test_an_alerts_link_opens_its_case_after_signing_in(
    open_page: Callable[..., Any], live_server: Any, failed_install: Case, channel: str, topic: str
) -> None:
    """The link in Erin's message, opened on a phone that is signed out: sign in, and the case is there."""
    from playwright.sync_api import expect

    login_as("erin")
    message = Delivery.objects.filter(person__key="erin", channel=channel, topic=topic).order_by("id").first()
    assert message is not None
    path = re.search(r"https?://[^/\s]+(/(?:cases|responses)/\d+)", message.text)
    assert path is not None, message.text
    page = open_page(viewport=PHONE)
    page.goto(live_server.url + path.group(1))
    expect(page).to_have_url(re.compile(r"/login/\?next=" + re.escape(path.group(1)) + "$"))
    fill_login(page, "erin")
    expect(page).to_have_url(live_server.url + path.group(1))
    expect(page.locator(".customer-words")).to_contain_text("It failed twice.")
    expect(page.get_by_role("link", name="Call +15555550123")).to_be_in_viewport()
    # One tap into the note, no scrolling past the timeline to find it.
    assert top(page.get_by_label("Your notes")) < top(page.locator(".timeline"))
    page.get_by_role("link", name="Add a note").click()
    expect(page.get_by_label("Your notes")).to_be_focused()
    expect(page.get_by_label("Your notes")).to_be_in_viewport()
    page.keyboard.type("Called Pat from the alert.")
    page.get_by_label("Spoke to customer?", exact=True).check()
    page.get_by_role("button", name="Save note").click()
    expect(page).to_have_url(live_server.url + path.group(1))
    expect(page.locator(".timeline .event-note")).to_contain_text("Called Pat from the alert.")


def test_a_form_with_an_error_shows_it_open_and_the_corrected_one_lands_on_the_case(
    open_page: Callable[..., Any], live_server: Any, failed_install: Case
) -> None:
    from playwright.sync_api import expect

    login_as("erin")
    case_url = f"{live_server.url}/cases/{failed_install.pk}"
    page = open_page(viewport=PHONE, expected_errors=(r"status of 422",))
    sign_in(page, live_server.url, "erin")
    page.goto(case_url)

    # A name of spaces passes the browser's `required` but not the server.
    page.get_by_label("Your name").fill("   ")
    page.get_by_label("Your notes").fill("Left a voicemail.")
    page.get_by_role("button", name="Save note").click()
    author = page.get_by_label("Your name")
    expect(page.locator("#id_author_error")).to_have_text("This field is required.")
    expect(author).to_have_attribute("aria-invalid", "true")
    expect(author).to_have_attribute("aria-describedby", "id_author_error")
    expect(author).to_be_focused()
    expect(page.get_by_label("Your notes")).to_have_value("Left a voicemail.")
    author.fill("Erin Diaz")
    page.get_by_role("button", name="Save note").click()
    expect(page).to_have_url(case_url)
    expect(page.get_by_text("Note saved.")).to_be_visible()

    page.get_by_text("Change status or close").click()
    page.get_by_label("Status").select_option("Closed")
    page.get_by_label("Note (optional)").fill("Refund agreed on the phone.")
    page.get_by_role("button", name="Save status").click()
    status_box = page.locator("details.action").filter(has=page.get_by_label("Resolution (when closing)"))
    resolution = page.get_by_label("Resolution (when closing)")
    expect(status_box).to_have_attribute("open", "")
    expect(page.locator("#id_resolution_error")).to_contain_text("closing a case needs a resolution")
    expect(page.locator("#id_resolution_error")).to_be_in_viewport()
    expect(resolution).to_have_attribute("aria-invalid", "true")
    expect(resolution).to_be_focused()
    expect(page.get_by_label("Note (optional)")).to_have_value("Refund agreed on the phone.")
    expect(page.get_by_label("Status")).to_have_value("Closed")
    assert top(page.locator("#id_resolution_error")) > top(resolution)
    expect(page.locator("#id_root_cause_error")).to_contain_text("closing a case needs a root cause")
    resolution.select_option("resolved")
    page.get_by_label("Root cause (when closing)").select_option("Process")
    page.get_by_role("button", name="Save status").click()
    expect(page).to_have_url(case_url)
    expect(page.get_by_text("Status is now Closed.")).to_be_visible()
    expect(page.locator(".case-panel .badge-closed")).to_have_text("Closed: resolved")


def test_the_monitor_refreshes_in_place_keeping_focus_and_scroll(
    open_page: Callable[..., Any], live_server: Any, acme: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect

    from closeloop.web.views import home

    monkeypatch.setattr(home, "REFRESH_SECONDS", 1)
    now = timezone.now()
    # Gold customers: a day to call them back, so all four are overdue.
    for days, name in ((3.5, "Oscar Overdue"), (3, "Olive Overdue"), (2, "Otto Overdue"), (1.5, "Opal Overdue")):
        ingest(at=now - timedelta(days=days), name=name)
    login_as("erin")
    page = open_page(viewport={"width": 390, "height": 600})
    sign_in(page, live_server.url, "erin")
    expect(page.locator("tr.row-overdue")).to_have_count(4)
    page.evaluate("window.notReloaded = true")

    # From the second case's link, Tab to the third's: the keyboard's place in the list.
    page.locator("tr[data-case] a").nth(1).focus()
    page.keyboard.press("Tab")
    kept = page.locator("tr[data-case] a").nth(2)
    expect(kept).to_be_focused()
    page.evaluate("window.kept = document.activeElement; window.scrollTo(0, 180)")
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 0

    # The oldest deadline goes to the top of the list, above the focused row.
    ingest(at=now - timedelta(days=5), name="Newly Overdue")
    expect(page.locator("tr.row-overdue")).to_have_count(5, timeout=10_000)
    expect(page.locator("tr[data-case]").first).to_contain_text("Newly Overdue")
    # The counters and the rows are read one after the other, so a refresh may catch the new case's count a
    # round before its row; the news then names the row alone. Either way it says what changed.
    expect(page.locator("#monitor-news")).to_have_text(re.compile(r"1 new case"))
    expect(page.locator('[data-counter="overdue"]')).to_have_text("5")
    assert page.evaluate("document.activeElement === window.kept && window.kept.isConnected")
    assert page.evaluate("window.scrollY") == scrolled
    assert page.evaluate("window.notReloaded") is True
    # The focus is where it was in the list, too: Tab goes on to the case after it.
    page.keyboard.press("Tab")
    expect(page.locator("tr[data-case] a").nth(4)).to_be_focused()
