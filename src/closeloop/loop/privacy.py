"""A customer's data in the loop tables: follow-ups and purchases, and their words quoted in spike alerts
(by category and by complaint theme)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from closeloop.feedback.models import Customer
from closeloop.loop.models import Activity, FollowUp, SpikeAlert, ThemeSpike

ERASED = "erased"


def loop_data(customer: Customer, case_ids: Sequence[int]) -> dict[str, Any]:
    return {
        "follow_ups": [
            {
                "case": follow_up.case_id,
                "due_at": follow_up.due_at.isoformat() if follow_up.due_at else None,
                "sent_at": follow_up.sent_at.isoformat() if follow_up.sent_at else None,
                "answered_at": follow_up.answered_at.isoformat() if follow_up.answered_at else None,
                "answer": follow_up.answer,
            }
            for follow_up in FollowUp.objects.filter(case_id__in=case_ids).order_by("pk")
        ],
        "activity": [
            {"date": a.date.isoformat(), "kind": a.kind, "amount": str(a.amount) if a.amount is not None else None}
            for a in Activity.objects.filter(customer=customer).order_by("date", "pk")
        ],
    }


def _erased(examples: Sequence[dict[str, Any]] | None, wanted: set[int]) -> list[dict[str, Any]]:
    return [
        {**example, "text": ERASED} if example.get("response") in wanted and example.get("text") else example
        for example in examples or []
    ]


def erase_quotes(response_ids: Sequence[int]) -> int:
    """Replace the customer's words quoted as examples in spike alerts; returns how many alerts changed."""
    wanted = set(response_ids)
    by_category = []
    for spike in SpikeAlert.objects.all():
        examples = _erased(spike.examples, wanted)
        if examples != spike.examples:
            spike.examples = examples
            by_category.append(spike)
    SpikeAlert.objects.bulk_update(by_category, ["examples"])
    by_theme = []
    for theme in ThemeSpike.objects.all():
        examples = _erased(theme.examples, wanted)
        if examples != theme.examples:
            theme.examples = examples
            by_theme.append(theme)
    ThemeSpike.objects.bulk_update(by_theme, ["examples"])
    return len(by_category) + len(by_theme)
