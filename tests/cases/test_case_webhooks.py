"""Webhook endpoints may subscribe to case events as well as alerts, signed the same way (Standard Webhooks)."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook

from closeloop.cases.escalation import escalate_due
from closeloop.cases.services import do_change_status
from closeloop.config.apply import ConfigInvalid
from closeloop.notify.models import Delivery
from closeloop.org.models import Person
from closeloop.worker.runner import run_due_work
from tests.helpers import apply_acme
from tests.notify.conftest import http_sink  # noqa: F401

from .conftest import NOW, case_of, ingest

SECRET = "whsec_" + base64.b64encode(b"a shared secret of 32 bytes!!!!!").decode()


@pytest.fixture
def endpoints(db: None, http_sink: Any) -> Any:  # noqa: F811
    def hooks(data: dict[str, Any]) -> None:
        data["webhooks"] = [
            {
                "key": "crm",
                "url": f"{http_sink.base_url}/crm",
                "secret": SECRET,
                "events": ["case.opened", "case.escalated", "case.closed"],
            },
            {"key": "alerts", "url": f"{http_sink.base_url}/alerts", "secret": SECRET},
            {
                "key": "us-only",
                "url": f"{http_sink.base_url}/us",
                "secret": SECRET,
                "events": ["case.opened"],
                "units": ["SUP-US"],
            },
        ]

    apply_acme(hooks)
    return http_sink


def received(sink: Any, path: str) -> list[dict[str, Any]]:
    return [Webhook(SECRET).verify(r.body, r.headers) for r in sink.requests if r.path == path]


def test_a_subscribed_endpoint_receives_signed_case_events(endpoints: Any) -> None:
    case = case_of(ingest(tier="Bronze"))
    escalate_due(NOW + timedelta(hours=24))
    do_change_status(
        case,
        status="Closed",
        resolution="resolved",
        actor=Person.objects.get(key="erin"),
        now=NOW + timedelta(hours=25),
    )
    run_due_work(NOW + timedelta(hours=25))
    events = received(endpoints, "/crm")
    assert [e["type"] for e in events] == ["case.opened", "case.escalated", "case.closed"]
    opened = events[0]
    assert opened["case"]["id"] == case.pk and opened["case"]["unit"] == "SUP-EMEA"
    assert (
        opened["case"]["severity"] == "normal" and opened["links"]["case"] == f"http://127.0.0.1:8000/cases/{case.pk}"
    )
    assert events[1]["event"]["data"]["when"] == "not_viewed" and events[1]["case"]["escalation_level"] == 1
    assert events[2]["event"]["actor"] == "erin" and events[2]["case"]["resolution"] == "resolved"
    headers = next(r.headers for r in endpoints.requests if r.path == "/crm")
    assert headers["webhook-id"] == f"case-event:{opened['event']['id']}:webhook:crm"


def test_an_endpoint_without_events_still_gets_alerts_only(endpoints: Any) -> None:
    ingest(tier="Bronze")
    run_due_work(NOW)
    assert [e["type"] for e in received(endpoints, "/alerts")] == ["alert.created"]
    # The CRM lists no alert events: it gets the case, not the alert.
    assert [e["type"] for e in received(endpoints, "/crm")] == ["case.opened"]


def test_units_narrow_case_events_too(endpoints: Any) -> None:
    ingest(tier="Bronze")
    us_case = case_of(ingest(tier="Bronze", unit="SUP-US"))
    run_due_work(NOW)
    assert [e["case"]["id"] for e in received(endpoints, "/us")] == [us_case.pk]


def test_status_changes_and_reopening_go_only_where_subscribed(endpoints: Any) -> None:
    case = case_of(ingest(tier="Bronze"))
    do_change_status(case, status="Pending", actor=None, now=NOW + timedelta(hours=1))
    planned = Delivery.objects.filter(channel="webhook", topic="case")
    assert sorted(planned.values_list("address", flat=True)) == ["crm"]  # case.opened only so far


def test_the_config_rejects_an_unknown_event(db: None) -> None:
    def bad(data: dict[str, Any]) -> None:
        data["webhooks"] = [{"key": "x", "url": "https://x.example/h", "secret": SECRET, "events": ["case.deleted"]}]

    with pytest.raises(ConfigInvalid) as caught:
        apply_acme(bad)
    assert caught.value.problems[0].startswith("webhooks[0].events[0]: 'case.deleted' is not one of 'alert.created'")
