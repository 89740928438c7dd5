"""Check an answer against its question's type. Pure: the ingest path and the file
reader both use it, and it is tested without a database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from closeloop.core.vocabulary import NUMERIC_QUESTION_TYPES, is_number


@dataclass(frozen=True)
class QuestionSpec:
    key: str
    type: str  # scale | nps | yes_no | choice | multi_choice | text
    min: float | None = None
    max: float | None = None
    options: tuple[str, ...] = field(default_factory=tuple)
    label: str = ""

    @property
    def is_numeric(self) -> bool:
        return self.type in NUMERIC_QUESTION_TYPES


MAX_TEXT = 20_000


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def answer_problem(spec: QuestionSpec, value: object) -> str | None:
    """Why `value` is not a valid answer to `spec`, or None when it is. None (JSON null) means unanswered."""
    if value is None:
        return None
    if spec.is_numeric:
        # bool is an int in Python, but true/false is not a score.
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"expected a number, got {type(value).__name__}"
        if not is_number(value):  # NaN or infinity: JSON parsers accept them, no survey sends them
            return f"expected a finite number, got {value}"
        low, high = (0.0, 10.0) if spec.type == "nps" else (spec.min, spec.max)
        if spec.type == "nps" and not float(value).is_integer():
            return f"{value} is not a whole number from 0 to 10"
        if low is not None and value < low:
            return f"{_number_text(value)} is below the minimum {_number_text(low)}"
        if high is not None and value > high:
            return f"{_number_text(value)} is above the maximum {_number_text(high)}"
        return None
    if spec.type == "yes_no":
        if not isinstance(value, bool):
            return f"expected true or false, got {value!r}"
        return None
    if spec.type == "choice":
        if not isinstance(value, str):
            return f"expected one of the options as a string, got {type(value).__name__}"
        if value not in spec.options:
            return f"{value!r} is not one of the options: {', '.join(spec.options)}"
        return None
    if spec.type == "multi_choice":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "expected a list of option strings"
        unknown = [v for v in value if v not in spec.options]
        if unknown:
            return f"{', '.join(repr(v) for v in unknown)} not among the options: {', '.join(spec.options)}"
        return None
    if spec.type == "text":
        if not isinstance(value, str):
            return f"expected text, got {type(value).__name__}"
        if len(value) > MAX_TEXT:
            return f"text is longer than {MAX_TEXT} characters"
        return None
    return f"unknown question type {spec.type!r}"


def overall_score(overall_key: str, answers: Mapping[str, object]) -> float | None:
    """The response's overall score: the answer to the survey's `overall` question, if numeric."""
    if not overall_key:
        return None
    value = answers.get(overall_key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def customer_words(questions: Iterable[QuestionSpec], answers: Mapping[str, object]) -> str:
    """The customer's own words: the answers to the text questions, in the survey's order, one a line.

    Kept beside the answers so lists can show and search them without reading every survey's questions.
    """
    texts = (answers.get(spec.key) for spec in questions if spec.type == "text")
    return "\n".join(text.strip() for text in texts if isinstance(text, str) and text.strip())
