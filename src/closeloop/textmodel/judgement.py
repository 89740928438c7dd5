"""What a judge says about one customer's words, and the interface every judge offers.

A *voice* is everything one customer wrote in one response: one or several free-text answers.
It is judged as a whole (one label, one score) and explained sentence by sentence, so an alert
can quote the sentence that weighed most and what it sounds like.

Scores run from -1 (clearly unhappy) to +1 (clearly pleased), like VADER's compound score, so
a stored score reads the same whichever judge produced it. The label is what rules act on;
the score orders and shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

Label = Literal["unhappy", "praise", "neutral"]
LABELS: tuple[Label, ...] = ("unhappy", "praise", "neutral")

# A voice: one answer, or all free-text answers of one response.
Voice = str | Sequence[str]


@dataclass(frozen=True)
class SentenceNote:
    """One sentence of the voice and why it counted.

    ``answer`` is the index of the answer it comes from, ``weight`` its share of the voice
    (0..1, by length), ``score`` its own score on the judgement's scale. ``closest`` is what
    it sounds like: the nearest prototype sentence (model) or the phrase or word that decided
    it (fallback); ``similarity`` is the cosine to that prototype when there is one.
    """

    answer: int
    text: str
    label: Label
    score: float
    weight: float
    closest: str = ""
    closest_label: Label | None = None
    similarity: float | None = None


@dataclass(frozen=True)
class Judgement:
    label: Label
    score: float
    model: str
    version: str
    # Strongest first: the sentences that pushed the voice towards its label lead.
    explanation: tuple[SentenceNote, ...] = field(default_factory=tuple)

    @property
    def strongest(self) -> SentenceNote | None:
        """The sentence that weighed most towards the label, None for a neutral voice."""
        if self.label == "neutral" or not self.explanation:
            return None
        return self.explanation[0]

    @property
    def sounds_like(self) -> str | None:
        strongest = self.strongest
        return strongest.closest if strongest and strongest.closest else None

    def reason(self) -> str:
        """One line for an alert: sounds unhappy: “…” (like “Nobody called me back.”)."""
        strongest = self.strongest
        if strongest is None:
            return f"sounds {self.label}" if self.label != "neutral" else "no clear opinion"
        mood = "unhappy" if self.label == "unhappy" else "pleased"
        line = f"sounds {mood}: “{strongest.text}”"
        if strongest.closest and strongest.closest != strongest.text:
            line += f" (like “{strongest.closest}”)"
        return line

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for storage and the API; floats rounded to 4 places."""
        data = asdict(self)
        data["score"] = round(self.score, 4)
        data["explanation"] = list(data["explanation"])
        for note in data["explanation"]:
            note["score"] = round(note["score"], 4)
            note["weight"] = round(note["weight"], 4)
            if note["similarity"] is not None:
                note["similarity"] = round(note["similarity"], 4)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Judgement:
        notes = tuple(SentenceNote(**note) for note in data.get("explanation", ()))
        return cls(
            label=data["label"],
            score=float(data["score"]),
            model=data["model"],
            version=data["version"],
            explanation=notes,
        )


@runtime_checkable
class Judge(Protocol):
    """What the product needs from a text model; any judge with these members can replace another."""

    model: str
    version: str

    @property
    def reference(self) -> np.ndarray | None:
        """The direction every customer comment shares in ``embed``'s space, which themes are centred on;
        None when the judge knows none (themes then centre on the comments' mean)."""
        ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised row per text, shape (len(texts), d), for grouping comments into themes."""
        ...

    def judge(self, voices: Sequence[Voice]) -> list[Judgement]:
        """One judgement per voice, in order; a voice is a string or the list of one response's answers."""
        ...


def as_answers(voice: Voice) -> tuple[str, ...]:
    """The answers of a voice; a bare string is a voice of one answer."""
    if isinstance(voice, str):
        return (voice,)
    return tuple(answer for answer in voice if isinstance(answer, str))
