"""Cutting a customer's answers into the sentences that are judged and quoted.

Sentences, not clauses: an embedding reads "friendly on the phone but nothing happened" as a
whole and weighs the contrast itself, while a quote cut at the comma would lose it. Answers
and sentences that say nothing ("n/a", "Nothing to add", "-") are dropped first, so they
neither alert anyone nor dilute a real complaint written next to them.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

import yaml

from closeloop.core import text as core_text

# A sentence ends at . ! ? … ; (and their CJK forms) followed by a space, or at a line break.
# Decimals ("3.5 stars") and URLs have no space after the dot and stay whole.
_SENTENCE_END = re.compile(r"(?<=[.!?…;。！？])\s+|[\r\n]+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Sentence:
    answer: int
    text: str
    words: int


def canonical(text: str) -> str:
    """The form that is embedded and cached: NFC, single spaces, no surrounding space.

    Case and punctuation are kept: the model reads them ("NOT happy!!"). Two spellings that
    differ only in spacing or Unicode composition are the same text and share one entry.
    """
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def digest(text: str) -> str:
    return hashlib.blake2b(canonical(text).encode("utf-8"), digest_size=16).hexdigest()


@functools.cache
def no_opinion_answers() -> frozenset[str]:
    """Normalised whole answers that carry no opinion, in every supported language."""
    raw = yaml.safe_load(resources.files("closeloop.textmodel").joinpath("data/no_opinion.yaml").read_text("utf-8"))
    return frozenset(core_text.normalise(str(answer)) for answers in raw.values() for answer in answers)


def says_nothing(answer: str) -> bool:
    """Whether an answer has no words at all or is one of the known "nothing to add" answers."""
    normalised = core_text.normalise(answer)
    return not normalised or normalised in no_opinion_answers()


def split_voice(answers: Sequence[str]) -> list[Sentence]:
    """Every sentence that says something, answer by answer, in order."""
    sentences: list[Sentence] = []
    for index, answer in enumerate(answers):
        if says_nothing(answer):
            continue
        for piece in _SENTENCE_END.split(answer):
            if says_nothing(piece):
                continue
            sentence = canonical(piece)
            sentences.append(Sentence(answer=index, text=sentence, words=len(core_text.tokens(sentence))))
    return sentences
