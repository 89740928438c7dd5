"""Keeping what the text model heard with the response it heard it in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from closeloop.feedback.models import Response


def keep_text_judgements(responses: Sequence[Response], judgements: Mapping[int, dict[str, Any]]) -> int:
    """Store each response's new judgement (by response id) on it, in memory and in the database; returns how many.

    A later judgement of the same response (its words completed by a later delivery) replaces the earlier one.
    """
    changed = []
    for response in responses:
        judgement = judgements.get(response.pk)
        if judgement is not None and judgement != response.text_judgement:
            response.text_judgement = judgement
            changed.append(response)
    if changed:
        Response.objects.bulk_update(changed, ["text_judgement"], batch_size=500)
    return len(changed)


def without_words(judgement: Mapping[str, Any], erased: str) -> dict[str, Any]:
    """A kept judgement with the customer's words taken out (erasure): what was heard stays, what was said goes."""
    return {
        voice: {**heard, "reason": erased, "explanation": []} if isinstance(heard, Mapping) else heard
        for voice, heard in judgement.items()
    }
