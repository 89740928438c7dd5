"""The loop's pages follow the UI's rules: one h1, a skip link to <main>, a label for every control."""

from __future__ import annotations

from django.test import Client

from closeloop.cases.models import Case
from tests.loop.conftest import send
from tests.web.conftest import login_as
from tests.web.test_accessibility import PageFacts


def check(html: str) -> None:
    facts = PageFacts()
    facts.feed(html)
    assert facts.h1 == 1
    assert facts.skip_link and "main" in facts.ids
    assert [control for control in facts.controls if control not in facts.labels] == []


def test_the_retention_page_is_labelled_and_navigable(recent_close: Case) -> None:
    check(login_as("admin").get("/reports/retention/").content.decode())


def test_every_state_of_the_follow_up_page_is_labelled_and_navigable(recent_close: Case) -> None:
    _, links = send(recent_close)
    client = Client()
    check(client.get(links["no"]).content.decode())  # confirm
    check(client.post(links["no"]).content.decode())  # thanks
    check(client.get(links["no"]).content.decode())  # used
    check(client.get("/follow-up/forged/yes").content.decode())  # invalid
