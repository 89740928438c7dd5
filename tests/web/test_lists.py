"""The responses and alerts lists: sorting, filters (unit subtree, dates, survey, srn, kind, category), paging."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from closeloop.cases.models import Case
from closeloop.cases.services import do_add_note
from closeloop.web.lists import PAGE_SIZE
from tests.web.conftest import ingest

HAPPY = {"ease": 9, "completed": True, "comment": "Smooth and quick."}


def _names(html: bytes) -> list[str]:
    return re.findall(r'<td data-label="Customer">([^<]+)</td>', html.decode())


def test_responses_are_newest_first_and_sort_by_overall_and_unit(admin_client_acme: Client) -> None:
    now = timezone.now()
    ingest({"ease": 5, "completed": True}, at=now - timedelta(hours=3), name="Old Five", unit="SUP-UK")
    ingest({"ease": 2, "completed": True}, at=now - timedelta(hours=2), name="Mid Two", unit="SUP-US")
    ingest(HAPPY, at=now - timedelta(hours=1), name="New Nine", unit="SUP-EMEA")
    assert _names(admin_client_acme.get("/responses/").content) == ["New Nine", "Mid Two", "Old Five"]
    assert _names(admin_client_acme.get("/responses/?sort=overall").content) == ["Mid Two", "Old Five", "New Nine"]
    assert _names(admin_client_acme.get("/responses/?sort=-overall").content) == ["New Nine", "Old Five", "Mid Two"]
    assert _names(admin_client_acme.get("/responses/?sort=unit").content) == ["New Nine", "Old Five", "Mid Two"]
    assert _names(admin_client_acme.get("/responses/?sort=nonsense").content)[0] == "New Nine"


def test_the_unit_filter_takes_the_whole_subtree(admin_client_acme: Client) -> None:
    ingest(name="In Emea", unit="SUP-EMEA")
    ingest(name="In Uk", unit="SUP-UK")
    ingest(name="In Us", unit="SUP-US")
    assert sorted(_names(admin_client_acme.get("/responses/?unit=EMEA").content)) == ["In Emea", "In Uk"]
    assert _names(admin_client_acme.get("/responses/?unit=SUP-US").content) == ["In Us"]


def test_the_date_range_counts_days_in_the_organisations_time_zone(admin_client_acme: Client) -> None:
    # 03:00 UTC on the 20th is still the 19th in New York.
    ingest(at=datetime(2026, 11, 20, 3, 0, tzinfo=UTC), name="Late Evening")
    ingest(at=datetime(2026, 11, 20, 15, 0, tzinfo=UTC), name="Afternoon")
    day = admin_client_acme.get("/responses/?date_from=2026-11-20&date_to=2026-11-20").content
    assert _names(day) == ["Afternoon"]
    assert _names(admin_client_acme.get("/responses/?date_to=2026-11-19").content) == ["Late Evening"]


def test_a_reversed_date_range_is_explained(admin_client_acme: Client) -> None:
    page = admin_client_acme.get("/responses/?date_from=2026-11-20&date_to=2026-11-01").content
    assert b"The end date is before the start date." in page


def test_the_srn_filter_uses_the_case_notes(admin_client_acme: Client) -> None:
    ingest(HAPPY, name="Happy Harry")
    untouched = ingest(name="No Notes")
    tried = ingest(name="Voicemail Only")
    spoken = ingest(name="Spoke Once")
    now = timezone.now()
    do_add_note(Case.objects.get(response=tried), text="Left a voicemail.", now=now)
    do_add_note(Case.objects.get(response=spoken), text="Called, sorted.", spoke_to_customer=True, now=now)
    assert untouched.needs_recovery

    def names(srn: str) -> list[str]:
        return sorted(_names(admin_client_acme.get(f"/responses/?srn={srn}").content))

    assert names("y") == ["Happy Harry", "No Notes", "Spoke Once", "Voicemail Only"]
    assert names("r") == ["No Notes", "Spoke Once", "Voicemail Only"]
    assert names("x") == ["No Notes"]
    assert names("w") == ["Spoke Once", "Voicemail Only"]
    assert names("v") == ["Voicemail Only"]
    assert names("s") == ["Spoke Once"]


def test_the_survey_filter(admin_client_acme: Client) -> None:
    ingest(name="Installer")
    ingest({"recommend": 3, "comment": "Meh."}, survey="relationship", name="Relationship")
    assert _names(admin_client_acme.get("/responses/?survey=relationship").content) == ["Relationship"]


def test_pages_show_next_without_counting_everything(admin_client_acme: Client) -> None:
    for n in range(PAGE_SIZE + 1):
        ingest(HAPPY, name=f"Customer {n}")
    with CaptureQueriesContext(connection) as queries:
        first = admin_client_acme.get("/responses/")
    assert not any("COUNT(" in q["sql"].upper() and "feedback_response" in q["sql"] for q in queries.captured_queries)
    assert len(_names(first.content)) == PAGE_SIZE
    assert b'rel="next" href="?page=2"' in first.content
    second = admin_client_acme.get("/responses/?page=2")
    assert len(_names(second.content)) == 1
    assert b'rel="next"' not in second.content and b'rel="prev"' in second.content
    assert admin_client_acme.get("/responses/?page=abc").status_code == 200


def _alert_rows(html: bytes) -> list[str]:
    return re.findall(r'<td data-label="Category">([^<]+)</td>', html.decode())


def test_alerts_filter_by_kind_category_unit_and_date(admin_client_acme: Client) -> None:
    now = timezone.now()
    ingest(HAPPY, name="Praiser", unit="SUP-US")  # praise (kudos)
    ingest(name="Failed", unit="SUP-UK", at=now - timedelta(days=10))  # recovery: Installation issues
    ingest({"ease": 8, "completed": True, "comment": "I want a refund."}, name="Churner")  # At-risk customer
    assert _alert_rows(admin_client_acme.get("/alerts/?kind=praise").content) == ["Praise"]
    assert _alert_rows(admin_client_acme.get("/alerts/?category=At-risk+customer").content) == ["At-risk customer"]
    assert _alert_rows(admin_client_acme.get("/alerts/?unit=EMEA&kind=recovery").content) == [
        "At-risk customer",
        "Installation issues",
    ]
    today = timezone.localdate(now, timezone=ZoneInfo("America/New_York"))
    recent = admin_client_acme.get(f"/alerts/?date_from={today - timedelta(days=2)}&kind=recovery").content
    assert _alert_rows(recent) == ["At-risk customer"]


def test_alerts_sort_by_severity_most_severe_first(admin_client_acme: Client) -> None:
    ingest(HAPPY, name="Praiser")  # low
    ingest({"ease": 8, "completed": True, "comment": "Refund please."}, name="Churner")  # urgent
    ingest({"ease": 8, "completed": False}, name="Failed")  # high
    page = admin_client_acme.get("/alerts/?sort=-severity").content.decode()
    assert re.findall(r"severity-(\w+)\">", page) == ["urgent", "high", "low"]


def test_the_latest_note_shows_under_the_customers_words(admin_client_acme: Client) -> None:
    case = Case.objects.get(response=ingest(name="Noted"))
    now = timezone.now()
    do_add_note(case, text="Left a voicemail.", now=now - timedelta(hours=1))
    do_add_note(case, text="Spoke; reinstalling tonight.", spoke_to_customer=True, now=now)
    page = admin_client_acme.get("/responses/").content.decode()
    assert "Spoke; reinstalling tonight." in page and "(Spoke? Yes)" in page
    assert "Left a voicemail." not in page
