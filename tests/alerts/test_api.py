"""GET /api/v1/alerts: filters, visibility and the recipients of each alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from closeloop.org.models import Person
from tests import factories
from tests.helpers import ApiClient

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
pytestmark = pytest.mark.usefixtures("acme")


def post(n: int, unit: str, answers: dict[str, Any], at: datetime = NOW) -> None:
    """`answers` from an anonymous customer of `unit`, without a ticket."""
    factories.ingest(answers, at=at, external_id=f"a-{n}", unit=unit, customer={}, ticket=None)


@pytest.fixture
def alerts() -> None:
    post(1, "SUP-EMEA", {"ease": 2, "completed": False}, NOW - timedelta(days=2))
    post(2, "SUP-EMEA", {"ease": 10, "completed": True})
    post(3, "SUP-US", {"ease": 3, "completed": True, "comment": "I want a refund"})


def test_alerts_are_listed_newest_first_with_their_recipients(api_as: Any, alerts: None) -> None:
    page = api_as("read").get("/api/v1/alerts").json()
    assert page["count"] == 3 and page["next"] is None
    assert [a["rule"] for a in page["items"]] == ["churn-words", "kudos", "install-failed"]
    failed = page["items"][2]
    assert {"id", "response", "rule", "kind", "severity", "category", "unit", "created_at", "recipients"} <= set(failed)
    assert failed["created_at"] == (NOW - timedelta(days=2)).isoformat()
    assert {(r["person"], r["channel"], r["status"]) for r in failed["recipients"]} == {
        ("erin", "email", "pending"),
        ("erin", "sms", "pending"),
        ("sam", "email", "pending"),
        ("sam", "sms", "skipped"),
    }
    assert all(r["sent_at"] is None for r in failed["recipients"])


@pytest.mark.parametrize(
    ("query", "rules"),
    [
        ({"kind": "praise"}, ["kudos"]),
        ({"kind": "recovery"}, ["churn-words", "install-failed"]),
        ({"unit": "EMEA"}, ["kudos", "install-failed"]),
        ({"unit": "SUP-US"}, ["churn-words"]),
        ({"category": "At-risk customer"}, ["churn-words"]),
        ({"since": (NOW - timedelta(days=1)).isoformat()}, ["churn-words", "kudos"]),
        ({"since": "2026-11-22"}, ["churn-words", "kudos"]),
    ],
)
def test_filters(api_as: Any, alerts: None, query: dict[str, str], rules: list[str]) -> None:
    page = api_as("read").get("/api/v1/alerts", **query).json()
    assert [a["rule"] for a in page["items"]] == rules


@pytest.mark.parametrize(
    ("query", "field"), [({"kind": "panic"}, "kind"), ({"unit": "NOPE"}, "unit"), ({"since": "last week"}, "since")]
)
def test_bad_filters_are_422_naming_the_field(api_as: Any, query: dict[str, str], field: str) -> None:
    reply = api_as("read").get("/api/v1/alerts", **query)
    assert reply.status_code == 422
    assert reply.json()["errors"][0]["loc"] == [field]


def test_a_lead_sees_only_alerts_of_their_subtree(api_as: Any, alerts: None) -> None:
    rita = Person.objects.get(key="rita")
    page = api_as("read", person=rita).get("/api/v1/alerts").json()
    assert {a["unit"] for a in page["items"]} == {"SUP-EMEA"}


def test_alerts_need_the_read_scope(api_as: Any) -> None:
    assert api_as("ingest").get("/api/v1/alerts").status_code == 403
    assert ApiClient(None).get("/api/v1/alerts").status_code == 401
