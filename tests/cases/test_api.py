"""/api/v1/cases as an integrator sees it: list, detail, views, notes, status, assignment, visibility."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from closeloop.api.models import ApiToken, hash_token
from closeloop.cases.models import Case
from closeloop.org.models import Person

from .conftest import NOW, case_of, ingest

pytestmark = pytest.mark.usefixtures("acme")


class Api:
    def __init__(self, *scopes: str, person: str | None = None) -> None:
        secret = ApiToken.generate()
        ApiToken.objects.create(
            name=f"t-{secret[3:9]}",
            token_hash=hash_token(secret),
            hint=secret[:8],
            scopes=list(scopes),
            person=Person.objects.get(key=person) if person else None,
        )
        self.headers = {"Authorization": f"Bearer {secret}"}
        self.client = Client()

    def get(self, path: str, **query: Any) -> Any:
        return self.client.get(f"/api/v1{path}", query, headers=self.headers)

    def send(self, method: str, path: str, body: Any = None) -> Any:
        return self.client.generic(
            method, f"/api/v1{path}", json.dumps(body or {}), content_type="application/json", headers=self.headers
        )


@pytest.fixture
def case() -> Case:
    return case_of(ingest(tier="Gold"))


def test_a_case_has_every_documented_field(case: Case) -> None:
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        body = Api("read").get(f"/cases/{case.pk}").json()
    assert body["id"] == case.pk and body["response"] == case.response_id
    assert (body["unit"], body["category"], body["severity"], body["tier"]) == (
        "SUP-EMEA",
        "Installation issues",
        "urgent",
        "Gold",
    )
    assert (body["status"], body["state"], body["overdue"], body["resolution"]) == ("Open", "open", False, None)
    assert body["opened_at"].startswith("2026-11-23T15:00:00") and body["due_at"].startswith("2026-11-24T15:00:00")
    assert (body["owner"], body["managers"], body["members"]) == (None, ["erin", "rita"], ["dave"])
    for name in ("viewed_at", "contacted_at", "closed_at"):
        assert body[name] is None
    assert body["escalation_level"] == 0
    assert [e["type"] for e in body["events"]] == ["opened", "notified"]
    assert set(body["events"][0]) >= {"at", "type", "actor", "data"}


def test_the_response_names_its_case_and_notes(case: Case) -> None:
    api = Api("read", "write", person="erin")
    api.send("POST", f"/cases/{case.pk}/notes", {"text": "Called Pat.", "spoke_to_customer": True})
    body = api.get(f"/responses/{case.response_id}").json()
    assert body["case"] == case.pk
    assert [(n["text"], n["spoke_to_customer"], n["author"]) for n in body["notes"]] == [
        ("Called Pat.", True, "Erin Diaz")
    ]


def test_overdue_is_computed_at_read_time(case: Case) -> None:
    api = Api("read")
    with time_machine.travel(NOW + timedelta(hours=25), tick=False):
        assert api.get(f"/cases/{case.pk}").json()["overdue"] is True
        assert [c["id"] for c in api.get("/cases", overdue="true").json()["items"]] == [case.pk]
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        assert api.get("/cases", overdue="true").json()["count"] == 0


def test_the_list_filters_by_state_and_unit_subtree(case: Case) -> None:
    other = case_of(ingest(unit="SUP-US"))
    api = Api("read", "write")
    assert [c["id"] for c in api.get("/cases", unit="EMEA").json()["items"]] == [case.pk]
    assert api.get("/cases", unit="ACME").json()["count"] == 2
    api.send("POST", f"/cases/{other.pk}/status", {"status": "Closed", "resolution": "resolved"})
    assert [c["id"] for c in api.get("/cases", state="closed").json()["items"]] == [other.pk]
    assert api.get("/cases", unit="NOPE").status_code == 422


def test_a_lead_sees_only_the_cases_of_their_subtree(case: Case) -> None:
    other = case_of(ingest(unit="SUP-US"))
    erin = Api("read", person="erin")
    assert [c["id"] for c in erin.get("/cases").json()["items"]] == [case.pk]
    assert erin.get(f"/cases/{other.pk}").status_code == 404
    # Ursula leads SUP-US only; the CEO's subtree is everything.
    assert [c["id"] for c in Api("read", person="ursula").get("/cases").json()["items"]] == [other.pk]
    assert Api("read", person="ceo").get("/cases").json()["count"] == 2


def test_a_view_records_the_tokens_person(case: Case) -> None:
    body = Api("read", "write", person="dave").send("POST", f"/cases/{case.pk}/views").json()
    assert body["viewed_at"] is not None
    assert [e["actor"] for e in body["events"] if e["type"] == "viewed"] == ["dave"]


def test_posting_a_note_answers_201_and_notes_cannot_be_changed(case: Case) -> None:
    api = Api("read", "write", person="dave")
    created = api.send("POST", f"/cases/{case.pk}/notes", {"text": "Left a voicemail.", "spoke_to_customer": False})
    assert created.status_code == 201
    note = created.json()
    assert (note["text"], note["author"], note["by"]) == ("Left a voicemail.", "Dave Agent", "dave")
    for method in ("DELETE", "PUT", "PATCH"):
        for path in (f"/cases/{case.pk}/notes/{note['id']}", f"/cases/{case.pk}/notes"):
            answer = api.send(method, path, {"text": "changed"})
            assert answer.status_code == 405, (method, path)
            assert "detail" in answer.json()
    assert api.get(f"/cases/{case.pk}/notes/{note['id']}").json()["text"] == "Left a voicemail."
    assert api.get(f"/cases/{case.pk}/notes").json()["count"] == 1


def test_a_note_needs_text_and_the_write_scope(case: Case) -> None:
    assert Api("read", "write").send("POST", f"/cases/{case.pk}/notes", {"text": ""}).status_code == 422
    assert Api("read").send("POST", f"/cases/{case.pk}/notes", {"text": "hi"}).status_code == 403


def test_only_managers_and_admins_may_close(case: Case) -> None:
    url = f"/cases/{case.pk}/status"
    denied = Api("read", "write", person="dave").send("POST", url, {"status": "Closed", "resolution": "resolved"})
    assert denied.status_code == 403 and denied.json()["detail"]
    missing = Api("read", "write", person="erin").send("POST", url, {"status": "Closed"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["loc"] == ["resolution"]
    assert Api("read", "write", person="erin").send("POST", url, {"status": "Nope"}).status_code == 422
    closed = Api("read", "write", person="erin").send(
        "POST", url, {"status": "Closed", "resolution": "unresolved", "note": "No luck."}
    )
    body = closed.json()
    assert closed.status_code == 200 and (body["state"], body["resolution"], body["escalation_level"]) == (
        "closed",
        "unresolved",
        2,
    )
    assert {"note", "closed", "escalated"} <= {e["type"] for e in body["events"]}


def test_assigning_an_owner(case: Case) -> None:
    api = Api("read", "write", person="erin")
    body = api.send("POST", f"/cases/{case.pk}/assign", {"owner": "dave"}).json()
    assert body["owner"] == "dave"
    assert api.send("POST", f"/cases/{case.pk}/assign", {"owner": "nobody"}).status_code == 422


def test_the_cases_endpoints_are_in_the_openapi_document() -> None:
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/cases", "/api/v1/cases/{case_id}", "/api/v1/cases/{case_id}/notes"} <= set(paths)
