"""Posting responses the way a survey tool does, for the case tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from closeloop.actions.ingest import ingest_response
from closeloop.cases.models import Case
from closeloop.feedback.models import Response

# A Monday, 10:00 in New York.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
_numbers = itertools.count(1)


def ingest(
    answers: dict[str, Any] | None = None,
    *,
    at: datetime = NOW,
    tier: str | None = "Gold",
    unit: str = "SUP-EMEA",
    ticket: str | None = None,
    external_id: str | None = None,
    **extra: Any,
) -> Response:
    """A failed installation (unless `answers` says otherwise) from a customer of `tier`."""
    n = next(_numbers)
    customer: dict[str, Any] = {"id": f"C-{n}", "name": "Pat Lee", "email": "pat@example.com", "contact_ok": True}
    if tier is not None:
        customer["tier"] = tier
    item: dict[str, Any] = {
        "survey": "upgrade-install",
        "external_id": external_id or f"sm-{n}",
        "submitted_at": at.isoformat(),
        "unit": unit,
        "segment": "SMB",
        "agent": "dave",
        "ticket": ticket or f"T-{n}",
        "customer": customer,
        "answers": answers if answers is not None else {"ease": 7, "completed": False, "comment": "It failed twice."},
    }
    item.update(extra)
    return ingest_response(item, source="test", now=at).response


def case_of(response: Response) -> Case:
    return Case.objects.select_related("unit").get(response=response)


@pytest.fixture
def failed_install(acme: None) -> Case:
    """An open case: a Gold customer in SUP-EMEA could not install the upgrade (lead erin, levels rita, ceo)."""
    return case_of(ingest())
