"""In a real Chromium: the reports page comes first, then its script fills in the month's complaint themes.

Run with CLOSELOOP_TEST_BROWSER=1. Playwright's expectations wait for the page, so no test sleeps.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.web.conftest import load_demo_pages, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_reports_page_loads_the_demo_months_complaint_themes(
    open_page: Callable[..., Any], live_server: Any
) -> None:
    from playwright.sync_api import expect

    demo = load_demo_pages()
    page = open_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server.url, demo.username, demo.password)
    page.goto(f"{live_server.url}/reports/")
    panel = page.locator("#themes")
    # Grouping a month of complaints takes the model seconds (more on busy cores): the page does not wait for it.
    expect(page.locator("main h1")).to_have_text("Loop report")
    expect(panel.locator(".theme").nth(1)).to_be_visible(timeout=240_000)
    assert panel.get_attribute("aria-busy") is None
    themes = panel.locator(".theme")
    assert 2 <= themes.count() <= 8
    first = themes.first
    expect(first.locator("h3")).not_to_be_empty()
    expect(first.locator("blockquote a").first).to_have_attribute("href", re.compile(r"/responses/\d+$"))
