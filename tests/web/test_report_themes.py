"""Complaint themes on the reports page: which comments are complaints, the panel the page's script loads,
its trend against the period before, the units and quotes, and only the units the reader may see."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from closeloop.feedback.models import Response
from closeloop.loop.themes import complaints_in
from closeloop.textmodel import Judge
from tests.textmodel.data import rows
from tests.web.conftest import ingest

pytestmark = pytest.mark.django_db

FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}


def complaint(text: str, *, days_ago: float, unit: str = "SUP-EMEA") -> Response:
    return ingest(
        {"ease": 3, "completed": True, "comment": text}, at=timezone.now() - timedelta(days=days_ago), unit=unit
    )


def test_complaints_are_the_words_of_customers_needing_recovery_or_heard_as_unhappy(acme: None) -> None:
    low = complaint("The engineer never came.", days_ago=1)
    praised = complaint("Erin was wonderful, thank you.", days_ago=1)
    Response.objects.filter(pk=praised.pk).update(text_judgement={"customer": {"label": "praise"}})
    heard = ingest({"ease": 8, "completed": True, "comment": "Still waiting for my refund."})
    Response.objects.filter(pk=heard.pk).update(text_judgement={"customer": {"label": "unhappy"}})
    ingest({"ease": 9, "completed": True, "comment": "All good."})
    ingest({"ease": 2, "completed": True})  # no words: nothing to group
    found, capped = complaints_in(Response.objects.all(), "America/New_York")
    assert sorted(c.response for c in found) == sorted([low.pk, heard.pk])
    assert not capped
    assert complaints_in(Response.objects.all(), "America/New_York", limit=1)[1] is True


@pytest.fixture
def complaints(acme: None, text_model: Judge) -> list[tuple[str, str]]:
    """The hand-written theme set (four themes in four languages and three one-offs) this month, and in the month
    before two noise complaints among six responses."""
    fixture = rows("themes.tsv")
    for n, (_, text) in enumerate(fixture):
        complaint(text, days_ago=1 + n % 10)
    complaint("The bar under our room played music until 3 am.", days_ago=40)
    complaint("Loud music from the bar below kept us awake.", days_ago=45)
    for days in (35, 40, 50, 55):
        ingest({"ease": 9, "completed": True}, at=timezone.now() - timedelta(days=days))
    return fixture


def themes_in(html: str) -> list[str]:
    return re.findall(r'data-theme="([^"]+)"', html)


def test_the_panel_groups_the_periods_complaints_and_compares_with_the_period_before(
    complaints: list[tuple[str, str]], admin_client_acme: Client
) -> None:
    page = admin_client_acme.get("/reports/").content.decode()
    assert 'data-load="/reports/themes/"' in page
    html = admin_client_acme.get("/reports/themes/", **FETCH).content.decode()
    assert "<html" not in html  # the panel alone, for the page's script
    labels = themes_in(html)
    assert len(labels) >= 3, html
    assert "20 complaints among 20 responses" in html
    assert "against" in html and "(2 of 6)" in html
    # The noise theme existed the period before (2 of its 6 responses): its share of responses fell.
    noise = next(block for block in html.split('<li class="card theme"')[1:] if "music" in block)
    assert re.search(
        r"complaints \(\d+(\.\d)? % of responses\),\s+<span class=\"trend-down\">↓ down</span> from 2 \(33.3 %\)", noise
    )
    assert "jumped" not in noise
    # The others are new, and being new with three or more complaints, they jumped.
    assert '<span class="trend-up">new</span>: none the period before' in html and "jumped</span>" in html
    assert "SUP-EMEA (" in html
    # Quotes link to their responses.
    assert re.search(r'<a href="http://127\.0\.0\.1:8000/responses/\d+">“', html)


def test_without_the_script_the_themes_are_a_page_of_their_own(
    complaints: list[tuple[str, str]], admin_client_acme: Client
) -> None:
    html = admin_client_acme.get("/reports/themes/").content.decode()
    assert "<h1>Complaint themes</h1>" in html and len(themes_in(html)) >= 3


def test_a_reader_sees_the_themes_of_their_own_units_only(
    complaints: list[tuple[str, str]], erin: Client, ursula: Client
) -> None:
    assert len(themes_in(erin.get("/reports/themes/", **FETCH).content.decode())) >= 3
    elsewhere = ursula.get("/reports/themes/", **FETCH).content.decode()
    assert themes_in(elsewhere) == [] and "too few complaints" in elsewhere


def test_the_fallback_says_its_themes_are_only_of_shared_words(
    acme: None, without_text_model: None, admin_client_acme: Client
) -> None:
    for days in (1, 2, 3):
        complaint("I was charged twice for the same order.", days_ago=days)
    html = admin_client_acme.get("/reports/themes/", **FETCH).content.decode()
    assert "its fallback groups only comments that share words" in html
    assert "No trends: the period before had 0 responses, too few to compare with." in html
    assert themes_in(html) == ["charged twice"] or len(themes_in(html)) == 1
