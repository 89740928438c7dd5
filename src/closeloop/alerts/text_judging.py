"""The text model in detection: whose words are judged, when, by which judge, and how a judgement is kept.

A response has two voices: the customer's free-text answers, read together as one voice, and the
interviewer's notes, which are not the customer's words and are judged apart. ``core.rules`` asks
for a voice's verdict only when it evaluates a rule's ``text`` condition; ``BatchJudgements`` answers
those questions for a whole batch of responses:

1. a first evaluation of every response notes which responses asked (and gets no verdict yet);
2. one call of the judge judges every voice of those responses together (an import of thousands of
   rows is one batch, which the model embeds in chunks and far faster than one by one);
3. those responses are evaluated again, now with their verdicts.

With ``judge_outside`` (the ingest action), step 2 does not judge inside the ingest's transaction: it
raises ``JudgeFirst``, the action rolls the transaction back, judges the words with no transaction open
and runs the transaction again, in which the judge answers from its cache. On SQLite a transaction holds
the database's only write lock: judging a batch's comments inside it (seconds) would hold up every
other writer, an API post's alert among them, for that long.

So a response whose rules never reach a ``text`` condition (a high score under
``all: [{overall: {lte: 8}}, {text: unhappy}]``) costs the model nothing. The judge itself keeps
judgements by a hash of the words, so the same comment is judged once per process.

The judge is the organisation's: the built-in prototypes plus the configuration's
``text_model.examples`` (``textmodel.judge_for``), the model when its package loads, the lexicon
fallback otherwise; should the model fail in the middle of a batch, that batch is judged by the
fallback, so a response is never lost to the text model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from closeloop.alerts.models import Rule
from closeloop.core.conditions import TEXT_VOICES
from closeloop.core.rules import TextJudge, TextVerdict, text_leaves, uses_text
from closeloop.feedback.models import Response
from closeloop.org.models import Organization
from closeloop.textmodel import Examples, ExamplesError, Judge, Judgement, judge_for, judge_status, parse_examples
from closeloop.textmodel.lexicon_judge import LexiconJudge

log = logging.getLogger("closeloop.textmodel")

CUSTOMER, INTERVIEWER = TEXT_VOICES
WHOSE = {CUSTOMER: "The customer's words", INTERVIEWER: "The interviewer's notes"}


def organization_examples(organization: Organization) -> Examples:
    """The organisation's own example sentences (checked by `config apply` before they were stored)."""
    raw = organization.text_examples or None
    try:
        return parse_examples(raw)
    except ExamplesError as error:
        # Only a row written around the configuration file gets here; its examples are left out, loudly.
        log.warning("text_model.examples stored for the organisation are not valid and are ignored: %s", error)
        return Examples()


def organization_judge(organization: Organization) -> Judge:
    return judge_for(organization_examples(organization))


def status_line(organization: Organization) -> str:
    """Which judge is active for the organisation and why, in one line (start-up log, settings page)."""
    examples = organization_examples(organization)
    line = judge_status(examples).describe()
    if examples:
        line += f"; with the organisation's {len(examples.unhappy)} unhappy and {len(examples.praise)} praise examples"
    return line


def asks_for_text(rules: Sequence[Rule]) -> bool:
    """Whether any of these rules has a `text` condition (the model is then needed, and worth warming up)."""
    return any(uses_text(rule.when) for rule in rules)


def customer_voice(answers: Mapping[str, Any], question_types: Mapping[str, str]) -> tuple[str, ...]:
    """The customer's free-text answers, in the survey's order: one voice."""
    return tuple(
        value
        for key, kind in question_types.items()
        if kind == "text" and isinstance(value := answers.get(key), str) and value.strip()
    )


def interviewer_voice(response: Response) -> tuple[str, ...]:
    notes = response.interviewer_notes or ""
    return (notes,) if notes.strip() else ()


def voices_of(response: Response, question_types: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    return {CUSTOMER: customer_voice(response.answers or {}, question_types), INTERVIEWER: interviewer_voice(response)}


def stored_form(judgement: Judgement, voice: str) -> dict[str, Any]:
    """A judgement as the response keeps it: the judge's own fields, whose words, and the reason line."""
    return {"voice": voice, **judgement.to_dict(), "reason": judgement.reason()}


def verdict_of(judgement: Judgement) -> TextVerdict:
    return TextVerdict(label=judgement.label, reason=judgement.reason())


class JudgeFirst(Exception):
    """Raised inside the ingest's transaction: judge these voices outside it, then run the transaction again."""

    def __init__(self, judge: Callable[[], Judge], voices: Sequence[tuple[str, ...]]) -> None:
        super().__init__(f"{len(voices)} voices to judge before the transaction")
        self._judge = judge
        self.voices = list(voices)

    def judge(self) -> None:
        """Judge the voices now, so that the judge's cache has them for the transaction's second run."""
        _judge_safely(self._judge, self.voices)


class BatchJudgements:
    """The text judgements of one batch of responses, made in one call of the judge (see the module)."""

    def __init__(self, judge: Callable[[], Judge], *, judge_outside: bool = False) -> None:
        # Called only once something needs judging: a batch without text conditions loads no model.
        self._judge = judge
        self._judge_outside = judge_outside
        self._voices: dict[int, dict[str, tuple[str, ...]]] = {}
        self._asked: set[int] = set()
        self._made: dict[int, dict[str, Judgement]] = {}

    def source(self, key: int, voices: Mapping[str, tuple[str, ...]]) -> TextJudge:
        """The facts' `judge_text` for the response `key`, whose voices are these."""
        self._voices[key] = dict(voices)
        return lambda voice: self._verdict(key, voice)

    def _verdict(self, key: int, voice: str) -> TextVerdict | None:
        made = self._made.get(key)
        if made is not None:
            judgement = made.get(voice)
            return verdict_of(judgement) if judgement is not None else None
        if self._voices[key].get(voice):
            self._asked.add(key)
        return None

    @property
    def waiting(self) -> list[int]:
        """Responses that asked for a verdict and have none yet, in the order they were registered."""
        return [key for key in self._voices if key in self._asked and key not in self._made]

    def judge_waiting(self) -> list[int]:
        """Judge every voice of the waiting responses in one call; returns their keys.

        Both voices of a response are judged once either is asked for: a second evaluation may reach
        a condition on the other voice that the first, without verdicts, did not.
        """
        keys = self.waiting
        wanted = [(key, voice, words) for key in keys for voice, words in self._voices[key].items() if words]
        if self._judge_outside and wanted:
            raise JudgeFirst(self._judge, [words for _, _, words in wanted])
        judgements = _judge_safely(self._judge, [words for _, _, words in wanted])
        for key in keys:
            self._made[key] = {}
        for (key, voice, _), judgement in zip(wanted, judgements, strict=True):
            self._made[key][voice] = judgement
        return keys

    def stored(self, key: int) -> dict[str, Any] | None:
        """What the response `key` keeps: None when it was not judged."""
        made = self._made.get(key)
        if made is None:
            return None
        return {voice: stored_form(judgement, voice) for voice, judgement in made.items()}


def _judge_safely(judge: Callable[[], Judge], voices: Sequence[tuple[str, ...]]) -> list[Judgement]:
    if not voices:
        return []
    chosen = judge()
    try:
        return chosen.judge(voices)
    except (RuntimeError, OSError, ValueError, MemoryError):
        if isinstance(chosen, LexiconJudge):
            raise
        log.exception("the text model failed on a batch of %d voices; the fallback judged them instead", len(voices))
        return LexiconJudge(getattr(chosen, "examples", None)).judge(voices)


def judge_responses(
    responses: Sequence[Response], question_types: Mapping[int, Mapping[str, str]], judge: Judge
) -> dict[int, dict[str, Judgement]]:
    """Both voices of each response judged by `judge`, in one call (the configuration's dry run)."""
    wanted = [
        (response.pk, voice, words)
        for response in responses
        for voice, words in voices_of(response, question_types.get(response.survey_id, {})).items()
        if words
    ]
    judgements = _judge_safely(lambda: judge, [words for _, _, words in wanted])
    found: dict[int, dict[str, Judgement]] = {}
    for (pk, voice, _), judgement in zip(wanted, judgements, strict=True):
        found.setdefault(pk, {})[voice] = judgement
    return found


@dataclass(frozen=True)
class Heard:
    """What the text model heard in one voice, as a message or a page says it."""

    voice: str
    label: str
    score: float
    headline: str  # "The customer sounds unhappy", "The interviewer's notes sound unhappy"
    sentence: str  # the sentence that weighed most, in their own words
    sounds_like: str  # the prototype (or phrase) it is closest to
    model: str
    version: str


def heard(stored: Mapping[str, Any]) -> Heard | None:
    """A stored judgement (Response.text_judgement[voice]) for display; None when it cannot be read."""
    try:
        judgement = Judgement.from_dict(stored)
    except (KeyError, TypeError, ValueError):
        return None
    voice = str(stored.get("voice") or CUSTOMER)
    mood = {"unhappy": "unhappy", "praise": "pleased"}.get(judgement.label, "neither unhappy nor pleased")
    if voice == INTERVIEWER:
        headline = f"The interviewer's notes sound {mood} (the interviewer's words, not the customer's)"
    else:
        headline = f"The customer sounds {mood}"
    strongest = judgement.strongest
    return Heard(
        voice=voice,
        label=judgement.label,
        score=judgement.score,
        headline=headline,
        sentence=strongest.text if strongest else "",
        sounds_like=(strongest.closest if strongest and strongest.closest != strongest.text else ""),
        model=judgement.model,
        version=judgement.version,
    )


def heard_in(response: Response) -> list[Heard]:
    """Every voice of the response the text model judged: the customer's first."""
    stored = response.text_judgement or {}
    found = [heard(stored[voice]) for voice in TEXT_VOICES if isinstance(stored.get(voice), Mapping)]
    return [each for each in found if each is not None]


def heard_for_alerts(response: Response, rules: Sequence[Rule | None]) -> list[Heard]:
    """The voices whose judgement made one of these rules fire (a `text` condition it holds by), customer's first."""
    stored = response.text_judgement or {}
    voices: set[str] = set()
    for rule in rules:
        if rule is None:
            continue
        for voice, label in text_leaves(rule.when):
            judged = stored.get(voice)
            if isinstance(judged, Mapping) and judged.get("label") == label:
                voices.add(voice)
    return [each for each in heard_in(response) if each.voice in voices]
