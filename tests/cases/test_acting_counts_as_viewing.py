"""Acting on a case counts as viewing it; a note that spoke to the customer, or a status the template marks
`contacted: true`, counts as contacting them. No "nobody has opened it" escalation about a worked case."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
import yaml
from django.core.management import call_command

from closeloop.cases.models import Case
from closeloop.cases.services import do_add_note, do_assign, do_change_status
from closeloop.config.apply import ConfigInvalid
from closeloop.config.export import export_config
from closeloop.org.models import Person
from tests.helpers import ApiClient, apply_acme, create_token
from tests.web.conftest import login_as

from .conftest import NOW, case_of, ingest


def person(key: str) -> Person:
    return Person.objects.get(key=key)


def tick(at) -> None:
    call_command("tick", "--at", at.isoformat(), stdout=io.StringIO())


def not_viewed_steps(case: Case) -> list[int]:
    return [e.data["step"] for e in case.events.filter(type="escalated") if e.data["when"] == "not_viewed"]


@pytest.mark.usefixtures("acme")
@pytest.mark.parametrize(
    "act",
    [
        lambda case, at: do_add_note(case, text="Left a voicemail.", actor=person("dave"), now=at),
        lambda case, at: do_change_status(case, status="Pending", actor=person("erin"), now=at),
        lambda case, at: do_assign(case, owner=person("dave"), actor=person("erin"), now=at),
    ],
    ids=["note", "status", "assign"],
)
def test_any_action_by_the_team_sets_viewed_at_and_stops_not_viewed(act: Any) -> None:
    case = case_of(ingest(tier="Bronze"))
    act(case, NOW + timedelta(hours=2))
    case.refresh_from_db()
    assert case.viewed_at == NOW + timedelta(hours=2)
    assert case.events.filter(type="viewed").count() == 1
    tick(NOW + timedelta(hours=80))
    assert not_viewed_steps(case) == []


@pytest.mark.usefixtures("acme")
def test_an_action_through_the_api_counts_as_the_tokens_persons_view() -> None:
    case = case_of(ingest(tier="Bronze"))
    dave = ApiClient(create_token(["read", "write"], person("dave")))
    body = dave.post(f"/api/v1/cases/{case.pk}/notes", {"text": "Voicemail."})
    assert body.status_code == 201
    detail = dave.get(f"/api/v1/cases/{case.pk}").json()
    assert detail["viewed_at"] is not None and detail["contacted_at"] is None
    assert [(e["type"], e["actor"]) for e in detail["events"] if e["type"] == "viewed"] == [("viewed", "dave")]


@pytest.mark.usefixtures("acme")
def test_an_action_through_the_web_counts_as_viewing_without_opening_the_page() -> None:
    case = case_of(ingest(tier="Bronze"))
    answer = login_as("erin").post(f"/cases/{case.pk}/notes", {"author": "Erin Diaz", "text": "Called, no answer."})
    assert answer.status_code == 302
    case.refresh_from_db()
    assert case.viewed_at is not None


@pytest.mark.usefixtures("acme")
def test_an_action_by_someone_outside_the_team_is_not_the_teams_view() -> None:
    case = case_of(ingest(tier="Bronze"))
    do_add_note(case, text="Please call back today.", actor=person("admin"), now=NOW + timedelta(hours=1))
    case.refresh_from_db()
    assert case.viewed_at is None


@pytest.mark.usefixtures("acme")
def test_a_note_that_spoke_to_the_customer_sets_both() -> None:
    case = case_of(ingest(tier="Bronze"))
    do_add_note(case, text="Spoke to Pat.", spoke_to_customer=True, actor=person("erin"), now=NOW + timedelta(hours=1))
    case.refresh_from_db()
    assert (case.viewed_at, case.contacted_at) == (NOW + timedelta(hours=1), NOW + timedelta(hours=1))


def contacted_status(data: dict[str, Any]) -> None:
    data["case_templates"][0]["statuses"] = ["Open", {"name": "Contacted", "contacted": True}, "Closed"]


@pytest.fixture
def contacted_template(db: None) -> None:
    apply_acme(contacted_status)


@pytest.mark.usefixtures("contacted_template")
def test_a_status_marked_contacted_sets_contacted_at_and_stops_not_contacted() -> None:
    case = case_of(ingest(tier="Bronze"))
    assert case.statuses == ["Open", "Contacted", "Closed"] and case.contacted_statuses == ["Contacted"]
    do_change_status(case, status="Contacted", actor=person("erin"), now=NOW + timedelta(hours=5))
    case.refresh_from_db()
    assert (case.viewed_at, case.contacted_at) == (NOW + timedelta(hours=5), NOW + timedelta(hours=5))
    assert case.events.get(type="status").data == {"from": "Open", "to": "Contacted", "contacted": True}
    tick(NOW + timedelta(hours=60))
    assert not case.events.filter(type="escalated").exists()


@pytest.mark.usefixtures("contacted_template")
def test_the_api_shows_plain_status_names_and_export_writes_the_mapping_back() -> None:
    case = case_of(ingest(tier="Bronze"))
    body = ApiClient(create_token(["read"])).get(f"/api/v1/cases/{case.pk}").json()
    assert body["statuses"] == ["Open", "Contacted", "Closed"]
    exported = yaml.safe_load(export_config())
    assert exported["case_templates"][0]["statuses"] == ["Open", {"name": "Contacted", "contacted": True}, "Closed"]
    assert apply_acme(contacted_status).lines() == ["no changes"]


@pytest.mark.usefixtures("acme")
def test_plain_status_names_do_not_contact_the_customer() -> None:
    case = case_of(ingest(tier="Bronze"))
    do_change_status(case, status="Pending", actor=person("erin"), now=NOW + timedelta(hours=5))
    case.refresh_from_db()
    assert case.contacted_at is None and case.contacted_statuses == []


def test_a_status_mapping_with_an_unknown_key_is_refused_naming_it(db: None) -> None:
    def bad(data: dict[str, Any]) -> None:
        data["case_templates"][0]["statuses"] = ["Open", {"name": "Contacted", "reached": True}, "Closed"]

    with pytest.raises(ConfigInvalid) as caught:
        apply_acme(bad)
    assert caught.value.problems == ["case_templates[0].statuses[1].reached: unknown key"]
