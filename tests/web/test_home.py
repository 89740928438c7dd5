"""The Performance Monitor: my open cases with the overdue first and highlighted, counters, the refresh fragment."""

from __future__ import annotations

import re
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from closeloop.alerts.models import Alert
from closeloop.cases.models import Case
from closeloop.cases.services import do_add_note, do_change_status
from tests.web.conftest import ingest, login_as


def _case_rows(html: bytes) -> list[tuple[str, str]]:
    return re.findall(r'<tr class="row-([\w-]+)" data-case="(\d+)">', html.decode())


def test_overdue_cases_come_first_highlighted_then_due_soon(erin: Client, acme: None) -> None:
    now = timezone.now()
    later = Case.objects.get(response=ingest(tier="Bronze", at=now - timedelta(hours=1)))  # 72 h goal
    soon = Case.objects.get(response=ingest(tier="Gold", at=now - timedelta(hours=2)))  # due in 22 h
    overdue = Case.objects.get(response=ingest(tier="Gold", at=now - timedelta(days=3), name="Olive Overdue"))
    page = erin.get("/")
    assert page.status_code == 200
    assert _case_rows(page.content) == [
        ("overdue", str(overdue.pk)),
        ("due-soon", str(soon.pk)),
        ("on-track", str(later.pk)),
    ]
    html = page.content.decode()
    # The standing is told by colour, a text label and an icon shape together.
    assert re.search(r'<span class="badge badge-overdue"><svg class="icon"[^>]*><use href="[^"]*#i-overdue">', html)
    assert "Overdue</span>" in html and "Due soon</span>" in html and "On track</span>" in html


def test_counters(erin: Client, acme: None) -> None:
    now = timezone.now()
    overdue = Case.objects.get(response=ingest(at=now - timedelta(days=3)))
    ingest(at=now - timedelta(hours=1))
    closed = Case.objects.get(response=ingest(at=now - timedelta(hours=1)))
    do_add_note(overdue, text="Spoke.", spoke_to_customer=True, now=now)
    do_change_status(closed, status="Closed", resolution="resolved", actor=None, now=now)
    ingest({"ease": 10, "completed": True, "comment": "Superb."})
    html = erin.get("/").content.decode()
    counters = dict(re.findall(r'data-counter="([\w-]+)">(\d+)<', html))
    assert counters == {"open": "2", "overdue": "1", "due-soon": "1", "contacted": "1", "praise": "1"}


def test_contacted_today_counts_closed_cases_and_praise_counts_responses(erin: Client, acme: None) -> None:
    now = timezone.now()
    case = Case.objects.get(response=ingest(at=now - timedelta(hours=1)))
    do_add_note(case, text="Spoke.", spoke_to_customer=True, now=now)
    do_change_status(case, status="Closed", resolution="resolved", actor=None, now=now)
    praised = ingest({"ease": 10, "completed": True, "comment": "Superb."})
    # A second praise rule firing on the same response is still one response praised.
    first = Alert.objects.get(response=praised, kind="praise")
    first.pk, first.rule_key = None, "praise-again"
    first.save()
    html = erin.get("/").content.decode()
    counters = dict(re.findall(r'data-counter="([\w-]+)">(\d+)<', html))
    assert counters == {"open": "0", "overdue": "0", "due-soon": "0", "contacted": "1", "praise": "1"}


def test_my_cases_are_the_ones_i_work_on(acme: None) -> None:
    ingest(unit="SUP-EMEA")
    ingest(unit="SUP-UK")
    ada = login_as("admin")
    assert _case_rows(ada.get("/").content) == []
    assert len(_case_rows(ada.get("/?scope=all").content)) == 2
    erin = login_as("erin")
    assert len(_case_rows(erin.get("/").content)) == 1


def test_the_fragment_is_the_monitor_without_the_page(erin: Client, overdue_case: Case) -> None:
    fragment = erin.get("/monitor/?scope=mine")
    assert fragment.status_code == 200
    assert b"<html" not in fragment.content
    assert _case_rows(fragment.content) == [("overdue", str(overdue_case.pk))]
    page = erin.get("/").content.decode()
    assert 'data-refresh="/monitor/?scope=mine&amp;sort=due" data-refresh-seconds="30"' in page
    # The script says what changed in a live region outside the part it refreshes; no script is inline.
    assert 'data-refresh-live="monitor-news"' in page
    assert '<p id="monitor-news" class="visually-hidden" role="status" aria-live="polite"></p>' in page
    assert page.index('id="monitor-news"') > page.index("</table>")
    assert re.findall(r"<script\b[^>]*>", page) == ['<script src="/static/web/app.js" defer>']


def test_an_empty_monitor_says_so(erin: Client) -> None:
    assert b"No open cases." in erin.get("/").content


def test_the_monitor_sorts_by_status_and_opening_too(erin: Client, acme: None) -> None:
    now = timezone.now()
    first = Case.objects.get(response=ingest(tier="Bronze", at=now - timedelta(hours=5)))
    second = Case.objects.get(response=ingest(tier="Gold", at=now - timedelta(hours=1)))
    do_change_status(first, status="Pending", actor=None, now=now)

    def order(query: str) -> list[str]:
        return [pk for _, pk in _case_rows(erin.get(f"/{query}").content)]

    assert order("") == [str(second.pk), str(first.pk)]
    assert order("?sort=status") == [str(second.pk), str(first.pk)]  # Open before Pending
    assert order("?sort=-status") == [str(first.pk), str(second.pk)]
    assert order("?sort=opened") == [str(first.pk), str(second.pk)]
    page = erin.get("/?sort=-status").content.decode()
    assert 'data-refresh="/monitor/?scope=mine&amp;sort=-status"' in page
