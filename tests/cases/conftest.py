"""Posting responses the way a survey tool does, for the case tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from closeloop.cases.models import Case
from closeloop.feedback.models import Response
from tests import factories
from tests.factories import NOW

__all__ = ["NOW", "case_of", "ingest"]


def ingest(
    answers: dict[str, Any] | None = None,
    *,
    at: datetime = NOW,
    ticket: str | None = None,
    external_id: str | None = None,
    **fields: Any,
) -> Response:
    """A failed installation (unless `answers` says otherwise) from a Gold customer without a phone; an ease of 7,
    so the failure, not the score, raises the case."""
    fields.setdefault("phone", None)
    answers = answers if answers is not None else {"ease": 7, "completed": False, "comment": "It failed twice."}
    n = factories.next_number()
    return factories.ingest(
        answers, at=at, n=n, prefix="sm", ticket=ticket or f"T-{n}", external_id=external_id or f"sm-{n}", **fields
    )


def case_of(response: Response) -> Case:
    return Case.objects.select_related("unit").get(response=response)


@pytest.fixture
def failed_install(acme: None) -> Case:
    """An open case: a Gold customer in SUP-EMEA could not install the upgrade (lead erin, levels rita, ceo)."""
    return case_of(ingest())
