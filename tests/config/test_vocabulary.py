"""The configuration file speaks the product's one vocabulary (closeloop.core.vocabulary)."""

from __future__ import annotations

from typing import get_args

import pytest

from closeloop.config import schema
from closeloop.core import vocabulary


@pytest.mark.parametrize(
    ("literal", "words"),
    [
        (schema.Severity, vocabulary.SEVERITIES),
        (schema.Channel, vocabulary.CHANNELS),
        (schema.AlertKind, vocabulary.ALERT_KINDS),
        (schema.QuestionType, vocabulary.QUESTION_TYPES),
        (schema.EscalationTrigger, vocabulary.ESCALATION_TRIGGERS),
        (schema.WebhookEvent, vocabulary.WEBHOOK_EVENTS),
    ],
)
def test_the_file_accepts_exactly_the_vocabularys_words(literal: object, words: tuple[str, ...]) -> None:
    assert get_args(literal) == words
