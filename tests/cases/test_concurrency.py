"""Two simultaneous posts about one ticket never produce two cases (PostgreSQL: real concurrent writers)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from closeloop.actions.ingest import ingest_response
from closeloop.cases.escalation import escalate_due
from closeloop.cases.models import Case
from closeloop.feedback.models import Response
from tests import factories
from tests.helpers import race

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def item(external_id: str, ticket: str = "T-77") -> dict[str, Any]:
    """A failed installation by the same Gold customer, who left no way to reach them."""
    return factories.response_body(
        {"ease": 2, "completed": False},
        at=NOW,
        external_id=external_id,
        ticket=ticket,
        customer={"id": "C-77", "name": "Pat Lee", "tier": "Gold"},
        agent=None,
    )


@pytest.mark.parametrize("attempt", range(3))
def test_the_same_post_twice_at_once_opens_one_case(acme: None, attempt: int) -> None:
    errors = race([lambda: ingest_response(item("sm-1"), source="api", now=NOW) for _ in range(4)])
    assert errors == []
    assert Response.objects.count() == 1 and Case.objects.count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_two_surveys_of_one_ticket_at_once_leave_one_case_on_the_current_response(acme: None, attempt: int) -> None:
    errors = race([lambda n=n: ingest_response(item(f"sm-{n}"), source="api", now=NOW) for n in range(4)])
    assert errors == []
    current = Response.objects.get(superseded_by__isnull=True)
    assert Case.objects.count() == 1 and Case.objects.get().response == current


def test_two_workers_fire_each_escalation_step_once(acme: None) -> None:
    for n in range(20):
        ingest_response(item(f"w-{n}", ticket=f"W-{n}"), source="api", now=NOW)
    later = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    errors = race([lambda: escalate_due(later), lambda: escalate_due(later)])
    assert errors == []
    while escalate_due(later):
        pass
    for case in Case.objects.all():
        fired = [event.data["step"] for event in case.events.filter(type="escalated")]
        assert sorted(fired) == sorted(set(fired)) == [0, 3]
