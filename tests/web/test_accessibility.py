"""Every page: one h1, a skip link to <main>, a label (or an aria-label) for every form control, unique ids."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

from closeloop.cases.models import Case
from tests.web.conftest import ingest


class PageFacts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.controls: list[str] = []
        self.labels: set[str] = set()
        self.h1 = 0
        self.ids: set[str] = set()
        self.duplicate_ids: list[str] = []
        self.skip_link = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            if values["id"] in self.ids:
                self.duplicate_ids.append(values["id"] or "")
            self.ids.add(values["id"] or "")
        if tag == "h1":
            self.h1 += 1
        if tag == "label" and values.get("for"):
            self.labels.add(values["for"] or "")
        if tag == "a" and values.get("class") == "skip-link" and values.get("href") == "#main":
            self.skip_link = True
        if tag in ("input", "select", "textarea") and values.get("type") not in ("hidden", "submit"):
            if values.get("aria-label"):
                return  # named by its own attribute (a row's tick box: "Select case #12")
            self.controls.append(values.get("id") or f"<{tag} name={values.get('name')} without id>")


@pytest.fixture
def pages(failed_install: Case) -> list[str]:
    praise = ingest({"ease": 10, "completed": True, "comment": "Great."})
    ticket = failed_install.response.ticket
    return [
        "/",
        "/responses/",
        "/alerts/",
        f"/responses/{failed_install.response_id}",
        f"/responses/{praise.pk}",
        f"/cases/{failed_install.pk}",
        f"/recovery-notes?unit=SUP-EMEA&ticket={ticket}",
        "/recovery-notes",
        "/praise/",
        "/reports/",
        "/outbox/",
        "/cases/",
        "/cases/?state=closed&flag=overdue&q=failed",
        "/reports/retention/",
        "/settings/",
        "/settings/thresholds",
        "/settings/digests",
        "/settings/summaries",
        "/settings/people/",
        "/settings/people/erin",
        "/settings/people/new",
        "/settings/rules/",
        "/settings/rules/install-failed",
    ]


def test_pages_are_labelled_and_navigable(admin_client_acme: Client, pages: list[str]) -> None:
    for url in pages:
        facts = PageFacts()
        facts.feed(admin_client_acme.get(url).content.decode())
        assert facts.h1 == 1, url
        assert facts.skip_link and "main" in facts.ids, url
        unlabelled = [control for control in facts.controls if control not in facts.labels]
        assert unlabelled == [], (url, unlabelled)
        assert facts.duplicate_ids == [], (url, facts.duplicate_ids)


@pytest.mark.parametrize("url", ["/login/", "/password-reset/"])
def test_sign_in_pages_are_labelled(acme: None, url: str) -> None:
    facts = PageFacts()
    facts.feed(Client().get(url).content.decode())
    assert facts.h1 == 1 and facts.skip_link
    assert [control for control in facts.controls if control not in facts.labels] == []
