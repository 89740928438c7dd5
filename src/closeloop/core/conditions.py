"""The shape of a rule's condition tree, checked before it is stored.

A tree is `{all: [...]}`, `{any: [...]}`, `{not: condition}` or a leaf:

    {question: K, equals|not_equals|lt|lte|gt|gte: V}   {question: K, in: [V, ...]}
    {overall: {lte: 5}}        {nps: detractor|passive|promoter}
    {keywords: [refund, "never again"]}                 {sentiment: {lte: -0.5}}
    {interviewer_flag: true}   {customer: {tier: Gold}}
    {segment: X}               {unit: CODE}
    {text: unhappy|praise}     {text: {interviewer: unhappy|praise}}

`overall` and `sentiment` take one or more comparisons (all must hold); `segment`, `unit`
and `customer.tier` take one value or a list (any matches). `text` is the text model's
judgement of the customer's free-text answers (`{text: unhappy}`, the same as
`{text: {customer: unhappy}}`), or of the interviewer's notes, which are judged apart because
they are not the customer's words.

`condition_problems` returns every problem as (relative path, message), so the
configuration loader can prefix the rule's path and the evaluator can reject a
tree it was handed directly. Pure: no Django, no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from closeloop.core.vocabulary import NUMERIC_QUESTION_TYPES, WORDED_QUESTION_TYPES, is_number

COMPARATORS = ("equals", "not_equals", "lt", "lte", "gt", "gte")
ORDERING = ("lt", "lte", "gt", "gte")
QUESTION_OPERATORS = (*COMPARATORS, "in")
BRANCHES = ("all", "any", "not")
LEAVES = (
    "question",
    "overall",
    "nps",
    "keywords",
    "sentiment",
    "text",
    "interviewer_flag",
    "customer",
    "segment",
    "unit",
)
NPS_GROUPS = ("detractor", "passive", "promoter")
CUSTOMER_FIELDS = ("tier",)
# What a `text` condition may ask of a voice, and whose words a voice is.
TEXT_LABELS = ("unhappy", "praise")
TEXT_VOICES = ("customer", "interviewer")
NUMERIC_TYPES = NUMERIC_QUESTION_TYPES
TEXT_TYPES = WORDED_QUESTION_TYPES

Problem = tuple[str, str]
# A question's type, or several when the rule spans surveys that use the key differently.
QuestionTypes = Mapping[str, str | Collection[str]]


def condition_problems(
    tree: object,
    questions: QuestionTypes | None,
    *,
    units: Collection[str] | None = None,
    segments: Collection[str] | None = None,
) -> list[Problem]:
    """Every problem of the tree, each as (path relative to the tree, message).

    `questions` maps question key -> type (scale, nps, yes_no, choice, multi_choice, text);
    None skips the question checks. `units` / `segments`, when given, are the known codes.
    """
    checker = _Checker(questions, units, segments)
    checker.condition(tree, "")
    return checker.problems


def _join(base: str, key: str) -> str:
    return f"{base}.{key}" if base else key


class _Checker:
    def __init__(
        self, questions: QuestionTypes | None, units: Collection[str] | None, segments: Collection[str] | None
    ) -> None:
        self.questions = questions
        self.units = units
        self.segments = segments
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def condition(self, node: object, path: str) -> None:
        where = path or "when"
        if not isinstance(node, Mapping):
            self.add(where, f"a condition must be a mapping such as {{question: K, equals: V}}, not {node!r}")
            return
        kinds = [key for key in node if key in BRANCHES or key in LEAVES]
        if not kinds:
            unknown = ", ".join(repr(str(key)) for key in node) or "nothing"
            self.add(where, f"a condition needs one of {', '.join((*BRANCHES, *LEAVES))}; found {unknown}")
            return
        if len(kinds) > 1:
            self.add(where, f"a condition has exactly one of {', '.join(map(str, kinds))}; use all/any to combine")
            return
        kind = kinds[0]
        if kind != "question":
            for key in node:
                if key != kind:
                    self.add(_join(path, str(key)), f"unknown key {str(key)!r} next to {kind!r}")
        getattr(self, f"leaf_{kind}" if kind in LEAVES else f"branch_{kind}")(node, path)

    def branch_all(self, node: Mapping[str, Any], path: str) -> None:
        self._branch_list(node, path, "all")

    def branch_any(self, node: Mapping[str, Any], path: str) -> None:
        self._branch_list(node, path, "any")

    def _branch_list(self, node: Mapping[str, Any], path: str, kind: str) -> None:
        items = node[kind]
        here = _join(path, kind)
        if not isinstance(items, list) or not items:
            self.add(here, f"{kind} needs a non-empty list of conditions")
            return
        for index, item in enumerate(items):
            self.condition(item, f"{here}[{index}]")

    def branch_not(self, node: Mapping[str, Any], path: str) -> None:
        value = node["not"]
        if isinstance(value, list):
            self.add(_join(path, "not"), "not takes one condition, not a list (wrap several in all or any)")
            return
        self.condition(value, _join(path, "not"))

    def leaf_question(self, node: Mapping[str, Any], path: str) -> None:
        key = node["question"]
        operators = [op for op in node if op in QUESTION_OPERATORS]
        for extra in node:
            if extra != "question" and extra not in QUESTION_OPERATORS:
                self.add(
                    _join(path, str(extra)), f"unknown key {str(extra)!r}; use one of {', '.join(QUESTION_OPERATORS)}"
                )
        if not isinstance(key, str) or not key:
            self.add(_join(path, "question"), "must be a question key")
            return
        types = self._question_types(key, _join(path, "question"))
        if len(operators) != 1:
            found = "none" if not operators else ", ".join(operators)
            self.add(
                path or "when",
                f"a question condition needs exactly one of {', '.join(QUESTION_OPERATORS)}; found {found}",
            )
            return
        operator = operators[0]
        value = node[operator]
        here = _join(path, operator)
        if operator == "in":
            if not isinstance(value, list) or not value:
                self.add(here, "in needs a non-empty list of values")
                return
            for index, item in enumerate(value):
                self._fits(key, types, "in", item, f"{here}[{index}]")
            return
        self._fits(key, types, operator, value, here)

    def _question_types(self, key: str, path: str) -> frozenset[str] | None:
        if self.questions is None:
            return None
        if key not in self.questions:
            self.add(path, f"unknown question {key!r}")
            return None
        found = self.questions[key]
        return frozenset({found} if isinstance(found, str) else found)

    def _fits(self, key: str, types: frozenset[str] | None, operator: str, value: object, path: str) -> None:
        if types is None:
            if value is None or isinstance(value, (list, dict)):
                self.add(path, f"{value!r} is not a single value")
            return
        messages = [_misfit(kind, operator, value) for kind in sorted(types)]
        if all(messages):
            self.add(path, f"{value!r} does not fit {key!r}: {'; '.join(m for m in messages if m)}")

    def _comparison(self, node: Mapping[str, Any], path: str, kind: str, low: float | None, high: float | None) -> None:
        here = _join(path, kind)
        value = node[kind]
        if not isinstance(value, Mapping) or not value:
            self.add(here, f"{kind} needs a comparison such as {{lte: 5}} ({', '.join(COMPARATORS)})")
            return
        # Several comparisons must all hold: {gte: 3, lte: 5} is a range.
        for operator, limit in value.items():
            if operator not in COMPARATORS:
                message = f"unknown comparison {str(operator)!r}; use one of {', '.join(COMPARATORS)}"
                self.add(_join(here, str(operator)), message)
            elif not is_number(limit):
                self.add(_join(here, operator), f"{limit!r} is not a number")
            elif low is not None and high is not None and not low <= limit <= high:
                self.add(_join(here, operator), f"{limit!r} is outside {low:g}..{high:g}")

    def leaf_overall(self, node: Mapping[str, Any], path: str) -> None:
        self._comparison(node, path, "overall", None, None)

    def leaf_sentiment(self, node: Mapping[str, Any], path: str) -> None:
        self._comparison(node, path, "sentiment", -1, 1)

    def leaf_text(self, node: Mapping[str, Any], path: str) -> None:
        for where, message in text_problems(node["text"], _join(path, "text")):
            self.add(where, message)

    def leaf_nps(self, node: Mapping[str, Any], path: str) -> None:
        value = node["nps"]
        if value not in NPS_GROUPS:
            self.add(_join(path, "nps"), f"{value!r} is not one of {', '.join(NPS_GROUPS)}")
            return
        if self.questions is not None and not any("nps" in _as_set(t) for t in self.questions.values()):
            self.add(_join(path, "nps"), "the survey has no nps question")

    def leaf_keywords(self, node: Mapping[str, Any], path: str) -> None:
        words = node["keywords"]
        here = _join(path, "keywords")
        if not isinstance(words, list) or not words:
            self.add(here, "keywords needs a non-empty list of words or phrases")
            return
        for index, word in enumerate(words):
            if not isinstance(word, str) or not word.strip():
                self.add(f"{here}[{index}]", f"{word!r} is not a word or phrase")

    def leaf_interviewer_flag(self, node: Mapping[str, Any], path: str) -> None:
        if not isinstance(node["interviewer_flag"], bool):
            self.add(_join(path, "interviewer_flag"), f"{node['interviewer_flag']!r} is not true or false")

    def leaf_customer(self, node: Mapping[str, Any], path: str) -> None:
        value = node["customer"]
        here = _join(path, "customer")
        if not isinstance(value, Mapping) or not value:
            self.add(here, "customer needs a field to match, such as {tier: Gold}")
            return
        for field, expected in value.items():
            if field not in CUSTOMER_FIELDS:
                self.add(
                    _join(here, str(field)), f"unknown customer field {str(field)!r}; use {', '.join(CUSTOMER_FIELDS)}"
                )
            else:
                self._texts(expected, _join(here, str(field)), f"a customer {field}")

    def leaf_segment(self, node: Mapping[str, Any], path: str) -> None:
        self._code(node["segment"], _join(path, "segment"), self.segments, "segment")

    def leaf_unit(self, node: Mapping[str, Any], path: str) -> None:
        self._code(node["unit"], _join(path, "unit"), self.units, "unit")

    def _code(self, value: object, path: str, known: Collection[str] | None, what: str) -> None:
        for where, code in self._texts(value, path, f"a {what} code"):
            if known is not None and code not in known:
                self.add(where, f"unknown {what} {code!r}")

    def _texts(self, value: object, path: str, what: str) -> list[tuple[str, str]]:
        """One text, or a non-empty list of them (any of which matches), each with its path."""
        items: list[tuple[int | None, object]] = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        if not items:
            self.add(path, f"needs {what} or a list of them")
        found = []
        for index, item in items:
            where = path if index is None else f"{path}[{index}]"
            if isinstance(item, str) and item:
                found.append((where, item))
            else:
                self.add(where, f"{item!r} is not {what}")
        return found


def text_problems(spec: object, path: str = "text") -> list[Problem]:
    """Why a `text` condition's value is not `unhappy`, `praise` or `{customer|interviewer: unhappy|praise}`."""
    labels = " or ".join(TEXT_LABELS)
    if isinstance(spec, Mapping):
        if len(spec) != 1:
            return [(path, f"text takes one voice ({' or '.join(TEXT_VOICES)}) with {labels}, not {dict(spec)!r}")]
        ((voice, label),) = spec.items()
        if voice not in TEXT_VOICES:
            return [(_join(path, str(voice)), f"unknown voice {str(voice)!r}; use {' or '.join(TEXT_VOICES)}")]
        if label not in TEXT_LABELS:
            return [(_join(path, str(voice)), f"{label!r} is not one of {', '.join(TEXT_LABELS)}")]
        return []
    if spec not in TEXT_LABELS:
        return [(path, f"{spec!r} is not one of {', '.join(TEXT_LABELS)} (or {{interviewer: unhappy}})")]
    return []


def text_condition(spec: object) -> tuple[str, str]:
    """(voice, label) of a valid `text` condition's value; ValueError for anything else."""
    problems = text_problems(spec)
    if problems:
        raise ValueError("; ".join(f"{where}: {message}" for where, message in problems))
    if isinstance(spec, Mapping):
        ((voice, label),) = spec.items()
        return str(voice), str(label)
    return "customer", str(spec)


def _as_set(found: str | Collection[str]) -> frozenset[str]:
    return frozenset({found} if isinstance(found, str) else found)


def _misfit(kind: str, operator: str, value: object) -> str:
    """Why `value` cannot be compared with `operator` to an answer of this type ("" when it can)."""
    if kind in NUMERIC_TYPES:
        if not is_number(value):
            return f"a {kind} question needs a number"
        if kind == "nps" and not 0 <= value <= 10:  # type: ignore[operator]
            return "an nps answer is 0..10"
        return ""
    if operator in ORDERING:
        return f"{operator} does not apply to a {kind} question"
    if kind == "yes_no":
        return "" if isinstance(value, bool) else "a yes_no question needs true or false"
    if kind in TEXT_TYPES:
        return "" if isinstance(value, str) else f"a {kind} question needs text"
    return f"unknown question type {kind!r}"
