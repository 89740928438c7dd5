"""ingest_responses: validation, idempotency, quarantine, supersede, customers, fixing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from closeloop.actions.fix_response import fix_response
from closeloop.actions.ingest import ingest_response, ingest_responses
from closeloop.alerts.models import Alert
from closeloop.feedback.models import Customer, Response
from closeloop.feedback.store import RejectedInput
from closeloop.org.models import Organization
from closeloop.org.stamp import stamp
from tests import factories

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
pytestmark = pytest.mark.usefixtures("acme")


def body(**overrides: Any) -> dict[str, Any]:
    """A content customer, with every field the contract allows (`overrides` replace top-level fields)."""
    fields: dict[str, Any] = {
        "answers": {"ease": 7, "completed": True, "factors": ["Speed"], "comment": "Fine."},
        "external_id": "sm-1",
        "submitted_at": "2026-11-23T10:04:00Z",
        "ticket": "T-1001",
        "customer": {
            "id": "C-77",
            "name": "Pat Lee",
            "email": "pat@example.com",
            "phone": "+15555550123",
            "tier": "Gold",
            "contact_ok": True,
        },
        "interviewer_notes": "",
        "interviewer_flag": False,
        "audio_url": "https://recordings.example.com/88213.mp3",
    }
    return factories.response_body(**(fields | overrides))


def rejected_locs(item: dict[str, Any]) -> dict[tuple, str]:
    with pytest.raises(RejectedInput) as info:
        ingest_response(item, source="test", now=NOW)
    return {tuple(e.loc): e.msg for e in info.value.errors}


def test_a_valid_response_is_stored_with_its_customer_and_overall_score() -> None:
    result = ingest_response(body(), source="api", now=NOW)
    response = Response.objects.get(pk=result.response.pk)
    assert result.created
    assert response.status == "valid" and response.problems == []
    assert response.unit.code == "SUP-EMEA" and response.agent.key == "dave"
    assert response.submitted_at == datetime(2026, 11, 23, 10, 4, tzinfo=UTC)
    assert response.received_at == NOW and response.valid_since == NOW
    assert response.overall == 7.0
    assert response.audio_url.endswith("88213.mp3")
    assert response.customer.external_id == "C-77" and response.customer.tier == "Gold"


def test_the_same_external_id_again_is_a_replay_and_stores_nothing_new() -> None:
    first = ingest_response(body(), source="api", now=NOW)
    again = ingest_response(body(answers={"ease": 1}), source="api", now=NOW + timedelta(minutes=5))
    assert not again.created
    assert again.response.pk == first.response.pk
    assert Response.objects.count() == 1
    assert Response.objects.get().answers["ease"] == 7


def test_duplicates_inside_one_batch_are_replays_of_the_first() -> None:
    results = ingest_responses([body(), body()], source="file", now=NOW)
    assert [r.created for r in results] == [True, False]
    assert results[0].response.pk == results[1].response.pk
    assert Response.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "loc", "message"),
    [
        ({"survey": "nope"}, ("survey",), "unknown survey 'nope'"),
        ({"answers": {"speed": 3}}, ("answers", "speed"), "unknown question 'speed'"),
        ({"answers": {"ease": 11}}, ("answers", "ease"), "11 is above the maximum 10"),
        ({"answers": {"ease": 0}}, ("answers", "ease"), "0 is below the minimum 1"),
        ({"answers": {"ease": "7"}}, ("answers", "ease"), "expected a number"),
        ({"answers": {"ease": True}}, ("answers", "ease"), "expected a number"),
        ({"answers": {"completed": "no"}}, ("answers", "completed"), "expected true or false"),
        ({"answers": {"channel": "Fax"}}, ("answers", "channel"), "'Fax' is not one of the options"),
        ({"answers": {"factors": "Speed"}}, ("answers", "factors"), "expected a list"),
        ({"answers": {"factors": ["Magic"]}}, ("answers", "factors"), "'Magic' not among the options"),
        ({"answers": {"comment": 42}}, ("answers", "comment"), "expected text"),
        ({"answers": []}, ("answers",), "dictionary"),
        ({"submitted_at": "yesterday"}, ("submitted_at",), "datetime"),
        ({"interviewer_flag": "yes"}, ("interviewer_flag",), "boolean"),
        ({"audio_url": "ftp://x/y.mp3"}, ("audio_url",), "http(s) URL"),
        ({"external_id": ""}, ("external_id",), "at least 1 character"),
        ({"colour": "blue"}, ("colour",), "unknown field"),
    ],
)
def test_bad_input_is_rejected_naming_the_field_and_nothing_is_stored(
    changes: dict[str, Any], loc: tuple, message: str
) -> None:
    errors = rejected_locs(body(**changes))
    assert loc in errors, errors
    assert message in errors[loc]
    assert Response.objects.count() == 0 and Customer.objects.count() == 0


def test_nps_answers_must_be_whole_numbers_from_0_to_10() -> None:
    item = body(survey="relationship", answers={"recommend": 11})
    assert "above the maximum 10" in rejected_locs(item)[("answers", "recommend")]
    assert (
        "whole number"
        in rejected_locs(body(survey="relationship", answers={"recommend": 7.5}))[("answers", "recommend")]
    )


@pytest.mark.parametrize("missing", ["survey", "external_id", "answers"])
def test_required_fields(missing: str) -> None:
    item = body()
    del item[missing]
    assert rejected_locs(item)[(missing,)] == "Field required"


def test_customer_fields_are_checked() -> None:
    errors = rejected_locs(body(customer={"id": "C-1", "email": "not-an-email", "contact_ok": "yes"}))
    assert "not an email address" in errors[("customer", "email")]
    assert ("customer", "contact_ok") in errors
    assert rejected_locs(body(customer={"name": "No Id"}))[("customer", "id")] == "Field required"


def test_every_bad_field_is_reported_at_once() -> None:
    errors = rejected_locs(body(answers={"ease": 99, "completed": "x", "nope": 1}))
    assert set(errors) == {("answers", "ease"), ("answers", "completed"), ("answers", "nope")}


def test_a_batch_stores_the_good_items_and_reports_the_bad_ones() -> None:
    results = ingest_responses(
        [body(external_id="a"), body(external_id="b", answers={"ease": 42}), body(external_id="c", ticket="T-2")],
        source="file",
        now=NOW,
    )
    assert [type(r).__name__ for r in results] == ["IngestResult", "RejectedInput", "IngestResult"]
    assert sorted(Response.objects.values_list("external_id", flat=True)) == ["a", "c"]


def test_not_a_json_object_is_rejected() -> None:
    (outcome,) = ingest_responses(["just a string"], source="file", now=NOW)  # type: ignore[list-item]
    assert isinstance(outcome, RejectedInput)
    assert outcome.errors[0].msg == "expected a JSON object"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"unit": "ATLANTIS"}, "unit: unknown unit 'ATLANTIS'"),
        ({"unit": None}, "unit: missing"),
        ({"segment": "GOV"}, "segment: unknown segment 'GOV'"),
    ],
)
def test_unknown_unit_or_segment_quarantines_the_response_without_alerts(changes: dict[str, Any], problem: str) -> None:
    result = ingest_response(body(answers={"ease": 1, "completed": False}, **changes), source="api", now=NOW)
    response = result.response
    assert result.created
    assert response.status == "invalid" and response.valid_since is None
    assert any(p.startswith(problem) for p in response.problems), response.problems
    assert not Alert.objects.exists()
    assert not response.needs_recovery


@pytest.mark.parametrize("segment", [None, ""])
def test_a_response_without_a_segment_is_valid_and_alerts_when_segments_are_configured(segment: str | None) -> None:
    result = ingest_response(body(answers={"ease": 1, "completed": False}, segment=segment), source="api", now=NOW)
    response = result.response
    assert response.status == "valid" and response.problems == []
    assert response.segment == ""
    assert [a.rule_key for a in Alert.objects.filter(response=response)] == ["install-failed"]
    assert response.needs_recovery


def test_segment_required_quarantines_a_response_without_a_segment() -> None:
    Organization.objects.filter(pk=1).update(segment_required=True)
    stamp()
    response = ingest_response(body(answers={"ease": 1, "completed": False}, segment=None), source="api", now=NOW)
    assert response.response.status == "invalid"
    assert response.response.problems == ["segment: missing; one of ENT, SMB is required"]
    assert not Alert.objects.exists()


def test_segment_required_still_accepts_a_known_segment() -> None:
    Organization.objects.filter(pk=1).update(segment_required=True)
    stamp()
    response = ingest_response(body(segment="ENT"), source="api", now=NOW).response
    assert response.status == "valid"


def test_fixing_a_quarantined_response_evaluates_it_as_if_it_had_just_arrived() -> None:
    response = ingest_response(
        body(unit="ATLANTIS", answers={"ease": 2, "completed": False}), source="api", now=NOW
    ).response
    later = NOW + timedelta(hours=3)
    fixed = fix_response(response, {"unit": "SUP-EMEA"}, now=later)
    assert fixed.status == "valid" and fixed.problems == [] and fixed.valid_since == later
    assert fixed.unit.code == "SUP-EMEA" and fixed.unit_code == "SUP-EMEA"
    alert = Alert.objects.get(response=fixed, rule_key="install-failed")
    assert alert.created_at == later
    assert Response.objects.get(pk=fixed.pk).needs_recovery


def test_a_fix_naming_an_unknown_unit_or_segment_is_rejected_and_changes_nothing() -> None:
    response = ingest_response(body(unit="ATLANTIS"), source="api", now=NOW).response
    with pytest.raises(RejectedInput) as info:
        fix_response(response, {"unit": "NARNIA", "segment": "GOV"}, now=NOW)
    assert {e.loc for e in info.value.errors} == {("unit",), ("segment",)}
    with pytest.raises(RejectedInput):
        fix_response(response, {"colour": "red"}, now=NOW)
    with pytest.raises(RejectedInput, match="nothing to change"):
        fix_response(response, {}, now=NOW)
    assert Response.objects.get(pk=response.pk).unit_code == "ATLANTIS"


def test_a_fix_that_leaves_a_problem_keeps_the_response_quarantined() -> None:
    response = ingest_response(body(unit="ATLANTIS", segment="GOV"), source="api", now=NOW).response
    still = fix_response(response, {"unit": "SUP-UK"}, now=NOW)
    assert still.status == "invalid"
    assert still.problems == ["segment: unknown segment 'GOV'"]
    assert fix_response(still, {"segment": "ENT"}, now=NOW).status == "valid"


def test_a_new_response_for_the_same_ticket_supersedes_the_earlier_one() -> None:
    first = ingest_response(body(external_id="sm-1"), source="api", now=NOW).response
    second = ingest_response(body(external_id="sm-2"), source="api", now=NOW + timedelta(hours=1)).response
    first.refresh_from_db()
    assert first.superseded_by_id == second.pk
    assert second.superseded_by_id is None
    # A different survey with the same ticket number is another conversation.
    other = ingest_response(
        body(survey="relationship", external_id="nps-1", answers={"recommend": 9}), source="api", now=NOW
    ).response
    assert other.superseded_by_id is None
    second.refresh_from_db()
    assert second.superseded_by_id is None


def test_several_resubmissions_in_one_batch_form_a_chain() -> None:
    results = ingest_responses(
        [body(external_id="v1"), body(external_id="v2"), body(external_id="v3")], source="file", now=NOW
    )
    v1, v2, v3 = (Response.objects.get(pk=r.response.pk) for r in results)
    assert (v1.superseded_by_id, v2.superseded_by_id, v3.superseded_by_id) == (v2.pk, v3.pk, None)


def test_audio_is_kept_only_with_the_customers_consent() -> None:
    customer = {"id": "C-9", "name": "Quiet Person", "contact_ok": False}
    response = ingest_response(body(customer=customer), source="api", now=NOW).response
    assert response.audio_url == ""


def test_customers_are_upserted_by_id_and_blank_fields_do_not_erase() -> None:
    ingest_response(body(external_id="a"), source="api", now=NOW)
    ingest_response(
        body(external_id="b", ticket="T-2", customer={"id": "C-77", "name": "Pat Lee-Smith", "tier": "Silver"}),
        source="api",
        now=NOW + timedelta(days=1),
    )
    customer = Customer.objects.get()
    assert (customer.name, customer.tier, customer.email) == ("Pat Lee-Smith", "Silver", "pat@example.com")
    assert customer.contact_ok is False  # consent follows the latest answer
    assert customer.updated_at == NOW + timedelta(days=1)


def test_a_time_without_offset_is_read_in_the_organisations_time_zone() -> None:
    response = ingest_response(body(submitted_at="2026-11-23T10:04:00"), source="api", now=NOW).response
    assert response.submitted_at == datetime(2026, 11, 23, 15, 4, tzinfo=UTC)  # New York is UTC-5 in November


def test_submitted_at_defaults_to_now() -> None:
    item = body()
    del item["submitted_at"]
    assert ingest_response(item, source="api", now=NOW).response.submitted_at == NOW


def test_an_unknown_agent_is_kept_as_written_without_invalidating_the_response() -> None:
    response = ingest_response(body(agent="ghost"), source="api", now=NOW).response
    assert response.status == "valid" and response.agent is None and response.agent_code == "ghost"
