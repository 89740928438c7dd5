"""A customer's data on cases: their cases with every timeline event, and erasing the customer's words from
the notes (the one change the append-only timeline allows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from closeloop.cases.models import Case, CaseEvent

ERASED = "erased"


def cases_data(response_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The cases of these responses with their timelines, as stored."""
    cases = Case.objects.filter(response_id__in=response_ids).select_related("unit").order_by("opened_at")
    return [
        {
            "id": case.pk,
            "response": case.response_id,
            "unit": case.unit.code,
            "category": case.category,
            "status": case.status,
            "state": case.state,
            "opened_at": case.opened_at.isoformat(),
            "closed_at": case.closed_at.isoformat() if case.closed_at else None,
            "resolution": case.resolution,
            "events": [
                {"at": event.at.isoformat(), "type": event.type, "actor_name": event.actor_name, "data": event.data}
                for event in case.events.order_by("at", "id")
            ],
        }
        for case in cases
    ]


def erase_case_words(response_ids: Sequence[int]) -> list[int]:
    """Replace what was written about the customer in the notes of their cases; returns the case ids.

    The timeline keeps every event, its time, type and author: only the words become "erased"."""
    case_ids = list(Case.objects.filter(response_id__in=response_ids).values_list("id", flat=True))
    notes = CaseEvent.objects.filter(case_id__in=case_ids, type=CaseEvent.Type.NOTE, redacted=False)
    CaseEvent.objects.redact({note.pk: {**note.data, "text": ERASED} for note in notes})
    return case_ids
