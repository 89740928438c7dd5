"""Scopes and tenancy through the API: a replay shows nothing the caller may not read, a ticket's case stays
in its unit, and a token limited to units (`token create --units`) submits and reads there only."""

from __future__ import annotations

from typing import Any

import pytest

from closeloop.alerts.models import Alert
from closeloop.cases.models import Case
from closeloop.cases.services import do_add_note
from closeloop.feedback.models import Response
from closeloop.org.models import Person
from tests.helpers import ApiClient, create_token

pytestmark = pytest.mark.usefixtures("acme")

LIST = "/api/v1/responses"
SECRET_WORDS = "Pat said the new version wiped her data."


def body(external_id: str = "sm-1", *, unit: str = "SUP-US", ticket: str = "T-1", **changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "survey": "upgrade-install",
        "external_id": external_id,
        "unit": unit,
        "ticket": ticket,
        "customer": {
            "id": "C-77",
            "name": "Pat Lee",
            "email": "pat@example.com",
            "phone": "+15555550123",
            "tier": "Gold",
            "contact_ok": True,
        },
        "answers": {"ease": 2, "completed": False, "comment": "It failed twice."},
        "interviewer_notes": "Sounded close to cancelling.",
    }
    item.update(changes)
    return item


def token(*scopes: str, units: list[str] | None = None, person: str | None = None) -> ApiClient:
    owner = Person.objects.get(key=person) if person else None
    return ApiClient(create_token(list(scopes), owner, units=units))


def us_case_with_a_note() -> Response:
    """SUP-US's failed installation for ticket T-1, its case worked on by the unit's lead."""
    created = token("ingest").post(LIST, body())
    assert created.status_code == 201, created.json()
    response = Response.objects.get(pk=created.json()["id"])
    case = Case.objects.get(response=response)
    do_add_note(case, text=SECRET_WORDS, actor=Person.objects.get(key="ursula"), now=case.opened_at)
    return response


# --- 1. a replay reveals nothing the caller may not read -------------------------------------------------


def test_a_replay_to_an_ingest_only_token_answers_only_the_id_and_the_status() -> None:
    stored = us_case_with_a_note()
    replay = token("ingest").post(LIST, body(answers={"ease": 9}))
    assert replay.status_code == 200
    assert replay.json() == {"id": stored.pk, "status": "valid"}
    assert "Pat Lee" not in replay.content.decode() and SECRET_WORDS not in replay.content.decode()


def test_a_replay_to_a_reader_of_other_units_answers_only_the_id_and_the_status() -> None:
    stored = us_case_with_a_note()
    erin = token("ingest", "read", person="erin")  # leads SUP-EMEA only
    assert erin.get(f"{LIST}/{stored.pk}").status_code == 404
    replay = erin.post(LIST, body(unit="SUP-EMEA"))
    assert (replay.status_code, replay.json()) == (200, {"id": stored.pk, "status": "valid"})
    limited = token("ingest", "read", units=["SUP-EMEA"])
    assert limited.post(LIST, body(unit="SUP-EMEA")).json() == {"id": stored.pk, "status": "valid"}


def test_a_replay_to_a_reader_who_may_see_the_response_answers_it_in_full() -> None:
    stored = us_case_with_a_note()
    for reader in (
        token("ingest", "read"),
        token("ingest", "read", person="ursula"),
        token("ingest", "read", units=["AMER"]),
    ):
        replay = reader.post(LIST, body())
        assert replay.status_code == 200
        full = replay.json()
        assert (full["id"], full["customer"]["name"], full["notes"][0]["text"]) == (stored.pk, "Pat Lee", SECRET_WORDS)


def test_a_response_that_takes_over_a_tickets_case_shows_its_notes_only_to_a_reader() -> None:
    us_case_with_a_note()
    resubmitted = token("ingest").post(LIST, body("sm-2", answers={"ease": 3, "completed": False}))
    assert resubmitted.status_code == 201
    assert resubmitted.json()["case"] is not None and resubmitted.json()["notes"] == []
    again = token("ingest", "read").post(LIST, body("sm-3", answers={"ease": 3, "completed": False}))
    assert [note["text"] for note in again.json()["notes"]] == [SECRET_WORDS]


# --- 2. the ticket rule stays inside its unit ------------------------------------------------------------


def test_another_units_ticket_is_not_taken_over_its_case_stays_and_the_conflict_is_listed() -> None:
    earlier = us_case_with_a_note()
    case = Case.objects.get(response=earlier)
    emea = token("ingest", "read", units=["SUP-EMEA"])
    posted = emea.post(LIST, body("emea-1", unit="SUP-EMEA"))
    assert posted.status_code == 201
    new = posted.json()
    assert new["status"] == "valid" and new["notes"] == []
    conflict = [problem for problem in new["problems"] if problem.startswith("ticket:")]
    assert conflict == [
        "ticket: 'T-1' was answered before in another unit, which this sender may not submit for; "
        "this response does not replace that one"
    ]
    # The problem names neither the other unit nor its response (the exact words above): only the ticket sent.
    earlier.refresh_from_db()
    case.refresh_from_db()
    assert earlier.superseded_by_id is None
    assert (case.response_id, case.unit.code) == (earlier.pk, "SUP-US")
    # The new response is a response of its own: its own case, in its own unit.
    own = Case.objects.get(response_id=new["id"])
    assert own.unit.code == "SUP-EMEA" and own.pk != case.pk


def test_a_resubmission_in_the_same_unit_replaces_the_earlier_response_for_a_limited_token() -> None:
    earlier = us_case_with_a_note()
    case = Case.objects.get(response=earlier)
    posted = token("ingest", units=["SUP-US"]).post(LIST, body("sm-2", answers={"ease": 3, "completed": False}))
    assert not [problem for problem in posted.json()["problems"] if problem.startswith("ticket:")]
    earlier.refresh_from_db()
    case.refresh_from_db()
    assert earlier.superseded_by_id == posted.json()["id"] == case.response_id


@pytest.mark.parametrize("units", [["SUP-EMEA", "SUP-US"], ["ACME"], None], ids=["both", "above-both", "no-units"])
def test_a_moved_ticket_is_taken_over_by_a_token_that_may_write_both_units(units: list[str] | None) -> None:
    earlier = us_case_with_a_note()
    case = Case.objects.get(response=earlier)
    posted = token("ingest", units=units).post(LIST, body("emea-1", unit="SUP-EMEA"))
    assert posted.status_code == 201
    earlier.refresh_from_db()
    case.refresh_from_db()
    assert earlier.superseded_by_id == posted.json()["id"]
    assert (case.response_id, case.unit.code) == (posted.json()["id"], "SUP-EMEA")


def test_a_limited_tokens_quarantined_response_does_not_take_over_a_ticket() -> None:
    earlier = us_case_with_a_note()
    posted = token("ingest", units=["SUP-EMEA"]).post(LIST, body("lost-1", unit="ATLANTIS"))
    assert posted.json()["status"] == "invalid"
    earlier.refresh_from_db()
    assert earlier.superseded_by_id is None


def test_after_a_conflict_each_unit_keeps_replacing_its_own_response_of_the_ticket() -> None:
    earlier = us_case_with_a_note()
    emea = token("ingest", units=["SUP-EMEA"])
    first = emea.post(LIST, body("emea-1", unit="SUP-EMEA")).json()
    second = emea.post(LIST, body("emea-2", unit="SUP-EMEA")).json()
    assert not [problem for problem in second["problems"] if problem.startswith("ticket:")]
    assert Response.objects.get(pk=first["id"]).superseded_by_id == second["id"]
    us_again = token("ingest", units=["SUP-US"]).post(LIST, body("us-2")).json()
    earlier.refresh_from_db()
    assert earlier.superseded_by_id == us_again["id"]
    assert Response.objects.get(pk=second["id"]).superseded_by_id is None


# --- 4. tokens limited to units --------------------------------------------------------------------------


def test_a_limited_token_is_refused_a_response_for_another_unit_with_403_naming_the_unit() -> None:
    answer = token("ingest", units=["SUP-EMEA", "SUP-UK"]).post(LIST, body(unit="SUP-US"))
    assert answer.status_code == 403
    message = "this token may submit responses for SUP-EMEA, SUP-UK only, not 'SUP-US'"
    assert answer.json() == {"detail": f"unit: {message}.", "errors": [{"loc": ["unit"], "msg": message}]}
    assert Response.objects.count() == 0 and Alert.objects.count() == 0


def test_a_limited_token_submits_for_its_units_and_the_units_below_them() -> None:
    emea = token("ingest", units=["EMEA"])
    assert emea.post(LIST, body("a", unit="SUP-EMEA")).status_code == 201
    assert emea.post(LIST, body("b", unit="SUP-UK", ticket="T-2")).status_code == 201
    assert emea.post(LIST, body("c", unit="AMER", ticket="T-3")).status_code == 403


def test_a_replay_for_another_unit_is_refused_like_any_post_for_it() -> None:
    stored = us_case_with_a_note()
    answer = token("ingest", "read", units=["SUP-EMEA"]).post(LIST, body())
    assert answer.status_code == 403
    assert "Pat Lee" not in answer.content.decode() and str(stored.pk) not in answer.json()["detail"]


def test_a_limited_token_reads_nothing_outside_its_units() -> None:
    us = us_case_with_a_note()
    emea_response = token("ingest").post(LIST, body("emea-1", unit="SUP-EMEA", ticket="T-9")).json()
    quarantined = token("ingest").post(LIST, body("lost-1", unit="ATLANTIS", ticket="T-8")).json()
    reader = token("read", "write", units=["SUP-EMEA"])
    assert reader.get(f"{LIST}/{us.pk}").status_code == 404
    assert reader.get(f"{LIST}/{quarantined['id']}").status_code == 404
    assert [item["id"] for item in reader.get(LIST).json()["items"]] == [emea_response["id"]]
    us_case = Case.objects.get(response=us)
    assert reader.get(f"/api/v1/cases/{us_case.pk}").status_code == 404
    assert {case["unit"] for case in reader.get("/api/v1/cases").json()["items"]} == {"SUP-EMEA"}
    assert {alert["unit"] for alert in reader.get("/api/v1/alerts").json()["items"]} == {"SUP-EMEA"}
    assert reader.post(f"/api/v1/cases/{us_case.pk}/notes", {"text": "Mine now."}).status_code == 404
    summary = reader.get("/api/v1/reports/summary").json()
    assert [row["unit"] for row in summary["by_unit"]] == ["SUP-EMEA"]


def test_a_limited_token_may_not_move_a_response_to_another_unit() -> None:
    emea_response = token("ingest").post(LIST, body("emea-1", unit="SUP-EMEA", ticket="T-9")).json()
    moved = token("read", "write", units=["SUP-EMEA"]).patch(f"{LIST}/{emea_response['id']}", {"unit": "SUP-US"})
    assert moved.status_code == 403
    assert Response.objects.get(pk=emea_response["id"]).unit.code == "SUP-EMEA"


def test_a_token_without_units_works_as_before() -> None:
    service = token("ingest", "read", "write")
    first = service.post(LIST, body())
    assert first.status_code == 201
    assert service.post(LIST, body()).json()["customer"]["name"] == "Pat Lee"
    assert service.post(LIST, body("emea-1", unit="SUP-EMEA")).status_code == 201
    assert service.get(LIST, include_superseded="true").json()["count"] == 2
