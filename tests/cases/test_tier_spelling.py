"""A customer's tier is put into the configuration's spelling once, at ingest, so rules and SLAs agree."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import yaml

from closeloop.config.apply import apply_config
from tests.conftest import FIXTURES
from tests.helpers import ApiClient, create_token

pytestmark = pytest.mark.usefixtures("acme")


@pytest.fixture
def client() -> ApiClient:
    return ApiClient(create_token(["ingest", "read"]))


def failed_install(client: ApiClient, tier: str, n: int = 1) -> dict[str, Any]:
    body = {
        "survey": "upgrade-install",
        "external_id": f"tier-{n}",
        "unit": "SUP-EMEA",
        "segment": "SMB",
        "customer": {"id": f"C-{n}", "tier": tier, "contact_ok": True},
        "answers": {"ease": 8, "completed": False},
    }
    response = client.post("/api/v1/responses", body)
    assert response.status_code == 201, response.json()
    return response.json()


def case_of(client: ApiClient, created: dict[str, Any]) -> dict[str, Any]:
    return client.get(f"/api/v1/cases/{created['case']}").json()


def goal(case: dict[str, Any]) -> timedelta:
    return datetime.fromisoformat(case["due_at"]) - datetime.fromisoformat(case["opened_at"])


@pytest.mark.parametrize("sent", ["gold", "GOLD", " Gold", "Gold"])
def test_a_gold_customer_in_any_case_gets_the_gold_sla(client, sent):
    created = failed_install(client, sent)
    assert created["customer"]["tier"] == "Gold"
    assert created["problems"] == []
    case = case_of(client, created)
    assert (case["tier"], case["severity"], goal(case)) == ("Gold", "urgent", timedelta(hours=24))


def test_the_stored_customer_keeps_the_configured_spelling(client):
    failed_install(client, "silver", n=5)
    case = case_of(client, failed_install(client, "SILVER", n=6))
    assert (case["tier"], case["severity"], goal(case)) == ("Silver", "high", timedelta(hours=48))


def test_an_unknown_tier_is_kept_listed_in_problems_and_the_response_stays_valid(client):
    created = failed_install(client, "Platinum")
    assert created["status"] == "valid"
    assert created["problems"] == ["customer.tier: unknown tier 'Platinum'"]
    assert created["customer"]["tier"] == "Platinum"
    case = case_of(client, created)
    assert (case["tier"], case["severity"], goal(case)) == ("Platinum", "normal", timedelta(hours=72))


def test_tiers_named_only_by_a_rule_are_configured_tiers_too(client):
    data = yaml.safe_load((FIXTURES / "acme.yaml").read_text())
    data["rules"].append(
        {
            "key": "vip-watch",
            "name": "VIP said something",
            "kind": "watch",
            "when": {"customer": {"tier": ["Diamond"]}},
            "category": "VIP",
            "severity": "low",
        }
    )
    apply_config(yaml.safe_dump(data))
    created = failed_install(client, "diamond")
    assert created["customer"]["tier"] == "Diamond"
    assert created["problems"] == []
    assert sorted(alert["rule"] for alert in created["alerts"]) == ["install-failed", "vip-watch"]


def test_without_any_configured_tier_no_tier_is_a_problem(client):
    data = yaml.safe_load((FIXTURES / "acme.yaml").read_text())
    data["case_templates"][0]["sla"] = {"default": {"severity": "normal", "closure_goal": "72h"}}
    apply_config(yaml.safe_dump(data))
    created = failed_install(client, "whatever")
    assert (created["customer"]["tier"], created["problems"]) == ("whatever", [])
