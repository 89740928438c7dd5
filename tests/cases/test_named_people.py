"""Everyone a case names can open it and act as their part allows, also without any role in its unit: the
people its template names, its owner, and everyone an escalation reached. Their "mine" lists it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from closeloop.cases.escalation import escalate_due
from closeloop.cases.models import Case
from closeloop.org.models import Person
from tests.helpers import ApiClient, apply_acme, create_token

from .conftest import NOW, case_of, ingest


def outsiders(data: dict[str, Any]) -> None:
    """Three people without any role: a manager and a member named by the template, and a quality lead
    whom the `not_viewed` escalation names."""
    data["people"] += [
        {"id": "olga", "name": "Olga Outside", "email": "olga@acme.example"},
        {"id": "mia", "name": "Mia Member", "email": "mia@acme.example"},
        {"id": "quinn", "name": "Quinn Quality", "email": "quinn@acme.example"},
    ]
    template = data["case_templates"][0]
    template["team"]["managers"].append({"person": "olga"})
    template["team"]["members"].append({"person": "mia"})
    data["escalation_policies"][0]["steps"][0]["notify"].append({"person": "quinn"})


@pytest.fixture
def named(db: None) -> Case:
    apply_acme(outsiders)
    return case_of(ingest(tier="Bronze"))


def api(key: str | None, *scopes: str) -> ApiClient:
    person = Person.objects.get(key=key) if key else None
    return ApiClient(create_token(list(scopes) or ["read", "write"], person))


def test_a_manager_named_by_the_template_without_any_role_reads_and_closes_the_case(named: Case) -> None:
    olga = api("olga")
    body = olga.get(f"/api/v1/cases/{named.pk}").json()
    assert (body["id"], "olga" in body["managers"]) == (named.pk, True)
    assert olga.get(f"/api/v1/responses/{named.response_id}").status_code == 200
    assert olga.post(f"/api/v1/cases/{named.pk}/notes", {"text": "Called Pat."}).status_code == 201
    closed = olga.post(f"/api/v1/cases/{named.pk}/status", {"status": "Closed", "resolution": "resolved"})
    assert (closed.status_code, closed.json()["state"]) == (200, "closed")


def test_a_member_named_by_the_template_contributes_but_may_not_close(named: Case) -> None:
    mia = api("mia")
    assert mia.get(f"/api/v1/cases/{named.pk}").status_code == 200
    assert mia.post(f"/api/v1/cases/{named.pk}/notes", {"text": "Left a voicemail."}).status_code == 201
    assert mia.post(f"/api/v1/cases/{named.pk}/status", {"status": "Pending"}).json()["status"] == "Pending"
    refused = mia.post(f"/api/v1/cases/{named.pk}/status", {"status": "Closed", "resolution": "resolved"})
    assert refused.status_code == 403


def test_someone_the_case_does_not_name_still_gets_404(named: Case) -> None:
    quinn = api("quinn")
    assert quinn.get(f"/api/v1/cases/{named.pk}").status_code == 404
    assert quinn.get(f"/api/v1/responses/{named.response_id}").status_code == 404
    assert quinn.get("/api/v1/cases").json()["count"] == 0


def test_a_member_without_a_role_in_the_unit_can_own_the_case_someone_outside_the_team_cannot(named: Case) -> None:
    assert api("erin").post(f"/api/v1/cases/{named.pk}/assign", {"owner": "mia"}).json()["owner"] == "mia"
    assert api("mia").post(f"/api/v1/cases/{named.pk}/notes", {"text": "On it."}).status_code == 201
    ursula = api("ursula")  # leads SUP-US only: not in this case's team
    refused = api("erin").post(f"/api/v1/cases/{named.pk}/assign", {"owner": "ursula"})
    assert (refused.status_code, refused.json()["errors"][0]["loc"]) == (422, ["owner"])
    assert ursula.get(f"/api/v1/cases/{named.pk}").status_code == 404


def test_a_person_an_escalation_reached_reads_it_acts_on_it_and_finds_it_in_mine(named: Case) -> None:
    quinn = api("quinn")
    escalate_due(NOW + timedelta(hours=24))
    body = quinn.get(f"/api/v1/cases/{named.pk}").json()
    assert body["escalated_to_you"] == {
        "level": None,
        "when": "not_viewed",
        "reason": "nobody in the team had opened it",
        "at": "2026-11-24T15:00:00Z",
        "step": 0,
    }
    assert quinn.post(f"/api/v1/cases/{named.pk}/notes", {"text": "Chasing the team."}).status_code == 201
    assert (
        quinn.post(f"/api/v1/cases/{named.pk}/status", {"status": "Closed", "resolution": "resolved"}).status_code
        == 403
    )
    mine = quinn.get("/api/v1/cases", mine="true").json()
    assert [c["id"] for c in mine["items"]] == [named.pk]


def test_mine_lists_the_cases_escalated_to_a_regional_lead_with_the_level_and_why(acme: None) -> None:
    case = case_of(ingest(tier="Bronze"))
    ceo = api("ceo", "read")
    # The CEO sees every unit, but none of the cases is theirs to work on until one is escalated to them.
    assert ceo.get("/api/v1/cases", mine="true").json()["count"] == 0
    escalate_due(NOW + timedelta(hours=72))
    [item] = ceo.get("/api/v1/cases", mine="true").json()["items"]
    assert item["id"] == case.pk
    assert (item["escalated_to_you"]["level"], item["escalated_to_you"]["when"]) == (2, "not_viewed")
    # Rita is a manager by the template and the level-1 lead: hers both ways, told at level 1.
    [rita_item] = api("rita", "read").get("/api/v1/cases", mine="true").json()["items"]
    assert rita_item["escalated_to_you"]["level"] == 1


def test_mine_false_leaves_out_the_cases_that_name_the_person(acme: None) -> None:
    emea = case_of(ingest())
    uk = case_of(ingest(unit="SUP-UK"))
    # Erin leads SUP-EMEA only: its case is hers. The CEO sees both and is named on neither.
    assert api("erin", "read").get("/api/v1/cases", mine="false").json()["count"] == 0
    others = api("ceo", "read").get("/api/v1/cases", mine="false").json()["items"]
    assert [c["id"] for c in others] == [uk.pk, emea.pk]


def test_mine_needs_a_token_with_a_person(acme: None) -> None:
    answer = ApiClient(create_token(["read"])).get("/api/v1/cases", mine="true")
    assert answer.status_code == 422 and answer.json()["errors"][0]["loc"] == ["mine"]
