"""Detection rules: evaluate condition trees against the facts of one response.

A condition tree is ``{all: [...]}``, ``{any: [...]}``, ``{not: tree}`` or a leaf (see the
contract, section 3). Trees are validated when the configuration is applied
(``closeloop.core.conditions``), so an unknown node here is a programming error and raises
``ValueError``. The *facts* are never trusted: a missing answer, an answer of the wrong
type or an unparseable value makes the leaf False and never raises.

Unanswered means False: a leaf about a question without an answer (missing, None, blank
text) is False, so ``{not: {question: completed, equals: true}}`` is True for a response
that skipped ``completed``. Likewise the ``overall`` and ``nps`` leaves are False without a
score, and the ``sentiment`` leaf is False when the response has no free text at all
(there is nothing to be negative about, even though ``text.sentiment`` scores it 0.0).

The ``text`` leaf asks the product's text model about one voice of the response (the
customer's free-text answers, or apart from them the interviewer's notes). The model is no
part of the core: the facts carry a callable (``judge_text``) that the caller supplies, which
is asked only when a ``text`` leaf is evaluated, so a response is judged only when an active
rule needs it. Without a callable, or with nothing to judge, the leaf is False.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from closeloop.core import text
from closeloop.core.conditions import text_condition
from closeloop.core.vocabulary import NUMERIC_QUESTION_TYPES, QUESTION_TYPES, SEVERITIES, is_number, yes_no

COMPARISONS = ("equals", "not_equals", "lt", "lte", "gt", "gte")
NPS_BANDS = {"detractor": range(0, 7), "passive": range(7, 9), "promoter": range(9, 11)}

THRESHOLD_RULE_KEY = "threshold"

_ORDERINGS: dict[str, Callable[[float, float], bool]] = {
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}
_SYMBOLS = {"equals": "=", "not_equals": "≠", "lt": "<", "lte": "≤", "gt": ">", "gte": "≥"}


@dataclass(frozen=True)
class TextVerdict:
    """What the text model said about one voice of a response, as far as the rules need it."""

    label: str  # unhappy | praise | neutral
    reason: str  # why, for the alert: sounds unhappy: “…” (like “…”)


# Given a voice ("customer" or "interviewer"), the model's verdict, or None when the voice said
# nothing (or cannot be judged yet).
TextJudge = Callable[[str], TextVerdict | None]


@dataclass(frozen=True)
class ResponseFacts:
    """What the rules may look at in one response."""

    answers: Mapping[str, object]
    question_types: Mapping[str, str] = field(default_factory=dict)
    overall: float | None = None
    nps: int | None = None
    free_texts: tuple[str, ...] = ()
    interviewer_flag: bool = False
    tier: str = ""
    segment: str = ""
    unit_path: tuple[str, ...] = ()
    language: str = text.DEFAULT_LANGUAGE  # the survey's: keywords match word forms of this language
    # Asked by a `text` leaf only; the caller decides how (and how many responses at once) to judge.
    judge_text: TextJudge | None = field(default=None, compare=False, repr=False)

    def text_verdict(self, voice: str) -> TextVerdict | None:
        """The text model's verdict on one voice; None without a judge or without words to judge."""
        return self.judge_text(voice) if self.judge_text is not None else None

    # Derived values are computed at most once per facts object, and only when a rule
    # needs them: VADER is the costliest step of detection.
    @functools.cached_property
    def sentiment(self) -> float:
        return text.sentiment(self.free_texts)

    @functools.cached_property
    def has_free_text(self) -> bool:
        return text.has_text(self.free_texts)

    @functools.cached_property
    def clauses(self) -> tuple[text.Clause, ...]:
        return text.clauses(self.free_texts)

    @functools.cached_property
    def stemmed_clauses(self) -> tuple[text.Clause, ...]:
        return text.stemmed(self.clauses, self.language)


@dataclass(frozen=True)
class RuleSpec:
    """A configured rule, as the detector needs it."""

    key: str
    kind: str
    survey: str | None
    when: Mapping[str, Any]
    category: str
    severity: str
    notify: Mapping[str, Any]
    open_case: str | None = None
    name: str = ""


@dataclass(frozen=True)
class Match:
    """A rule that fired for a response, with the reasons to show in the alert."""

    rule_key: str
    kind: str
    severity: str
    category: str
    reasons: tuple[str, ...]
    rule: RuleSpec | None


# ---------------------------------------------------------------------------
# Reading the facts defensively


def _as_number(value: object) -> float | None:
    if not (is_number(value) or isinstance(value, str)):
        return None
    try:
        # JSON integers are unbounded; one too large for a float is no score.
        number = float(value.strip() if isinstance(value, str) else value)  # type: ignore[arg-type]
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _option_text(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip().casefold()
    if is_number(value):
        return _format(value)
    return None


def _same_text(left: object, right: object) -> bool:
    """Choices, text answers and tiers compare case-insensitively; 2 and 2.0 are the same option."""
    left_text = _option_text(left)
    return left_text is not None and left_text == _option_text(right)


def _is_unanswered(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _question_type(facts: ResponseFacts, key: str, answer: object) -> str:
    declared = facts.question_types.get(key)
    if declared in QUESTION_TYPES:
        return declared
    # Without a declared type, the answer's own type decides.
    if isinstance(answer, bool):
        return "yes_no"
    if is_number(answer):
        return "scale"
    if isinstance(answer, list | tuple | set | frozenset):
        return "multi_choice"
    return "choice"


def _chosen(answer: object) -> list[object]:
    if isinstance(answer, list | tuple | set | frozenset):
        return list(answer)
    return [answer]


def _well_typed(kind: str, answer: object) -> bool:
    if kind == "yes_no":
        return yes_no(answer) is not None
    if kind in NUMERIC_QUESTION_TYPES:
        return _as_number(answer) is not None
    if kind == "multi_choice":
        return all(_is_option(option) for option in _chosen(answer))
    return _is_option(answer)


def _is_option(value: object) -> bool:
    return isinstance(value, str) or is_number(value)


def _answer_equals(kind: str, answer: object, expected: object) -> bool:
    if kind == "yes_no":
        got, want = yes_no(answer), yes_no(expected)
        return got is not None and got == want
    if kind in NUMERIC_QUESTION_TYPES:
        got_number, want_number = _as_number(answer), _as_number(expected)
        return got_number is not None and want_number is not None and got_number == want_number
    if kind == "multi_choice":
        chosen = _chosen(answer)
        if isinstance(expected, list | tuple):
            # A list means exactly this selection; a single option means "this one was chosen".
            return {_option_text(option) for option in chosen} == {_option_text(option) for option in expected}
        return any(_same_text(option, expected) for option in chosen)
    return _same_text(answer, expected)


def _compare(kind: str, op: str, value: object, expected: object) -> bool:
    if op == "equals":
        return _answer_equals(kind, value, expected)
    if op == "not_equals":
        return not _answer_equals(kind, value, expected)
    if op in _ORDERINGS:
        if kind not in NUMERIC_QUESTION_TYPES:
            return False
        got, want = _as_number(value), _as_number(expected)
        return got is not None and want is not None and _ORDERINGS[op](got, want)
    raise ValueError(f"unknown comparison {op!r}")


def _comparisons(spec: Mapping[str, Any], what: str) -> list[tuple[str, Any]]:
    pairs = [(op, spec[op]) for op in COMPARISONS if op in spec]
    unknown = set(spec) - set(COMPARISONS)
    if not pairs or unknown:
        raise ValueError(f"{what}: expected comparisons among {', '.join(COMPARISONS)}, got {sorted(spec)}")
    return pairs


# ---------------------------------------------------------------------------
# Leaves: each returns the reasons it holds (non-empty) or None when it does not hold.

Reasons = list[str]


def _format(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{round(value, 2):g}"
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(_format(item) for item in value)
    return str(value)


def _question_leaf(node: Mapping[str, Any], facts: ResponseFacts) -> Reasons | None:
    key = node["question"]
    answer = facts.answers.get(key) if isinstance(key, str) else None
    if _is_unanswered(answer):
        return None
    kind = _question_type(facts, key, answer)
    if not _well_typed(kind, answer):
        return None
    if kind == "yes_no":
        answer = yes_no(answer)
    reasons: Reasons = []
    if "in" in node:
        allowed = node["in"] if isinstance(node["in"], list | tuple) else [node["in"]]
        chosen = _chosen(answer) if kind == "multi_choice" else [answer]
        hits = [item for item in chosen if any(_answer_equals(kind, item, option) for option in allowed)]
        if not hits:
            return None
        reasons.append(f"{key} = {_format(hits)} (one of {_format(allowed)})")
    rest = {op: value for op, value in node.items() if op not in ("question", "in")}
    if not rest and "in" in node:
        return reasons
    for op, expected in _comparisons(rest, f"question {key}"):
        if not _compare(kind, op, answer, expected):
            return None
        if op == "equals":
            reasons.append(f"{key} = {_format(answer)}")
        elif op == "not_equals":
            reasons.append(f"{key} = {_format(answer)} (≠ {_format(expected)})")
        else:
            reasons.append(f"{key} {_format(answer)} {_SYMBOLS[op]} {_format(expected)}")
    return reasons


def _score_leaf(label: str, value: float | None, spec: object) -> Reasons | None:
    if not isinstance(spec, Mapping):
        raise ValueError(f"{label}: expected a mapping of comparisons, got {spec!r}")
    if value is None or not is_number(value):
        return None
    reasons: Reasons = []
    for op, expected in _comparisons(spec, label):
        if not _compare("scale", op, value, expected):
            return None
        reasons.append(f"{label} {_format(value)} {_SYMBOLS[op]} {_format(expected)}")
    return reasons


def _nps_band(score: int) -> str | None:
    return next((band for band, scores in NPS_BANDS.items() if score in scores), None)


def _nps_leaf(spec: object, facts: ResponseFacts) -> Reasons | None:
    wanted = _as_list(spec)
    for band in wanted:
        if band not in NPS_BANDS:
            raise ValueError(f"nps: unknown band {band!r}")
    score = facts.nps
    if score is None or not is_number(score) or not float(score).is_integer():
        return None
    band = _nps_band(int(score))
    if band not in wanted:
        return None
    return [f"NPS {int(score)} ({band})"]


def _keywords_leaf(spec: object, facts: ResponseFacts) -> Reasons | None:
    keywords = [word for word in _as_list(spec) if isinstance(word, str)]
    hits = text.find_keywords_in_clauses(
        facts.clauses, keywords, language=facts.language, stemmed_clauses=facts.stemmed_clauses
    )
    return [f"keyword “{hit}”" for hit in hits] or None


def _sentiment_leaf(spec: object, facts: ResponseFacts) -> Reasons | None:
    if not facts.has_free_text:
        return None
    return _score_leaf("sentiment", facts.sentiment, spec)


def _text_leaf(spec: object, facts: ResponseFacts) -> Reasons | None:
    voice, label = text_condition(spec)
    verdict = facts.text_verdict(voice)
    if verdict is None or verdict.label != label:
        return None
    whose = "customer's words" if voice == "customer" else "interviewer's notes"
    return [f"text model, {whose}: {verdict.reason}"]


def text_leaves(tree: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(voice, label) of every `text` leaf that holding helps the tree hold (not those under a `not`).

    A message uses it to tell whether an alert was raised by what the text model heard."""
    kind = _node_kind(tree)
    if kind in ("all", "any"):
        return [leaf for child in _children(tree, kind) for leaf in text_leaves(child)]
    if kind == "text":
        return [text_condition(tree["text"])]
    return []


def uses_text(tree: Mapping[str, Any]) -> bool:
    """Whether the tree has a `text` leaf anywhere (under a `not` too)."""
    kind = _node_kind(tree)
    if kind in ("all", "any"):
        return any(uses_text(child) for child in _children(tree, kind))
    if kind == "not":
        return uses_text(tree["not"])
    return kind == "text"


def _interviewer_flag_leaf(spec: object, facts: ResponseFacts) -> Reasons | None:
    wanted = yes_no(spec)
    if wanted is None:
        raise ValueError(f"interviewer_flag: expected true or false, got {spec!r}")
    if bool(facts.interviewer_flag) is not wanted:
        return None
    return ["interviewer flagged a problem" if wanted else "no interviewer flag"]


def _customer_leaf(spec: object, facts: ResponseFacts) -> Reasons | None:
    if not isinstance(spec, Mapping) or set(spec) != {"tier"}:
        raise ValueError(f"customer: expected {{tier: ...}}, got {spec!r}")
    tiers = _as_list(spec["tier"])
    if not any(_same_text(facts.tier, tier) for tier in tiers):
        return None
    return [f"customer tier {facts.tier}"]


def _segment_leaf(spec: object, facts: ResponseFacts) -> Reasons | None:
    if not facts.segment or facts.segment not in _as_list(spec):
        return None
    return [f"segment {facts.segment}"]


def _unit_leaf(spec: object, facts: ResponseFacts) -> Reasons | None:
    path = tuple(facts.unit_path)
    matched = next((code for code in _as_list(spec) if code in path), None)
    if matched is None:
        return None
    own = path[-1]
    return [f"unit {own}" if own == matched else f"unit {own} (within {matched})"]


def _as_list(spec: object) -> list[Any]:
    return list(spec) if isinstance(spec, list | tuple) else [spec]


_LEAVES: dict[str, Callable[[Any, ResponseFacts], Reasons | None]] = {
    "overall": lambda spec, facts: _score_leaf("overall", facts.overall, spec),
    "nps": _nps_leaf,
    "keywords": _keywords_leaf,
    "sentiment": _sentiment_leaf,
    "text": _text_leaf,
    "interviewer_flag": _interviewer_flag_leaf,
    "customer": _customer_leaf,
    "segment": _segment_leaf,
    "unit": _unit_leaf,
}


# ---------------------------------------------------------------------------
# Trees


def _node_kind(tree: Mapping[str, Any]) -> str:
    if not isinstance(tree, Mapping):
        raise ValueError(f"a condition must be a mapping, got {tree!r}")
    if "question" in tree:
        return "question"
    if len(tree) != 1:
        raise ValueError(f"a condition needs exactly one key, got {sorted(tree)}")
    (kind,) = tree
    if kind not in ("all", "any", "not") and kind not in _LEAVES:
        raise ValueError(f"unknown condition {kind!r}")
    return kind


def _children(tree: Mapping[str, Any], kind: str) -> Sequence[Mapping[str, Any]]:
    children = tree[kind]
    if not isinstance(children, list | tuple):
        raise ValueError(f"{kind}: expected a list of conditions, got {children!r}")
    return children


def _reasons(tree: Mapping[str, Any], facts: ResponseFacts) -> Reasons | None:
    """The reasons ``tree`` holds for ``facts``, or None when it does not hold."""
    kind = _node_kind(tree)
    if kind == "all":
        collected: Reasons = []
        for child in _children(tree, kind):
            found = _reasons(child, facts)
            if found is None:
                return None
            collected.extend(found)
        return collected
    if kind == "any":
        # Every branch that holds is a reason; evaluate() short-circuits instead.
        branches = [_reasons(child, facts) for child in _children(tree, kind)]
        held = [reason for branch in branches if branch is not None for reason in branch]
        return held if any(branch is not None for branch in branches) else None
    if kind == "not":
        if evaluate(tree["not"], facts):
            return None
        return [f"not ({describe(tree['not'])})"]
    if kind == "question":
        return _question_leaf(tree, facts)
    return _LEAVES[kind](tree[kind], facts)


def evaluate(tree: Mapping[str, Any], facts: ResponseFacts) -> bool:
    """Whether the condition tree holds for the response."""
    kind = _node_kind(tree)
    if kind == "all":
        return all(evaluate(child, facts) for child in _children(tree, kind))
    if kind == "any":
        return any(evaluate(child, facts) for child in _children(tree, kind))
    if kind == "not":
        return not evaluate(tree["not"], facts)
    return _reasons(tree, facts) is not None


def explain(tree: Mapping[str, Any], facts: ResponseFacts) -> list[str]:
    """Human-readable reasons the tree holds ("completed = no", "keyword “refund”"); empty when it does not."""
    return _unique(_reasons(tree, facts) or [])


def describe(tree: Mapping[str, Any]) -> str:
    """The condition itself in words, without any response: "completed = yes", "any of (…; …)"."""
    kind = _node_kind(tree)
    if kind in ("all", "any"):
        parts = "; ".join(describe(child) for child in _children(tree, kind))
        return f"{kind} of ({parts})"
    if kind == "not":
        return f"not ({describe(tree['not'])})"
    if kind == "question":
        key = tree["question"]
        phrases = [f"{key} one of {_format(_as_list(tree['in']))}"] if "in" in tree else []
        phrases += [f"{key} {_SYMBOLS[op]} {_format(value)}" for op, value in tree.items() if op in _SYMBOLS]
        return " and ".join(phrases)
    spec = tree[kind]
    if kind in ("overall", "sentiment") and isinstance(spec, Mapping):
        return " and ".join(f"{kind} {_SYMBOLS[op]} {_format(value)}" for op, value in spec.items() if op in _SYMBOLS)
    if kind == "keywords":
        return "keyword " + " or ".join(f"“{word}”" for word in _as_list(spec))
    if kind == "customer" and isinstance(spec, Mapping):
        return f"customer tier {_format(_as_list(spec.get('tier')))}"
    if kind == "interviewer_flag":
        return "interviewer flagged a problem" if yes_no(spec) else "no interviewer flag"
    if kind == "text":
        voice, label = text_condition(spec)
        whose = "the customer's words" if voice == "customer" else "the interviewer's notes"
        return f"{whose} sound {'unhappy' if label == 'unhappy' else 'like praise'}"
    return f"{kind.replace('_', ' ')} {_format(_as_list(spec))}"


def _unique(reasons: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(reasons))


# ---------------------------------------------------------------------------
# Detection


def default_notify() -> dict[str, Any]:
    """Who hears about the built-in threshold rule: the unit's leads and also-alerts, SMS from high up."""
    return {
        "to": ["unit_leads", "unit_also_alerts"],
        "channels": {"low": ["email"], "normal": ["email"], "high": ["email", "sms"], "urgent": ["email", "sms"]},
        "mode": "immediate",
    }


def threshold_rule(recovery_threshold: float) -> RuleSpec:
    """The built-in rule: overall score at or below the organisation's recovery threshold."""
    return RuleSpec(
        key=THRESHOLD_RULE_KEY,
        kind="recovery",
        survey=None,
        when={"overall": {"lte": recovery_threshold}},
        category="Low score",
        severity="normal",
        notify=default_notify(),
        open_case=None,
        name="Overall score at or below the recovery threshold",
    )


def needs_recovery(overall: float | None, threshold: float) -> bool:
    """Whether an overall score calls for service recovery (at or below the threshold)."""
    return overall is not None and is_number(overall) and overall <= threshold


def _match(rule: RuleSpec, reasons: Sequence[str]) -> Match:
    return Match(
        rule_key=rule.key,
        kind=rule.kind,
        severity=rule.severity,
        category=rule.category,
        reasons=tuple(reasons),
        rule=rule,
    )


def detect(
    rules: Sequence[RuleSpec],
    survey_key: str,
    facts: ResponseFacts,
    recovery_threshold: float,
    *,
    threshold_unless: str = "any_rule",
) -> list[Match]:
    """Every rule that fires for a response of ``survey_key``, in rule order, then the built-in threshold rule.

    The built-in rule fires only for a response that matched no configured rule (the contract):
    a watch rule for the product team already says what is wrong with it. With
    ``threshold_unless="recovery_rule"`` it stands aside only for a configured recovery rule, so a
    low score gets a recovery alert beside any watch or praise alert. Either way one unhappy customer
    gets at most one recovery alert from it. A configured rule keyed ``threshold`` replaces the built-in.
    """
    matches: list[Match] = []
    for rule in rules:
        if rule.survey and rule.survey != survey_key:
            continue
        reasons = _reasons(rule.when, facts)
        if reasons is not None:
            matches.append(_match(rule, _unique(reasons)))
    overridden = any(rule.key == THRESHOLD_RULE_KEY for rule in rules)
    if threshold_unless == "recovery_rule":
        stands_aside = any(match.kind == "recovery" for match in matches)
    else:
        stands_aside = bool(matches)
    if not overridden and not stands_aside and needs_recovery(facts.overall, recovery_threshold):
        builtin = threshold_rule(recovery_threshold)
        matches.append(_match(builtin, explain(builtin.when, facts)))
    return matches


def raise_severity(severity: str) -> str:
    """One step up the severity ladder; ``urgent`` stays ``urgent``."""
    index = SEVERITIES.index(severity) if severity in SEVERITIES else None
    if index is None:
        raise ValueError(f"unknown severity {severity!r}; expected one of {', '.join(SEVERITIES)}")
    return SEVERITIES[min(index + 1, len(SEVERITIES) - 1)]
