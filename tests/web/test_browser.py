"""End to end in a real Chromium: the monitor, a case, a note, the notes dialog, closing; screenshots for docs/.

The same on a phone, and what only a phone needs, is in test_phone.py.

Run with CLOSELOOP_TEST_BROWSER=1. Playwright's expectations wait for the page, so no test sleeps.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from closeloop.cases.models import Case
from tests.web.conftest import PASSWORD, SCREENSHOTS, ingest, load_demo_pages, login_as, sign_in
from tests.web.test_phone import OVERFLOW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_YORK = ZoneInfo("America/New_York")
# Pages short enough to show whole; the long lists are shown as the first screenful.
FULL_PAGE = {"response", "case", "recovery-notes", "reports", "settings", "settings-person"}
FIRST_ROWS = {"cases": 1700}


@pytest.fixture
def three_days_ago(acme: None) -> datetime:
    """Two failed installations by Gold customers in SUP-EMEA on one day three days ago: both overdue."""
    day = (timezone.now() - timedelta(days=3)).astimezone(NEW_YORK).date()
    ten = datetime.combine(day, time(10), tzinfo=NEW_YORK)
    ingest(at=ten, name="Olive Overdue", answers={"ease": 2, "completed": False, "comment": "Failed twice. Gave up."})
    ingest(at=ten + timedelta(hours=1), name="Oscar Overdue")
    login_as("erin")
    return ten


def test_a_lead_works_an_overdue_case_from_the_monitor_to_closing(
    open_page: Callable[..., Any], live_server: Any, three_days_ago: datetime
) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    page = open_page(viewport={"width": 1280, "height": 900})
    sign_in(page, base, "erin", PASSWORD)

    overdue = page.locator("tr.row-overdue")
    expect(overdue).to_have_count(2)
    expect(overdue.first.locator(".badge-overdue")).to_have_text("Overdue")
    expect(page.locator('[data-counter="overdue"]')).to_have_text("2")

    overdue.first.get_by_role("link").click()
    expect(page.get_by_text("Failed twice. Gave up.")).to_be_visible()
    expect(page.get_by_label("Your name")).to_have_value("Erin Diaz")
    page.get_by_label("Spoke to customer?", exact=True).check()
    page.get_by_label("Your notes").fill("Called Olive; walked her through the installer.")
    page.get_by_role("button", name="Save note").click()
    timeline = page.locator(".timeline")
    expect(timeline.locator(".event-note")).to_contain_text("Called Olive; walked her through the installer.")
    expect(timeline.locator(".event-note")).to_contain_text("(Spoke? Yes)")
    expect(page.get_by_text("Contacted").first).to_be_visible()

    day = three_days_ago.date().isoformat()
    page.goto(f"{base}/recovery-notes?unit=SUP-EMEA&date={day}")
    expect(page.get_by_text("Response 1 of 2 needing recovery")).to_be_visible()
    expect(page.locator(".notes-log")).to_contain_text("Called Olive")
    expect(page.get_by_role("button", name="← Previous")).to_be_disabled()
    page.get_by_role("button", name="Next →").click()
    expect(page.get_by_text("Response 2 of 2 needing recovery")).to_be_visible()
    expect(page.locator(".srn-facts")).to_contain_text("Oscar Overdue")
    expect(page.get_by_role("button", name="Next →")).to_be_disabled()
    page.get_by_label("Your notes").fill("Left a voicemail for Oscar.")
    page.get_by_role("button", name="← Previous").click()
    expect(page.get_by_text("Response 1 of 2 needing recovery")).to_be_visible()
    assert Case.objects.get(response__customer__name="Oscar Overdue").events.filter(type="note").count() == 1

    olive = Case.objects.get(response__customer__name="Olive Overdue")
    page.goto(f"{base}/cases/{olive.pk}")
    page.get_by_text("Change status or close").click()
    page.get_by_label("Status").select_option("Closed")
    page.get_by_label("Resolution (when closing)").select_option("resolved")
    page.get_by_label("Root cause (when closing)").select_option("Product")
    page.get_by_role("button", name="Save status").click()
    expect(page.locator(".case-panel .badge-closed")).to_have_text("Closed: resolved")
    expect(page.locator(".timeline")).to_contain_text("Closed as resolved")

    page.goto(f"{base}/")
    expect(page.locator("tr.row-overdue")).to_have_count(1)


def test_the_monitor_refreshes_itself_without_a_reload(
    open_page: Callable[..., Any], live_server: Any, three_days_ago: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect

    from closeloop.web.views import home

    monkeypatch.setattr(home, "REFRESH_SECONDS", 1)
    base = live_server.url
    page = open_page()
    sign_in(page, base, "erin", PASSWORD)
    expect(page.locator("tr.row-overdue")).to_have_count(2)
    page.evaluate("window.notReloaded = true")
    ingest(at=timezone.now() - timedelta(days=2), name="Newly Overdue")
    expect(page.locator("tr.row-overdue")).to_have_count(3, timeout=10_000)
    expect(page.locator("#monitor")).to_contain_text("Newly Overdue")
    assert page.evaluate("window.notReloaded") is True


def test_screenshots_of_the_main_pages(open_page: Callable[..., Any], live_server: Any) -> None:
    """The demo organisation, as a person sees it, none wider than the screen; the images go to docs/screenshots/."""
    from playwright.sync_api import expect

    demo = load_demo_pages()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = open_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server.url, demo.username, demo.password)
    wider: list[str] = []
    for name, url in demo.pages:
        page.goto(live_server.url + url)
        expect(page.locator("main h1")).to_be_visible()
        found = page.evaluate(OVERFLOW)
        wider += [f"{name}: {offender}" for offender in found["offenders"][:5]]
        if found["scrollWidth"] > 1280:
            wider.append(f"{name}: the page is {found['scrollWidth']} px wide")
        if name in FIRST_ROWS:
            # The filters and the first rows of a long list, not all fifty.
            height = min(page.evaluate("document.documentElement.scrollHeight"), FIRST_ROWS[name])
            page.screenshot(
                path=str(SCREENSHOTS / f"{name}.png"),
                full_page=True,
                clip={"x": 0, "y": 0, "width": 1280, "height": height},
            )
        else:
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=name in FULL_PAGE)
    assert wider == [], "wider than a 1280 px screen:\n" + "\n".join(wider)


def test_the_api_docs_page_works_under_its_content_security_policy(
    open_page: Callable[..., Any], live_server: Any
) -> None:
    """Swagger UI loads its bundled scripts from this site; a policy violation would be a console error."""
    from playwright.sync_api import expect

    page = open_page(viewport={"width": 1280, "height": 900})
    response = page.goto(f"{live_server.url}/api/v1/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.get_by_text("/api/v1/responses").first).to_be_visible()


def test_a_page_that_tries_an_inline_script_is_stopped_by_the_policy(
    open_page: Callable[..., Any], live_server: Any
) -> None:
    """The policy really binds: an inline script injected into a served page is refused by the browser."""
    page = open_page(viewport={"width": 1280, "height": 900}, expected_errors=(r"Content Security Policy",))
    page.goto(f"{live_server.url}/login/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
        " document.body.appendChild(s); }"
    )
    assert page.evaluate("() => window.injected") is None


def test_a_recording_on_an_allowed_host_plays_under_the_pages_policy(
    open_page: Callable[..., Any], live_server: Any, acme: None
) -> None:
    """The page's media-src names the recording's own host: the browser fetches it (the route answers for
    the host, after the policy let the request through) and reads the sound's length."""
    import io
    import wave

    sound = io.BytesIO()
    with wave.open(sound, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(b"\0\0" * 8000)
    response = ingest(audio_url="https://recordings.example.com/88213.wav")
    login_as("erin")
    page = open_page(viewport={"width": 1280, "height": 900})
    fetched: list[str] = []

    def answer(route: Any) -> None:
        fetched.append(route.request.url)
        route.fulfill(status=200, body=sound.getvalue(), headers={"Content-Type": "audio/wav"})

    page.route("https://recordings.example.com/**", answer)
    sign_in(page, live_server.url, "erin")
    page.goto(f"{live_server.url}/responses/{response.pk}")
    duration = page.evaluate(
        """() => new Promise((resolve, reject) => {
            const player = document.querySelector('audio');
            player.addEventListener('loadedmetadata', () => resolve(player.duration));
            player.addEventListener('error', () => reject(new Error('the recording did not load')));
            player.load();
        })"""
    )
    assert duration == pytest.approx(1.0, abs=0.01)
    assert fetched == ["https://recordings.example.com/88213.wav"]


def test_the_admin_works_under_the_content_security_policy(open_page: Callable[..., Any], live_server: Any) -> None:
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    operator = get_user_model().objects.create_superuser("operator", "ops@example.com", PASSWORD)
    # Django's admin pages name no icon, so the browser asks for /favicon.ico, which does not exist.
    page = open_page(viewport={"width": 1280, "height": 900}, expected_errors=(r"404 \(Not Found\)",))
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/notify/delivery/")
    expect(page.locator("#backlog")).to_have_text("Nothing is waiting to be sent.")
    page.goto(f"{live_server.url}/admin/auth/user/{operator.pk}/change/")
    expect(page.get_by_label("Username")).to_have_value("operator")


def test_a_regional_lead_finds_a_case_escalated_to_them_on_their_monitor_and_works_it(
    open_page: Callable[..., Any], live_server: Any, acme: None
) -> None:
    from playwright.sync_api import expect

    from closeloop.cases.escalation import escalate_due

    # A Bronze customer four days ago: nobody opened the case, so it went up to level 2 (the CEO) at 72 h.
    opened = timezone.now() - timedelta(days=4)
    case = Case.objects.get(response=ingest(at=opened, name="Esme Escalated", tier="Bronze"))
    escalate_due(opened + timedelta(hours=72))
    login_as("ceo")
    page = open_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server.url, "ceo", PASSWORD)

    expect(page.get_by_role("heading", name="My open cases")).to_be_visible()
    row = page.locator(f'tr[data-case="{case.pk}"]')
    expect(row).to_contain_text("Esme Escalated")
    expect(row.locator(".escalated-to-you")).to_have_text(
        "Escalated to you (level 2): nobody in the team had opened it"
    )
    expect(page.get_by_text("No open cases")).to_have_count(0)

    row.get_by_role("link").click()
    expect(page.get_by_text("It failed twice.")).to_be_visible()
    page.get_by_label("Your notes").fill("Erin, please call Esme today.")
    page.get_by_role("button", name="Save note").click()
    expect(page.locator(".timeline .event-note")).to_contain_text("Erin, please call Esme today.")
