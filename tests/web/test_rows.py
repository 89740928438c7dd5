"""Rows that say what is wrong: alert rows with their case; scores coloured by the score, flagged ones with why."""

from __future__ import annotations

import re

from django.test import Client
from django.utils import timezone

from closeloop.cases.models import Case
from closeloop.cases.services import do_add_note, do_assign
from closeloop.org.models import Person
from tests.web.conftest import ingest


def _row(html: str, marker: str) -> str:
    start = html.rindex("<tr", 0, html.index(marker))
    return html[start : html.index("</tr>", start)]


def test_each_alert_row_shows_its_cases_status_owner_and_contact(admin_client_acme: Client, acme: None) -> None:
    called = Case.objects.get(response=ingest(name="Called Carl"))
    do_add_note(called, text="Spoke.", spoke_to_customer=True, now=timezone.now())
    do_assign(called, owner=Person.objects.get(key="dave"), now=timezone.now())
    Case.objects.get(response=ingest(name="Waiting Wendy"))
    ingest({"ease": 10, "completed": True, "comment": "Great."}, name="Happy Hal")
    html = admin_client_acme.get("/alerts/").content.decode()
    carl = _row(html, "Called Carl")
    assert f'<a href="/cases/{called.pk}">#{called.pk}</a>' in carl and "Open" in carl
    assert '<td data-label="Owner">Dave Agent</td>' in carl and "spoke-yes" in carl
    wendy = _row(html, "Waiting Wendy")
    assert "Nobody yet" in wendy and "Not yet" in wendy
    hal = _row(html, "Happy Hal")
    assert '<td data-label="Case"><span class="muted">—</span></td>' in hal


def test_scores_are_coloured_by_the_score_and_flagged_ones_say_why(admin_client_acme: Client, acme: None) -> None:
    ingest({"ease": 1, "completed": True}, unit="ATLANTIS", name="Quarantined Quinn")
    ingest({"ease": 8, "completed": True, "comment": "Fine, but I want a refund."}, name="Flagged Flo")
    ingest({"ease": 10, "completed": True}, name="Top Tess")
    html = admin_client_acme.get("/responses/").content.decode()
    quinn = _row(html, "Quarantined Quinn")
    assert re.search(r'class="score score-low">1/10', quinn), quinn
    flo = _row(html, "Flagged Flo")
    assert 'class="score score-mid">8/10' in flo and "Flagged: At-risk customer" in flo
    assert 'class="score score-high">10/10' in _row(html, "Top Tess")


def test_the_response_page_says_why_a_good_score_needs_recovery(admin_client_acme: Client, acme: None) -> None:
    response = ingest({"ease": 9, "completed": True, "comment": "Never again, I want a refund."})
    page = admin_client_acme.get(f"/responses/{response.pk}").content.decode()
    overall = page[page.index('<p class="overall">') : page.index("</p>", page.index('<p class="overall">'))]
    assert "score-high" in overall and "Flagged: At-risk customer" in overall and "Needs recovery" in overall
