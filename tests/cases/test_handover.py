"""When the configuration changes who leads or works in a unit, its open cases get the new team."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from closeloop.cases.models import Case
from closeloop.cases.services import do_change_status
from closeloop.config.apply import apply_config
from closeloop.notify.models import Delivery
from closeloop.org.models import Person
from tests.helpers import ApiClient, acme_data, apply_acme, create_token, person_entry
from tests.web.conftest import login_as

from .conftest import NOW, case_of, ingest

pytestmark = pytest.mark.usefixtures("acme")


def nina_takes_over(data: dict[str, Any]) -> None:
    """Nina becomes the lead of SUP-EMEA; Erin stays on as a member."""
    data["people"].append(
        {
            "id": "nina",
            "name": "Nina New",
            "email": "nina@acme.example",
            "roles": [{"unit": "SUP-EMEA", "role": "lead"}],
        }
    )
    person_entry(data, "erin")["roles"] = [{"unit": "SUP-EMEA", "role": "member"}]


def team(case: Case) -> tuple[list[str], list[str]]:
    return sorted(case.managers.values_list("key", flat=True)), sorted(case.members.values_list("key", flat=True))


def test_a_new_lead_takes_over_the_open_cases_and_the_old_one_loses_the_right_to_close() -> None:
    case = case_of(ingest())
    assert team(case) == (["erin", "rita"], ["dave"])

    plan = apply_acme(nina_takes_over)

    assert team(case) == (["nina", "rita"], ["dave", "erin"])
    assert plan.handed_over == 1 and "cases: 1 open case got a new team" in plan.lines()
    event = case.events.get(type="team_changed")
    assert event.data == {
        "reason": "organisation changed",
        "managers": ["nina", "rita"],
        "members": ["dave", "erin"],
        "managers_added": ["nina"],
        "managers_removed": ["erin"],
        "members_added": ["erin"],
        "members_removed": [],
    }
    assert "New team: managers nina, rita" in login_as("rita").get(f"/cases/{case.pk}").content.decode()
    # Nina is told she has the case; nobody else is.
    told = Delivery.objects.filter(ref=f"case:{case.pk}", subject__startswith="New team")
    assert list(told.values_list("person__key", flat=True)) == ["nina"]
    erin = ApiClient(create_token(["read", "write"], Person.objects.get(key="erin")))
    refused = erin.post(f"/api/v1/cases/{case.pk}/status", {"status": "Closed", "resolution": "resolved"})
    assert refused.status_code == 403
    nina = ApiClient(create_token(["read", "write"], Person.objects.get(key="nina")))
    assert (
        nina.post(f"/api/v1/cases/{case.pk}/status", {"status": "Closed", "resolution": "resolved"}).status_code == 200
    )


def test_applying_the_same_file_again_hands_nothing_over() -> None:
    case = case_of(ingest())
    apply_acme(nina_takes_over)
    again = apply_acme(nina_takes_over)
    assert again.handed_over == 0 and again.lines() == ["no changes"]
    assert case.events.filter(type="team_changed").count() == 1


def test_a_lead_named_by_the_template_keeps_managing() -> None:
    case = case_of(ingest())

    def rita_steps_down(data: dict[str, Any]) -> None:
        person_entry(data, "rita")["roles"] = []
        data["people"].append({"id": "rob", "name": "Rob Region", "roles": [{"unit": "EMEA", "role": "lead"}]})

    apply_acme(rita_steps_down)
    # `{person: rita}` in the template still names her, whatever her role.
    assert team(case) == (["erin", "rita"], ["dave"])
    assert not case.events.filter(type="team_changed").exists()


def test_closed_cases_and_other_units_keep_their_team() -> None:
    closed = case_of(ingest())
    do_change_status(closed, status="Closed", resolution="resolved", actor=None, now=NOW)
    elsewhere = case_of(ingest(unit="SUP-US"))
    apply_acme(nina_takes_over)
    assert team(closed) == (["erin", "rita"], ["dave"])
    assert team(elsewhere) == (["rita", "ursula"], ["dave"])
    assert not Case.objects.filter(events__type="team_changed").exists()


def test_someone_who_leaves_the_organisation_leaves_the_open_cases() -> None:
    case = case_of(ingest())

    def dave_leaves(data: dict[str, Any]) -> None:
        data["people"] = [p for p in data["people"] if p["id"] != "dave"]
        data["case_templates"][0]["team"]["members"] = ["unit_members"]

    apply_acme(dave_leaves)
    assert team(case) == (["erin", "rita"], [])
    assert case.events.get(type="team_changed").data["members_removed"] == ["dave"]


def test_a_dry_run_hands_nothing_over() -> None:
    case = case_of(ingest())
    data = acme_data()
    nina_takes_over(data)
    plan = apply_config(yaml.safe_dump(data), dry_run=True)
    assert plan.handed_over == 0
    assert team(case) == (["erin", "rita"], ["dave"])
