"""Which supported language a sentence is in, from its function words ("the", "le", "el", "der").

Good enough for the two things that need it, and cheap: letting VADER, whose lexicon is English,
read only English sentences (its "die" and "war" are German articles and verbs), and quoting a
prototype in the customer's own language. The judgement itself never depends on it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib import resources

import yaml

from closeloop.core import text as core_text


@functools.cache
def function_words() -> dict[str, frozenset[str]]:
    raw = yaml.safe_load(resources.files("closeloop.textmodel").joinpath("data/function_words.yaml").read_text("utf-8"))
    return {language: frozenset(core_text.normalise(str(word)) for word in words) for language, words in raw.items()}


def counts(words: Sequence[str]) -> dict[str, int]:
    return {language: sum(word in vocabulary for word in words) for language, vocabulary in function_words().items()}


def guess_language(text: str) -> str | None:
    """The language with the most function words in the text; None when none has any or two tie."""
    found = counts(core_text.tokens(text))
    ranked = sorted(found.values(), reverse=True)
    if not ranked or ranked[0] == 0 or (len(ranked) > 1 and ranked[0] == ranked[1]):
        return None
    return max(found, key=found.__getitem__)


def reads_as_english(words: Sequence[str]) -> bool:
    """At least as many English function words as any other language's (a sentence without any counts)."""
    found = counts(words)
    english = found.pop("en")
    return all(english >= count for count in found.values())
