"""The demo's risk-words rule hears churn and legal risk in an unhappy customer's words, not in a delighted
customer's thanks for a refund."""

from __future__ import annotations

import pytest

from closeloop.actions.ingest import ingest_response
from closeloop.alerts.models import Alert
from closeloop.config.apply import apply_config
from closeloop.demo.generate import organization_yaml
from tests.factories import NOW, next_number

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def demo() -> None:
    apply_config(organization_yaml())


def rules_for(overall: int, comment: str) -> set[str]:
    n = next_number()
    body = {
        "survey": "support-csat",
        "external_id": f"demo-rule-{n}",
        "submitted_at": NOW.isoformat(),
        "unit": "SUP-EAST",
        "segment": "HOME",
        "customer": {"id": f"D-{n}", "contact_ok": True},
        "answers": {"overall": overall, "resolved": True, "comment": comment},
    }
    response = ingest_response(body, source="test", now=NOW).response
    return set(Alert.objects.filter(response=response).values_list("rule_key", flat=True))


def test_a_delighted_customers_refund_is_no_churn_risk() -> None:
    assert "risk-words" not in rules_for(10, "The charge was refunded on the spot and I got a goodwill credit.")


@pytest.mark.parametrize("comment", ["I want a refund or I am cancelling.", "I will take this to the ombudsman."])
def test_a_middling_customer_asking_for_a_refund_or_threatening_action_is(comment: str) -> None:
    assert "risk-words" in rules_for(7, comment)
