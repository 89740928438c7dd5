"""The unit's own calendar is the calendar of its cases: closure goals and escalation delays count its working
hours and its country's public holidays (the worked example of docs/cases.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from closeloop.cases.escalation import escalate_due
from tests.helpers import apply_acme

from .conftest import case_of, ingest

PARIS = ZoneInfo("Europe/Paris")
# Wednesday 13 May 2026, 16:00 in Paris; Thursday 14 May is Ascension Day, a public holiday in France.
WEDNESDAY_1600 = datetime(2026, 5, 13, 16, 0, tzinfo=PARIS)


def french_unit(data: dict[str, Any]) -> None:
    data["organization"]["calendars"]["paris-office"] = {
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "09:00",
        "end": "17:00",
        "holidays": "FR",
    }
    emea = data["units"][0]["children"][0]
    emea["children"].append(
        {"code": "SUP-FR", "name": "Support France", "time_zone": "Europe/Paris", "calendar": "paris-office"}
    )
    data["people"].append(
        {
            "id": "fanny",
            "name": "Fanny Fr",
            "email": "fanny@acme.example",
            "roles": [{"unit": "SUP-FR", "role": "lead"}],
        }
    )
    template = data["case_templates"][0]
    template["sla"]["Gold"]["closure_goal"] = "8h"
    # The template counts in the US office's hours; the French unit's own calendar takes precedence.
    template["calendar"] = "office"
    data["escalation_policies"][0]["steps"][0]["after"] = "8h"


@pytest.fixture
def france(db: None) -> None:
    apply_acme(french_unit)


@pytest.mark.usefixtures("france")
def test_a_french_unit_follows_french_working_days_and_holidays() -> None:
    case = case_of(ingest(unit="SUP-FR", at=WEDNESDAY_1600))
    assert case.calendar == "paris-office" and case.sla["calendar"] == "paris-office"
    # One hour on Wednesday, none on Ascension Day, seven on Friday.
    assert case.due_at == datetime(2026, 5, 15, 16, 0, tzinfo=PARIS)


@pytest.mark.usefixtures("france")
def test_after_8h_on_an_office_calendar_is_one_working_day() -> None:
    case = case_of(ingest(unit="SUP-FR", at=WEDNESDAY_1600, tier="Bronze"))
    friday_1600 = datetime(2026, 5, 15, 14, 0, tzinfo=UTC)
    assert case.next_escalation_at == friday_1600
    assert escalate_due(friday_1600 - timedelta(seconds=1)) == 0
    assert escalate_due(friday_1600) == 1
    assert case.events.get(type="escalated").data["when"] == "not_viewed"


@pytest.mark.usefixtures("france")
def test_a_unit_without_a_calendar_uses_the_templates() -> None:
    # SUP-EMEA has no calendar of its own (nor has EMEA): the template's US office applies, in London time.
    case = case_of(ingest(unit="SUP-EMEA", at=datetime(2026, 5, 13, 16, 0, tzinfo=ZoneInfo("Europe/London"))))
    assert case.calendar == "office"
    assert case.due_at == datetime(2026, 5, 14, 16, 0, tzinfo=ZoneInfo("Europe/London"))


def test_without_any_calendar_the_delays_are_wall_clock_time(acme: None) -> None:
    case = case_of(ingest(unit="SUP-EMEA", at=datetime(2026, 5, 13, 14, 0, tzinfo=UTC), tier="Bronze"))
    assert case.calendar == ""
    assert case.next_escalation_at == datetime(2026, 5, 14, 14, 0, tzinfo=UTC)


def test_the_unit_calendar_is_inherited_from_above(db: None) -> None:
    def emea_office(data: dict[str, Any]) -> None:
        data["units"][0]["children"][0]["calendar"] = "office"

    apply_acme(emea_office)
    # SUP-EMEA has no calendar; its parent EMEA has the office one.
    case = case_of(ingest(unit="SUP-EMEA", at=datetime(2026, 11, 27, 16, 0, tzinfo=ZoneInfo("Europe/London"))))
    assert case.calendar == "office"
    # A Gold case (24 h of working time) opened Friday 16:00 in London: one hour on Friday, eight on Monday and
    # Tuesday, seven on Wednesday.
    assert case.due_at == datetime(2026, 12, 2, 16, 0, tzinfo=ZoneInfo("Europe/London"))
