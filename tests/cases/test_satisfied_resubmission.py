"""A resubmission that no longer needs recovery stops the clock: the case says the customer is now satisfied,
pending escalations stop and the team is told; a manager closes it, or the template closes it by itself."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
import yaml
from django.core.management import call_command

from closeloop.cases.models import Case
from closeloop.config.export import export_config
from closeloop.notify.models import Delivery
from tests.helpers import ApiClient, apply_acme, create_token
from tests.web.conftest import login_as

from .conftest import NOW, case_of, ingest

HAPPY = {"ease": 9, "completed": True, "comment": "Sorted now, thanks."}


def tick(at) -> None:
    call_command("tick", "--at", at.isoformat(), stdout=io.StringIO())


@pytest.mark.usefixtures("acme")
def test_a_satisfied_resubmission_records_it_stops_the_escalations_and_tells_the_team() -> None:
    case = case_of(ingest(tier="Bronze", ticket="T-300"))
    assert case.next_escalation_at is not None
    ingest(HAPPY, tier="Bronze", ticket="T-300", at=NOW + timedelta(hours=5))
    case.refresh_from_db()
    assert (case.state, case.satisfied_at, case.next_escalation_at) == ("open", NOW + timedelta(hours=5), None)
    event = case.events.get(type="satisfied")
    assert event.data["text"] == "customer now satisfied (score 9)"
    told = Delivery.objects.filter(ref=f"case:{case.pk}", subject__startswith="Customer now satisfied")
    assert sorted(told.values_list("person__key", flat=True)) == ["dave", "erin", "rita"]
    assert "customer now satisfied (score 9)" in told.first().text
    tick(NOW + timedelta(days=5))
    assert not case.events.filter(type="escalated").exists()


@pytest.mark.usefixtures("acme")
def test_the_satisfied_case_stays_open_for_a_manager_to_close() -> None:
    case = case_of(ingest(ticket="T-301"))
    ingest(HAPPY, ticket="T-301", at=NOW + timedelta(hours=1))
    body = ApiClient(create_token(["read"])).get(f"/api/v1/cases/{case.pk}").json()
    assert (body["state"], body["satisfied_at"]) == ("open", "2026-11-23T16:00:00Z")
    assert [e["type"] for e in body["events"]][-3:] == ["moved", "satisfied", "notified"]
    page = login_as("erin").get(f"/cases/{case.pk}").content.decode()
    assert "Customer now satisfied (score 9)" in page


@pytest.mark.usefixtures("acme")
def test_unhappy_again_starts_the_clock_again() -> None:
    case = case_of(ingest(tier="Bronze", ticket="T-302"))
    ingest(HAPPY, tier="Bronze", ticket="T-302", at=NOW + timedelta(hours=1))
    ingest(tier="Bronze", ticket="T-302", at=NOW + timedelta(hours=2))
    case.refresh_from_db()
    assert case.satisfied_at is None
    assert case.next_escalation_at == NOW + timedelta(hours=24)
    assert case.events.filter(type="moved").last().data["unsatisfied_again"] is True


def auto_close(data: dict[str, Any]) -> None:
    data["case_templates"][0]["auto_close_on_recovered"] = True


def test_with_auto_close_the_case_closes_itself_as_resolved(db: None) -> None:
    apply_acme(auto_close)
    case = case_of(ingest(ticket="T-303"))
    ingest(HAPPY, ticket="T-303", at=NOW + timedelta(hours=2))
    case.refresh_from_db()
    assert (case.state, case.resolution, case.status, case.closed_at) == (
        "closed",
        "resolved",
        "Closed",
        NOW + timedelta(hours=2),
    )
    assert case.events.get(type="closed").data == {
        "from": "Open",
        "to": "Closed",
        "resolution": "resolved",
        "reason": "customer satisfied",
    }


def test_auto_close_is_kept_by_export(db: None) -> None:
    apply_acme(auto_close)
    assert yaml.safe_load(export_config())["case_templates"][0]["auto_close_on_recovered"] is True
    assert apply_acme(auto_close).lines() == ["no changes"]


@pytest.mark.usefixtures("acme")
def test_a_still_unhappy_resubmission_is_no_satisfaction() -> None:
    case = case_of(ingest(ticket="T-304"))
    ingest({"ease": 2, "completed": False}, ticket="T-304", at=NOW + timedelta(hours=1))
    assert not Case.objects.get(pk=case.pk).events.filter(type="satisfied").exists()
