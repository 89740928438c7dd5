"""The Acme organisation with logins and a few responses, for the web UI tests; a Chromium for the browser tests."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from closeloop.cases.models import Case
from closeloop.feedback.models import Response
from closeloop.org.directory import current_organization
from closeloop.org.models import Person
from tests import factories

PASSWORD = "correct-horse-battery"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def ingest(answers: dict[str, Any] | None = None, *, at: datetime | None = None, **fields: Any) -> Response:
    """A failed installation (unless `answers` says otherwise) by a Gold customer who may be called, posted the way
    a survey tool does, now unless `at` says otherwise."""
    return factories.ingest(answers, at=at or timezone.now(), prefix="web", **fields)


def login_as(key: str) -> Client:
    """A client signed in as the configured person `key` (given a login if the config has none)."""
    person = Person.objects.get(key=key)
    user_model = get_user_model()
    if person.user is None:
        person.user = user_model.objects.create_user(username=key, email=person.email)
        person.save(update_fields=["user"])
    person.user.set_password(PASSWORD)
    person.user.save()
    client = Client()
    assert client.login(username=key, password=PASSWORD)
    return client


@pytest.fixture
def erin(acme: None) -> Client:
    """The lead of SUP-EMEA (sees SUP-EMEA only)."""
    return login_as("erin")


@pytest.fixture
def admin_client_acme(acme: None) -> Client:
    """Ada, with the `admin` role on the root: sees everything."""
    return login_as("admin")


@pytest.fixture
def ursula(acme: None) -> Client:
    """The lead of SUP-US: sees nothing of EMEA."""
    return login_as("ursula")


@pytest.fixture
def failed_install(acme: None) -> Case:
    """An open case in SUP-EMEA, a Gold customer, received an hour ago."""
    response = ingest(at=timezone.now() - timedelta(hours=1))
    return Case.objects.get(response=response)


@pytest.fixture
def overdue_case(acme: None) -> Case:
    """A Gold customer's case (24 h goal) opened three days ago: overdue."""
    response = ingest(at=timezone.now() - timedelta(days=3), name="Olive Overdue")
    return Case.objects.get(response=response)


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium, driven by Playwright (the browser tests only: CLOSELOOP_TEST_BROWSER=1)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """`open_page(viewport=...)` -> a new page; the test fails if any page logged an error or threw.

    `expected_errors=(regex, ...)` names console errors the test causes on purpose (a form sent back with
    HTTP 422 is logged as a resource that failed to load).
    """
    errors: list[str] = []

    def open_(expected_errors: tuple[str, ...] = (), **options: Any) -> Any:
        def on_console(message: Any) -> None:
            if message.type == "error" and not any(re.search(pattern, message.text) for pattern in expected_errors):
                errors.append(f"console: {message.text} ({message.location.get('url', '')})")

        page = browser.new_page(**options)
        page.on("console", on_console)
        page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
        return page

    yield open_
    assert errors == [], "the browser reported errors:\n" + "\n".join(errors)


def sign_in(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form; the monitor is the first page."""
    from playwright.sync_api import expect

    page.goto(f"{base}/login/")
    fill_login(page, username, password)
    expect(page.get_by_role("heading", name="Performance monitor")).to_be_visible()


def fill_login(page: Any, username: str, password: str = PASSWORD) -> None:
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@dataclass(frozen=True)
class DemoPages:
    username: str
    password: str
    response: Response
    pages: list[tuple[str, str]]


def load_demo_pages() -> DemoPages:
    """The demo organisation and its main pages, by name, as Maya sees them (the admin role: every page)."""
    from closeloop.demo.generate import demo_login

    with open(os.devnull, "w") as quiet:
        call_command("demo", stdout=quiet)
    login = demo_login()
    assert login is not None
    # The newest response needing recovery with a case and a ticket: it has every part of the pages.
    response = (
        Response.objects.filter(needs_recovery=True, cases__isnull=False, superseded_by__isnull=True)
        .exclude(ticket="")
        .order_by("-submitted_at")
        .first()
    )
    assert response is not None
    day = response.submitted_at.astimezone(ZoneInfo(current_organization().time_zone)).date().isoformat()
    pages = [
        ("monitor", "/?scope=all"),
        ("cases", "/cases/?state=open&sort=severity"),
        ("responses", "/responses/?srn=r"),
        ("alerts", "/alerts/?kind=recovery"),
        ("response", f"/responses/{response.pk}"),
        ("case", f"/cases/{response.cases.get().pk}"),
        ("recovery-notes", f"/recovery-notes?unit={response.unit.code}&date={day}"),
        ("praise", "/praise/"),
        ("reports", "/reports/"),
        ("outbox", "/outbox/"),
        ("settings", "/settings/"),
        ("settings-person", "/settings/people/erin"),
    ]
    return DemoPages(username="maya", password=login[1], response=response, pages=pages)
