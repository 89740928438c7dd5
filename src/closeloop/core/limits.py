"""What the product accepts at its edges, whoever sends it: the range of days and instants, and what a
string may not contain. Pure.

Each limit exists because something downstream cannot cope with the value: a day at the end of the
calendar has no "next day" to bound a query with; PostgreSQL refuses NUL characters in text; a lone
surrogate cannot be encoded to UTF-8 for SQLite or a response; Python's JSON parser gives up on very
deep nesting with a RecursionError. Refusing them at the edge, naming the field, turns a crash into a
clear 4xx.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime

EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(2999, 12, 31)
EARLIEST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
# Deep enough for any survey payload (answers of lists of objects), far from Python's recursion limit.
MAX_NESTING = 32

_SURROGATE = re.compile("[\ud800-\udfff]")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def day_problem(day: date) -> str | None:
    """Why `day` cannot be used as a day to report or filter on, or None."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        return f"{day.isoformat()} is outside {EARLIEST_DAY.isoformat()}..{LATEST_DAY.isoformat()}"
    return None


def parse_day(text: str) -> date:
    """A day written YYYY-MM-DD within the accepted range; ValueError with the reason otherwise.

    Only this form: "0" or a Unix time is not a day, whatever a lenient parser would make of it."""
    if not _DAY.fullmatch(text):
        raise ValueError(f"{text!r} is not a date like 2026-11-23 (YYYY-MM-DD)")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date like 2026-11-23 (YYYY-MM-DD)") from None
    problem = day_problem(day)
    if problem:
        raise ValueError(problem)
    return day


def instant_problem(moment: datetime) -> str | None:
    """Why `moment` (with an offset) is outside the accepted range, or None."""
    try:
        utc = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return f"{moment.isoformat()} is outside the years 1970..2999"
    if not EARLIEST_INSTANT <= utc <= LATEST_INSTANT:
        return f"{moment.isoformat()} is outside the years 1970..2999"
    return None


def text_problem(text: str) -> str | None:
    """Why a string cannot be stored or shown as text, or None."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000)"
    if _SURROGATE.search(text):
        return "contains a lone surrogate (not valid Unicode text)"
    return None


Location = tuple[str | int, ...]


def unsafe_value(value: object, location: Location = ()) -> tuple[Location, str] | None:
    """The first place in a JSON-like value (dicts, lists, strings) whose keys or strings are not text, or
    that is nested deeper than MAX_NESTING; (location, problem) or None. Iterative, so depth costs no stack."""
    pending: list[tuple[object, Location]] = [(value, location)]
    while pending:
        current, where = pending.pop()
        if len(where) - len(location) > MAX_NESTING:
            return where, f"nested more than {MAX_NESTING} levels deep"
        if isinstance(current, str):
            problem = text_problem(current)
            if problem:
                return where, problem
        elif isinstance(current, Mapping):
            for key, item in reversed(list(current.items())):
                key_text = str(key)
                problem = text_problem(key_text)
                if problem:
                    return (*where, key_text), f"field name {problem}"
                pending.append((item, (*where, key_text)))
        elif isinstance(current, Sequence) and not isinstance(current, bytes | bytearray):
            for index in reversed(range(len(current))):
                pending.append((current[index], (*where, index)))
    return None
