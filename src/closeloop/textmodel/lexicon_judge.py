"""The fallback judge, for a server without the model package: VADER plus rules.

VADER scores sentiment words (English only) and handles negation and emphasis; on its own it
misses plainly worded complaints ("still waiting", "charged twice"), so the rules add:

- complaint and praise phrases (``data/phrases.yaml``, in English, French, Spanish and
  German), counted when not negated; a complaint phrase makes its clause at least as
  negative as -0.6, a praise phrase at least as positive as +0.6;
- contrast: in "friendly, but nobody called back" the clause after "but" (or "however",
  "mais", "pero", "aber", ...) decides the sentence whenever it says anything;
- an organisation's examples, matched word for word like phrases;
- VADER only reads clauses that look English (``languages.reads_as_english``): its lexicon
  has words that are everyday words in other languages (German "die", "war").

A voice is the length-weighted mean of its sentences; it is unhappy at -0.05 or below and
praise at +0.05 or above (VADER's own thresholds for negative and positive).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata, resources

import numpy as np
import yaml
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from closeloop.core import text as core_text
from closeloop.textmodel.judgement import Judgement, Label, SentenceNote, Voice, as_answers
from closeloop.textmodel.languages import reads_as_english
from closeloop.textmodel.lru import LruCache
from closeloop.textmodel.prototypes import Examples
from closeloop.textmodel.sentences import Sentence, canonical, digest, split_voice

MODEL_NAME = "vader+rules"
NEUTRAL_BAND = 0.05
PHRASE_FLOOR = 0.6
HASHED_DIMENSIONS = 1024
# Same span as VADER's and core.text's negation window.
NEGATION_WINDOW = 3


@dataclass(frozen=True)
class _Phrase:
    written: str
    words: tuple[str, ...]
    label: Label


@dataclass(frozen=True)
class _Rules:
    phrases: tuple[_Phrase, ...]
    negators: frozenset[str]
    contrast: re.Pattern[str]
    digest: str


@functools.cache
def _builtin_rules() -> _Rules:
    data = resources.files("closeloop.textmodel").joinpath("data")
    text = data.joinpath("phrases.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    # The version changes with the phrases, the function words that decide where VADER reads
    # and the answers that say nothing.
    rules_text = "\n".join(
        [
            text,
            data.joinpath("function_words.yaml").read_text("utf-8"),
            data.joinpath("no_opinion.yaml").read_text("utf-8"),
        ]
    )
    phrases = [
        _Phrase(written=str(phrase), words=core_text.tokens(str(phrase)), label=label)
        for label in ("unhappy", "praise")
        for phrases_of_language in raw[label].values()
        for phrase in phrases_of_language
    ]
    contrasts = sorted((str(word) for word in raw["contrasts"]), key=len, reverse=True)
    return _Rules(
        phrases=tuple(phrases),
        negators=frozenset(core_text.normalise(str(word)) for word in raw["negators"]),
        contrast=re.compile(r"\b(?:" + "|".join(re.escape(word) for word in contrasts) + r")\b", re.IGNORECASE),
        digest=hashlib.sha256(rules_text.encode("utf-8")).hexdigest()[:12],
    )


@functools.cache
def _analyzer() -> SentimentIntensityAnalyzer:
    # Built once, on first use: building the analyzer reads VADER's lexicon from disk.
    return SentimentIntensityAnalyzer()


def _occurrences(words: tuple[str, ...], phrase: tuple[str, ...]) -> list[int]:
    width = len(phrase)
    return [start for start in range(len(words) - width + 1) if words[start : start + width] == phrase]


@dataclass(frozen=True)
class _Reading:
    score: float
    evidence: str
    evidence_label: Label | None


def hashed_vectors(texts: Sequence[str], dimensions: int = HASHED_DIMENSIONS) -> np.ndarray:
    """Bag-of-words vectors (words and word pairs, hashed), L2-normalised: themes without a model.

    A stable hash (not Python's, which changes per process) keeps vectors comparable across
    processes and days.
    """
    matrix = np.zeros((len(texts), dimensions), dtype=np.float32)
    for row, text in enumerate(texts):
        words = core_text.tokens(text)
        features = list(words) + [f"{a} {b}" for a, b in itertools.pairwise(words)]
        for feature in features:
            bucket = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")
            matrix[row, bucket % dimensions] += 1.0
        norm = np.linalg.norm(matrix[row])
        if norm:
            matrix[row] = np.log1p(matrix[row])
            matrix[row] /= np.linalg.norm(matrix[row])
    return matrix


class LexiconJudge:
    """Judges voices with VADER and phrase rules (see the module's docstring)."""

    reference = None

    def __init__(self, examples: Examples | None = None, *, cache_size: int = 4096) -> None:
        self.examples = examples or Examples()
        rules = _builtin_rules()
        labelled: tuple[tuple[Label, Sequence[str]], ...] = (
            ("unhappy", self.examples.unhappy),
            ("praise", self.examples.praise),
        )
        own = [
            _Phrase(written=text, words=core_text.tokens(text), label=label)
            for label, texts in labelled
            for text in texts
        ]
        # An organisation's examples are matched before the built-in phrases, so they explain first.
        self._phrases = tuple(own) + rules.phrases
        self._negators = rules.negators
        self._contrast = rules.contrast
        self.model = MODEL_NAME
        examples_digest = hashlib.sha256("\n".join(f"{p.label}\t{p.written}" for p in own).encode("utf-8")).hexdigest()[
            :12
        ]
        self.version = f"vaderSentiment-{metadata.version('vaderSentiment')}+phrases.{rules.digest}"
        if own:
            self.version += f"+examples.{examples_digest}"
        self._judgements: LruCache[str, Judgement] = LruCache(cache_size)

    def warm_up(self) -> None:
        _analyzer()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return hashed_vectors(texts)

    def judge(self, voices: Sequence[Voice]) -> list[Judgement]:
        results = []
        for voice in voices:
            answers = tuple(canonical(answer) for answer in as_answers(voice))
            key = digest("\x1e".join(answers))
            judgement = self._judgements.get(key)
            if judgement is None:
                judgement = self._judge_answers(answers)
                self._judgements.put(key, judgement)
            results.append(judgement)
        return results

    def judge_voice(self, voice: Voice) -> Judgement:
        return self.judge([voice])[0]

    # -- reading ------------------------------------------------------------------------

    def _negated(self, words: tuple[str, ...], start: int) -> bool:
        if core_text.is_negated(words, start):
            return True
        window = words[max(start - NEGATION_WINDOW, 0) : start]
        return any(word in self._negators for word in window)

    def _phrase_hits(self, words: tuple[str, ...]) -> list[_Phrase]:
        hits = []
        for phrase in self._phrases:
            if not phrase.words:
                continue
            literal = core_text.is_negator(phrase.words[0]) or phrase.words[0] in self._negators
            if any(literal or not self._negated(words, start) for start in _occurrences(words, phrase.words)):
                hits.append(phrase)
        return hits

    def _strongest_word(self, words: tuple[str, ...], sign: float) -> str:
        lexicon = _analyzer().lexicon
        valued = [(lexicon[word], word) for word in words if word in lexicon and lexicon[word] * sign > 0]
        if not valued:
            return ""
        return max(valued, key=lambda pair: abs(pair[0]))[1]

    def _read_clause(self, clause: str) -> _Reading:
        words = core_text.tokens(clause)
        english = bool(words) and reads_as_english(words)
        compound = float(_analyzer().polarity_scores(clause)["compound"]) if english else 0.0
        hits = self._phrase_hits(words)
        complaint = next((hit for hit in hits if hit.label == "unhappy"), None)
        if complaint is not None:
            return _Reading(min(compound, -PHRASE_FLOOR), complaint.written, "unhappy")
        praise = next((hit for hit in hits if hit.label == "praise"), None)
        if praise is not None:
            return _Reading(max(compound, PHRASE_FLOOR), praise.written, "praise")
        if abs(compound) < NEUTRAL_BAND:
            return _Reading(compound, "", None)
        word = self._strongest_word(words, compound)
        return _Reading(compound, word, "unhappy" if compound < 0 else "praise")

    def _read_sentence(self, sentence: str) -> _Reading:
        pieces = self._contrast.split(sentence)
        if len(pieces) > 1:
            after = self._read_clause(pieces[-1])
            if abs(after.score) >= NEUTRAL_BAND:
                return after
        return self._read_clause(sentence)

    @staticmethod
    def _label(score: float) -> Label:
        if score <= -NEUTRAL_BAND:
            return "unhappy"
        if score >= NEUTRAL_BAND:
            return "praise"
        return "neutral"

    def _judge_answers(self, answers: Sequence[str]) -> Judgement:
        sentences: list[Sentence] = split_voice(answers)
        if not sentences:
            return Judgement(label="neutral", score=0.0, model=self.model, version=self.version)
        weights = np.array([max(sentence.words, 1) for sentence in sentences], dtype=np.float64)
        weights /= weights.sum()
        readings = [self._read_sentence(sentence.text) for sentence in sentences]
        score = float(weights @ np.array([reading.score for reading in readings]))
        label = self._label(score)
        notes = [
            SentenceNote(
                answer=sentence.answer,
                text=sentence.text,
                label=self._label(reading.score),
                score=reading.score,
                weight=float(weight),
                closest=reading.evidence,
                closest_label=reading.evidence_label,
                similarity=None,
            )
            for sentence, reading, weight in zip(sentences, readings, weights, strict=True)
        ]
        direction = {"unhappy": -1.0, "praise": 1.0}.get(label)
        if direction is None:
            notes.sort(key=lambda note: -abs(note.score) * note.weight)
        else:
            notes.sort(key=lambda note: -direction * note.score * note.weight)
        return Judgement(label=label, score=score, model=self.model, version=self.version, explanation=tuple(notes))
