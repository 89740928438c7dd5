"""A source's `map`: which of the tool's values become which field of the ingest item, and how.

A map entry names one value of the tool's payload by namespace and name (`{ref: q_ease}`,
`{hidden: ticket_id}`, or a bare name in the tool's default namespace), or a constant
(`{value: SUP-EMEA}`). A list of entries means "the first of these that the payload has".
`null` switches off a tool default.

Options of an entry, applied in this order:

- `values: {tool value: our value}` — a lookup table (keys compared as text, case-insensitively).
  For score questions the table may answer `top`, `bottom` or `middle`: the question's
  maximum, minimum or midpoint (for yes/no: true, false; no middle).
- `scale: [low, high]` — the tool's numeric range, mapped linearly onto the question's range:
  `ours = min + (v - low) * (max - min) / (high - low)`, rounded half up to a whole number when
  both ends of our range are whole (nps is 0..10).
- `points: [p1, p2, ...]` — the tool's scale as an ordered list of the values it uses, for
  scales that are not evenly spaced (Freshdesk: -103, -102, -101, 100, 101, 102, 103). The
  k-th of n points becomes `min + (k - 1) * (max - min) / (n - 1)`, rounded as above.
- `optional: true` — the value may be absent from the payload without a problem.

Then the value is converted to the type of its target: the question's type for answers, text
for codes and names, true/false for flags, a date and time for `submitted_at`. A value that
cannot be converted, or an answer that the question would refuse, is left out of the item and
reported as a problem naming the map path, so the response is stored with what could be read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from closeloop.connectors.errors import PayloadUnreadable
from closeloop.connectors.record import PATH_NAMESPACE, Record
from closeloop.connectors.survey import Survey
from closeloop.core.answers import QuestionSpec, answer_problem

CONSTANT = "value"
OPTION_KEYS = ("values", "scale", "points", "optional")
SPECIAL_WORDS = ("top", "bottom", "middle")

CUSTOMER_FIELDS = ("id", "name", "email", "phone", "tier", "contact_ok")
ENVELOPE_FIELDS = (
    "external_id",
    "submitted_at",
    "unit",
    "segment",
    "agent",
    "ticket",
    "interviewer_notes",
    "interviewer_flag",
    "audio_url",
)
TEXT_LIMITS = {
    "external_id": 200,
    "unit": 100,
    "segment": 100,
    "agent": 100,
    "ticket": 200,
    "interviewer_notes": 20_000,
    "audio_url": 1000,
    "customer.id": 200,
    "customer.name": 200,
    "customer.email": 254,
    "customer.phone": 40,
    "customer.tier": 50,
}
FLAG_FIELDS = ("interviewer_flag", "customer.contact_ok")
# Hidden fields / custom variables with these names fill the envelope without any map: the
# same names as the columns of a CSV import.
AUTO_ENVELOPE_NAMES = {
    "unit": "unit",
    "segment": "segment",
    "agent": "agent",
    "ticket": "ticket",
    "customer_id": "customer.id",
    "customer_name": "customer.name",
    "customer_email": "customer.email",
    "customer_phone": "customer.phone",
    "customer_tier": "customer.tier",
    "contact_ok": "customer.contact_ok",
}

TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1", "on", "checked"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "0", "off", "unchecked"})
_EMAIL = re.compile(r"^[^@\s\[\]<>]+@[^@\s\[\]<>]+\.[^@\s\[\]<>.]+$")
_PHONE_CHARS = frozenset("0123456789+-() .")
_LIST_SEPARATORS = re.compile(r"\s*[;|]\s*|,\s+")
# Freshdesk's example writes hours with three digits ("T010:08:16Z").
_LOOSE_ISO = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,3}):(\d{1,2})(?::(\d{1,2})(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$", re.I
)
_OTHER_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")


def all_paths(survey_keys: Collection[str] = ()) -> tuple[str, ...]:
    return (*ENVELOPE_FIELDS, *(f"customer.{name}" for name in CUSTOMER_FIELDS), *(f"answers.{k}" for k in survey_keys))


# ---------------------------------------------------------------------------------- the map


@dataclass(frozen=True)
class Pick:
    """One way of finding a value: a namespace and a name, or a constant, with its conversion options."""

    namespace: str | None
    name: str = ""
    constant: Any = None
    values: Mapping[str, Any] | None = None
    scale: tuple[float, float] | None = None
    points: tuple[float, ...] | None = None
    optional: bool = False

    def describe(self) -> str:
        return f"{self.namespace} {self.name!r}" if self.namespace else f"value {self.constant!r}"


@dataclass(frozen=True)
class Rule:
    """Where one item field comes from: the first pick the payload has. `declared`: written in the source's map."""

    path: str
    picks: tuple[Pick, ...]
    declared: bool = True


Rules = dict[str, Rule | None]


class MapInvalid(ValueError):
    """The map as written cannot be used; each problem is (path under the source, message)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))
        self.problems = problems


def parse_map(raw: object, *, namespaces: Collection[str], default_namespace: str) -> Rules:
    """The rules of a `map:` mapping as written; raises MapInvalid listing every problem."""
    problems: list[tuple[str, str]] = []
    rules: Rules = {}
    if raw is None:
        return rules
    if not isinstance(raw, Mapping):
        raise MapInvalid([("map", f"must be a mapping (key: value), not {raw!r}")])
    allowed = [*namespaces, PATH_NAMESPACE]
    for key, entry in raw.items():
        if key == "customer":
            if not isinstance(entry, Mapping):
                problems.append(("map.customer", f"must be a mapping of {', '.join(CUSTOMER_FIELDS)}"))
                continue
            for name, sub in entry.items():
                if name not in CUSTOMER_FIELDS:
                    problems.append((f"map.customer.{name}", f"unknown key (use {', '.join(CUSTOMER_FIELDS)})"))
                    continue
                _add_rule(rules, problems, f"customer.{name}", sub, allowed, default_namespace)
        elif key == "answers":
            if not isinstance(entry, Mapping):
                problems.append(("map.answers", "must be a mapping of question keys to tool fields"))
                continue
            for question, sub in entry.items():
                _add_rule(rules, problems, f"answers.{question}", sub, allowed, default_namespace)
        elif key in ENVELOPE_FIELDS:
            _add_rule(rules, problems, str(key), entry, allowed, default_namespace)
        else:
            known = ", ".join([*ENVELOPE_FIELDS, "customer", "answers"])
            problems.append((f"map.{key}", f"unknown key (use {known})"))
    if problems:
        raise MapInvalid(problems)
    return rules


def _add_rule(
    rules: Rules,
    problems: list[tuple[str, str]],
    path: str,
    entry: object,
    namespaces: list[str],
    default_namespace: str,
) -> None:
    if entry is None:
        rules[path] = None
        return
    entries = entry if isinstance(entry, list) else [entry]
    if not entries:
        problems.append((f"map.{path}", "an empty list picks nothing (use null to switch the field off)"))
        return
    picks = []
    for index, one in enumerate(entries):
        where = f"map.{path}" if not isinstance(entry, list) else f"map.{path}[{index}]"
        try:
            picks.append(_parse_pick(one, namespaces, default_namespace, where))
        except _EntryProblem as exc:
            problems.append((exc.path, exc.message))
    if len(picks) == len(entries):
        rules[path] = Rule(path, tuple(picks))


class _EntryProblem(Exception):
    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message


def _parse_pick(entry: object, namespaces: list[str], default_namespace: str, where: str) -> Pick:
    if isinstance(entry, str | int) and not isinstance(entry, bool):
        return Pick(default_namespace, str(entry))
    if not isinstance(entry, Mapping):
        raise _EntryProblem(
            where, f"must be a field name or a mapping like {{{default_namespace}: NAME}}, not {entry!r}"
        )
    selectors = [key for key in entry if key in namespaces or key == CONSTANT]
    unknown = [key for key in entry if key not in namespaces and key != CONSTANT and key not in OPTION_KEYS]
    choices = ", ".join([*namespaces, CONSTANT])
    if unknown:
        raise _EntryProblem(
            f"{where}.{unknown[0]}", f"unknown key (use one of {choices}, and options {', '.join(OPTION_KEYS)})"
        )
    if len(selectors) != 1:
        raise _EntryProblem(where, f"give exactly one of {choices}")
    selector = selectors[0]
    values = _parse_values(entry.get("values"), f"{where}.values")
    scale = _parse_scale(entry.get("scale"), f"{where}.scale")
    points = _parse_points(entry.get("points"), f"{where}.points")
    if scale and points:
        raise _EntryProblem(where, "give scale or points, not both")
    optional = entry.get("optional", False)
    if not isinstance(optional, bool):
        raise _EntryProblem(f"{where}.optional", f"{optional!r} is not true or false")
    if selector == CONSTANT:
        return Pick(None, constant=entry[CONSTANT], values=values, scale=scale, points=points, optional=optional)
    name = entry[selector]
    if isinstance(name, bool) or not isinstance(name, str | int) or str(name) == "":
        raise _EntryProblem(f"{where}.{selector}", f"{name!r} is not a field name")
    return Pick(selector, str(name), values=values, scale=scale, points=points, optional=optional)


def _parse_values(raw: object, where: str) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not raw:
        raise _EntryProblem(where, "must be a mapping of tool values to our values")
    return {_table_key(key): value for key, value in raw.items()}


def _parse_scale(raw: object, where: str) -> tuple[float, float] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) != 2 or not all(_is_number(v) for v in raw):
        raise _EntryProblem(where, f"must be [low, high], two numbers, not {raw!r}")
    low, high = float(raw[0]), float(raw[1])
    if low == high:
        raise _EntryProblem(where, "low and high must differ")
    return low, high


def _parse_points(raw: object, where: str) -> tuple[float, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) < 2 or not all(_is_number(v) for v in raw):
        raise _EntryProblem(where, f"must list at least two numbers, lowest first, not {raw!r}")
    points = tuple(float(v) for v in raw)
    if len(set(points)) != len(points):
        raise _EntryProblem(where, "lists a value twice")
    return points


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def survey_problems(rules: Rules, survey: Survey) -> list[tuple[str, str]]:
    """What in the map does not fit the survey: unknown question keys, conversions its types cannot take."""
    problems = []
    for path, rule in rules.items():
        if rule is None or not path.startswith("answers."):
            continue
        key = path.removeprefix("answers.")
        spec = survey.questions.get(key)
        if spec is None:
            problems.append((f"map.{path}", f"not a question of survey {survey.key!r}"))
            continue
        for pick in rule.picks:
            if (pick.scale or pick.points) and not spec.is_numeric:
                problems.append(
                    (f"map.{path}", f"scale and points are for scale and nps questions; {key} is {spec.type}")
                )
            elif (pick.scale or pick.points) and spec.type == "scale" and (spec.min is None or spec.max is None):
                problems.append((f"map.{path}", f"question {key} has no min and max to rescale onto"))
    return problems


# ------------------------------------------------------------------------------ the result


@dataclass(frozen=True)
class Item:
    """One ingest item (a `POST /api/v1/responses` body) and the map's problems to store with it."""

    body: dict[str, Any]
    problems: tuple[str, ...] = ()

    @property
    def external_id(self) -> str:
        return str(self.body["external_id"])


class Unconvertible(ValueError):
    """A value does not fit its target; the message says why, without the map path."""


def build_item(record: Record, rules: Rules, survey: Survey, *, received_at: datetime) -> Item:
    """Apply the rules to one record; raises PayloadUnreadable only when no response id can be found."""
    body: dict[str, Any] = {"survey": survey.key}
    answers: dict[str, Any] = {}
    customer: dict[str, Any] = {}
    problems: list[str] = []
    for path, rule in rules.items():
        if rule is None:
            continue
        found = _resolve(rule, record)
        if found is None:
            if rule.declared and not all(pick.optional for pick in rule.picks):
                problems.append(f"map.{path}: {_missing_text(rule)}")
            continue
        pick, value = found
        if _is_blank(value):
            continue  # unanswered, or an empty hidden field
        try:
            if path.startswith("answers."):
                key = path.removeprefix("answers.")
                spec = survey.questions.get(key)
                if spec is None:
                    raise Unconvertible(f"not a question of survey {survey.key!r}")
                answers[key] = convert_answer(value, pick, spec)
            elif path.startswith("customer."):
                customer[path.removeprefix("customer.")] = convert_field(path, value, pick)
            else:
                body[path] = convert_field(path, value, pick)
        except Unconvertible as exc:
            problems.append(f"map.{path}: {exc}")
    if "external_id" not in body:
        rule = rules.get("external_id")
        where = _missing_text(rule) if rule is not None else "no rule for it"
        raise PayloadUnreadable(f"no response id to use as external_id (map.external_id: {where})")
    body.setdefault("submitted_at", received_at.isoformat())
    if customer:
        if "id" not in customer:
            fallback = customer.get("email") or customer.get("phone")
            if fallback:
                customer["id"] = fallback  # the address is the most stable id a survey tool knows
            else:
                problems.append("map.customer.id: missing; the customer's details are not stored without an id")
                customer = {}
        if customer:
            body["customer"] = customer
    body["answers"] = answers
    return Item(body, tuple(problems))


def _resolve(rule: Rule, record: Record) -> tuple[Pick, Any] | None:
    for pick in rule.picks:
        if pick.namespace is None:
            return pick, pick.constant
        found = record.lookup(pick.namespace, pick.name)
        if found.found:
            return pick, found.value
    return None


def _missing_text(rule: Rule) -> str:
    picks = [pick.describe() for pick in rule.picks]
    if len(picks) == 1:
        return f"{picks[0]} is not in the payload"
    return f"none of {', '.join(picks)} is in the payload"


def _is_blank(value: Any) -> bool:
    """Unanswered: nothing, empty text, or a list or object of nothing (Jotform's empty date is {"day": ""...})."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    if isinstance(value, list):
        return all(_is_blank(one) for one in value)
    if isinstance(value, Mapping):
        return all(_is_blank(one) for one in value.values())
    return False


# --------------------------------------------------------------------------- conversions


def convert_answer(value: Any, pick: Pick, spec: QuestionSpec) -> Any:
    """The answer for `spec` from a tool value; raises Unconvertible with the reason."""
    if pick.values is not None:
        value = _lookup(value, pick.values)
        if isinstance(value, str) and value in SPECIAL_WORDS and spec.type in ("nps", "scale", "yes_no"):
            return _special(value, spec)
    if spec.is_numeric:
        result: Any = _rescale(to_number(value), pick, spec)
    elif spec.type == "yes_no":
        result = to_bool(value)
    elif spec.type == "choice":
        result = _canonical_option(_single_text(value), spec)
    elif spec.type == "multi_choice":
        result = [_canonical_option(part, spec) for part in _text_list(value, spec)]
    else:
        result = as_text(value)
    problem = answer_problem(spec, result)
    if problem:
        raise Unconvertible(problem)
    return result


def convert_field(path: str, value: Any, pick: Pick) -> Any:
    """An envelope or customer field from a tool value."""
    if pick.values is not None:
        value = _lookup(value, pick.values)
    if path in FLAG_FIELDS:
        return to_bool(value)
    if path == "submitted_at":
        return to_moment(value).isoformat()
    text = as_text(value)
    limit = TEXT_LIMITS.get(path)
    if limit is not None and len(text) > limit:
        raise Unconvertible(f"{len(text)} characters, at most {limit} fit")
    if path == "customer.email" and not _EMAIL.match(text):
        raise Unconvertible(f"{text!r} is not an email address")
    if path == "customer.phone" and not set(text) <= _PHONE_CHARS:
        raise Unconvertible(f"{text!r} is not a phone number")
    if path == "audio_url":
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise Unconvertible(f"{text!r} is not an absolute http(s) URL")
    return text


def _table_key(value: Any) -> str:
    return as_text(value).casefold()


def _lookup(value: Any, table: Mapping[str, Any]) -> Any:
    if isinstance(value, list):
        return [_lookup(one, table) for one in value]
    key = _table_key(value)
    if key not in table:
        known = ", ".join(repr(k) for k in list(table)[:10])
        raise Unconvertible(f"{as_text(value)!r} is not in the values table (it has {known})")
    return table[key]


def _special(word: str, spec: QuestionSpec) -> Any:
    if spec.type == "yes_no":
        if word == "middle":
            raise Unconvertible("middle has no meaning for a yes/no question")
        return word == "top"
    low, high = _range(spec)
    if word == "top":
        return _whole(high)
    if word == "bottom":
        return _whole(low)
    return _round_into(low + (high - low) / 2, low, high)


def _range(spec: QuestionSpec) -> tuple[float, float]:
    if spec.type == "nps":
        return 0.0, 10.0
    if spec.min is None or spec.max is None:
        raise Unconvertible(f"question {spec.key} has no min and max to convert onto")
    return float(spec.min), float(spec.max)


def _rescale(number: float, pick: Pick, spec: QuestionSpec) -> int | float:
    if pick.scale is None and pick.points is None:
        return number
    low, high = _range(spec)
    if pick.scale is not None:
        tool_low, tool_high = pick.scale
        if not min(tool_low, tool_high) <= number <= max(tool_low, tool_high):
            scale = f"{_number_text(tool_low)}..{_number_text(tool_high)}"
            raise Unconvertible(f"{_number_text(number)} is outside the tool's scale {scale}")
        share = (number - tool_low) / (tool_high - tool_low)
    else:
        points = pick.points or ()
        if number not in points:
            raise Unconvertible(
                f"{_number_text(number)} is not one of the tool's points {', '.join(_number_text(p) for p in points)}"
            )
        share = points.index(number) / (len(points) - 1)
    return _round_into(low + share * (high - low), low, high)


def _round_into(value: float, low: float, high: float) -> int | float:
    if float(low).is_integer() and float(high).is_integer():
        return math.floor(value + 0.5)  # half up, not to even: 5.5 is 6 on every run
    return round(value, 4)


def _whole(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def to_number(value: Any) -> int | float:
    if isinstance(value, list) and len(value) == 1:
        return to_number(value[0])
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Unconvertible(f"expected a number, got {_kind(value)}")
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise Unconvertible(f"{value!r} is not a number") from None
    else:
        number = float(value)
    if not math.isfinite(number):
        raise Unconvertible(f"{value!r} is not a finite number")
    return _whole(number)


def to_bool(value: Any) -> bool:
    if isinstance(value, list) and len(value) == 1:
        return to_bool(value[0])
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().casefold()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise Unconvertible(f"{value!r} is not yes or no")


def to_moment(value: Any) -> datetime:
    """A date and time from ISO 8601 (also loosely written), Unix seconds or milliseconds, or common export forms."""
    if _is_number(value):
        seconds = float(value) / 1000 if float(value) > 100_000_000_000 else float(value)
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise Unconvertible(f"{value!r} is not a Unix time") from None
    if not isinstance(value, str):
        raise Unconvertible(f"expected a date and time, got {_kind(value)}")
    text = value.strip()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    match = _LOOSE_ISO.match(text)
    if match:
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        try:
            # Naive until the zone is read below; without one, ingest reads it in the organisation's time zone.
            moment = datetime(  # noqa: DTZ001
                int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                int(float(fraction or 0) * 1_000_000),
            )  # fmt: skip
        except ValueError:
            raise Unconvertible(f"{value!r} is not a valid date and time") from None
        if zone:
            moment = datetime.fromisoformat(moment.isoformat() + ("+00:00" if zone.upper() == "Z" else _colon(zone)))
        return moment
    for form in _OTHER_FORMATS:
        try:
            return datetime.strptime(text, form)  # noqa: DTZ007 (no offset: the organisation's time zone applies)
        except ValueError:
            continue
    raise Unconvertible(f"{value!r} is not a date and time")


def _colon(zone: str) -> str:
    return zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"


def as_text(value: Any) -> str:
    """Text for a code, a name or a free-text answer; lists are joined, a name object's parts too."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return _number_text(value)
    if isinstance(value, list):
        return ", ".join(text for text in (as_text(one) for one in value) if text)
    if isinstance(value, Mapping):
        if "url" in value:  # a file upload: its link is what a person can use
            return as_text(value["url"])
        return " ".join(text for text in (as_text(one) for one in value.values()) if text)
    return str(value)


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _single_text(value: Any) -> str:
    if isinstance(value, list):
        if len(value) != 1:
            raise Unconvertible(f"expected one choice, got {len(value)}")
        value = value[0]
    if isinstance(value, Mapping | list):
        raise Unconvertible(f"expected a choice, got {_kind(value)}")
    return as_text(value)


def _text_list(value: Any, spec: QuestionSpec) -> list[str]:
    if isinstance(value, list):
        return [as_text(one) for one in value if not _is_blank(one)]
    text = as_text(value)
    if _find_option(text, spec) is not None:
        return [text]
    # Tools that join a checkbox answer into one string use ", " (Google Forms) or ";" / "|".
    return [part for part in _LIST_SEPARATORS.split(text) if part]


def _find_option(text: str, spec: QuestionSpec) -> str | None:
    folded = text.casefold()
    return next((option for option in spec.options if option.casefold() == folded), None)


def _canonical_option(text: str, spec: QuestionSpec) -> str:
    return _find_option(text, spec) or text


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", bool: "true/false"}.get(type(value), type(value).__name__)


def default_rule(path: str, *picks: Pick) -> Rule:
    """A tool's own rule: used unless the source's map says otherwise, and silent when its value is absent."""
    return Rule(path, picks, declared=False)


def pick(namespace: str, name: str, **options: Any) -> Pick:
    return Pick(namespace, name, **options)


def combine_rules(defaults: Rules, declared: Rules, *, own_answers: bool) -> Rules:
    """The source's rules over the tool's defaults; a source with its own `answers` replaces the default answers."""
    combined: Rules = {
        path: rule for path, rule in defaults.items() if not (own_answers and path.startswith("answers."))
    }
    combined.update(declared)
    return combined
