"""A survey tool's webhook with a text rule on: the words are judged with no transaction open, and the event is
claimed and stored once, as an API post's are."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
import yaml
from django.db import transaction

from closeloop.alerts import detection
from closeloop.config.apply import apply_config
from closeloop.feedback.models import Response
from closeloop.intake.models import HookDelivery
from closeloop.textmodel import Judge, Judgement, Voice
from tests.connectors.tool_api import FakeApi
from tests.intake.conftest import hooks_config, payload, post_hook

TYPEFORM = payload("typeform_form_response.json")
# Asks the model about every Typeform answer with words, whatever its score.
WORDS_RULE = {
    "key": "what-they-said",
    "name": "What the customer said",
    "kind": "watch",
    "survey": "upgrade-install",
    "when": {"any": [{"text": "unhappy"}, {"text": "praise"}]},
    "category": "Words",
    "severity": "low",
    "notify": {"to": ["unit_leads"], "mode": "digest"},
}


@pytest.fixture
def judged(tool_api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, list[Voice]]]:
    """Acme's sources with the words rule; each call of the judge, with whether a transaction was open."""
    document = yaml.safe_load(hooks_config(tool_api.base))
    document["rules"].append(WORDS_RULE)
    apply_config(yaml.safe_dump(document, sort_keys=False))
    seen: list[tuple[bool, list[Voice]]] = []
    real = detection.organization_judge

    def spy(organization: Any) -> Judge:
        inner = real(organization)

        class Recording:
            model, version = inner.model, inner.version

            @property
            def reference(self) -> Any:
                return inner.reference

            def embed(self, texts: Sequence[str]) -> Any:
                return inner.embed(texts)

            def judge(self, voices: Sequence[Voice]) -> list[Judgement]:
                seen.append((transaction.get_connection().in_atomic_block, list(voices)))
                return inner.judge(voices)

        return Recording()  # type: ignore[return-value]

    monkeypatch.setattr(detection, "organization_judge", spy)
    return seen


@pytest.mark.django_db(transaction=True)
def test_a_hooks_words_are_judged_before_its_transaction_and_its_event_is_stored_once(
    text_model: Judge, judged: list[tuple[bool, list[Voice]]]
) -> None:
    reply = post_hook("install-typeform", TYPEFORM)
    assert (reply.status, reply.body["outcome"]) == (200, "stored")
    response = Response.objects.get()
    words = response.answers["comment"]
    # First with no transaction open (the model at work), then inside the claim's transaction run again,
    # from the judge's cache.
    assert judged == [(False, [(words,)]), (True, [(words,)])]
    assert response.text_judgement["customer"]["model"] == text_model.model
    assert list(HookDelivery.objects.values_list("outcome", flat=True)) == ["stored"]
    # The tool retries the same event: a duplicate, judged by nobody.
    again = post_hook("install-typeform", TYPEFORM)
    assert (again.status, again.body["outcome"]) == (200, "duplicate")
    assert Response.objects.count() == 1
    assert len(judged) == 2
