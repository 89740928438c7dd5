"""The Sources pages in Chromium: no console errors, nothing wider than a 390 px phone, and the test
payload form run from the page. Run with CLOSELOOP_TEST_BROWSER=1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from closeloop.config.apply import apply_config
from closeloop.feedback.models import Response
from tests.connectors.tool_api import FakeApi, serve
from tests.intake.conftest import hooks_config, payload, post_hook
from tests.web.conftest import login_as, sign_in
from tests.web.test_phone import PHONE, overflow_problems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_sources_pages_fit_a_phone_and_the_test_form_shows_the_result(
    open_page: Callable[..., Any], live_server: Any
) -> None:
    from playwright.sync_api import expect

    with serve(FakeApi()) as tool_api:
        apply_config(hooks_config(tool_api.base))
    login_as("admin")
    post_hook("event-tally", payload("tally_form_response.json"))
    post_hook("visit-jotform", b"rawRequest=%7Bbroken", content_type="application/x-www-form-urlencoded")
    page = open_page(viewport=PHONE)
    sign_in(page, live_server.url, "admin")
    problems = []
    for path in ("/sources/", "/sources/visit-jotform/", "/sources/event-tally/"):
        page.goto(live_server.url + path)
        problems += overflow_problems(page, path)
    page.get_by_label("Request body").fill(payload("tally_form_response.json").decode())
    page.get_by_role("button", name="Run it").click()
    expect(page.get_by_role("status")).to_contain_text("2wgx4n: would be replay (valid)")
    problems += overflow_problems(page, "the test result")
    assert problems == []
    assert Response.objects.count() == 1  # the delivery's; the test payload stored nothing
