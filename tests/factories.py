"""The one way the suite makes a survey response: the body a survey tool posts, and that body ingested.

Every test module's builder is a preset of these two functions (its own answers and customer defaults,
a prefix that keeps its external ids apart), so a change to what a response looks like is made here once.
The body is for the Acme organisation of `tests/fixtures/acme.yaml` (and the ORM organisation of
`tests/api/conftest.py`, which has the same survey).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from closeloop.actions.ingest import ingest_response
from closeloop.feedback.models import Response

# A Monday, 10:00 in New York.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
# A Gold customer in SUP-EMEA could not install the upgrade: a recovery alert and an urgent case.
FAILED_INSTALL: dict[str, Any] = {"ease": 2, "completed": False, "comment": "It failed twice."}
# Keywords of `response_body` that set a field of the customer, and which.
CUSTOMER_FIELDS = {
    "customer_id": "id",
    "name": "name",
    "email": "email",
    "phone": "phone",
    "tier": "tier",
    "contact_ok": "contact_ok",
}

_numbers = itertools.count(1)


def next_number() -> int:
    """A number no other response of this test run has, for ids, tickets and customer keys."""
    return next(_numbers)


def response_body(
    answers: dict[str, Any] | None = None,
    *,
    at: datetime = NOW,
    prefix: str = "r",
    n: int | None = None,
    customer: dict[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A response to `upgrade-install` as a survey tool posts it (a failed installation unless `answers` says
    otherwise), numbered `n` (the next free number by default).

    `customer_id`, `name`, `email`, `phone`, `tier` and `contact_ok` set the customer's fields, `customer`
    replaces the whole customer; every other keyword sets the top-level field. A value of None leaves the field out.
    """
    n = next_number() if n is None else n
    person: dict[str, Any] = {
        "id": f"C-{n}",
        "name": "Pat Lee",
        "email": "pat@example.com",
        "phone": "+15555550123",
        "tier": "Gold",
        "contact_ok": True,
    }
    for keyword, field in CUSTOMER_FIELDS.items():
        if keyword in fields:
            person[field] = fields.pop(keyword)
    body: dict[str, Any] = {
        "survey": "upgrade-install",
        "external_id": f"{prefix}-{n}",
        "submitted_at": at.isoformat(),
        "unit": "SUP-EMEA",
        "segment": "SMB",
        "agent": "dave",
        "ticket": f"T-{n}",
        "customer": customer if customer is not None else {k: v for k, v in person.items() if v is not None},
        "answers": dict(FAILED_INSTALL) if answers is None else answers,
    }
    body.update(fields)
    if body["customer"] == {}:
        del body["customer"]
    return {key: value for key, value in body.items() if value is not None}


def ingest(
    answers: dict[str, Any] | None = None,
    *,
    at: datetime = NOW,
    source: str = "test",
    now: datetime | None = None,
    **fields: Any,
) -> Response:
    """`response_body(answers, at=at, **fields)` through the ingest action, received at `now` (`at` by default)."""
    body = response_body(answers, at=at, **fields)
    return ingest_response(body, source=source, now=now or at).response
