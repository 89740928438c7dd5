"""core.limits: the days, instants and strings the product accepts at its edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from closeloop.core.limits import (
    MAX_NESTING,
    day_problem,
    instant_problem,
    parse_day,
    text_problem,
    unsafe_value,
)


@pytest.mark.parametrize("day", [date(1970, 1, 1), date(2026, 11, 23), date(2999, 12, 31)])
def test_days_inside_the_range_are_fine(day: date) -> None:
    assert day_problem(day) is None


@pytest.mark.parametrize("day", [date(1, 1, 1), date(1969, 12, 31), date(3000, 1, 1), date(9999, 12, 31)])
def test_days_outside_the_range_are_named(day: date) -> None:
    assert day_problem(day) == f"{day.isoformat()} is outside 1970-01-01..2999-12-31"


def test_parse_day_takes_only_year_month_day() -> None:
    assert parse_day("2026-11-23") == date(2026, 11, 23)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0", "'0' is not a date like 2026-11-23 (YYYY-MM-DD)"),
        ("1700000000", "'1700000000' is not a date like 2026-11-23 (YYYY-MM-DD)"),
        ("2026-02-30", "'2026-02-30' is not a date like 2026-11-23 (YYYY-MM-DD)"),
        ("23/11/2026", "'23/11/2026' is not a date like 2026-11-23 (YYYY-MM-DD)"),
        ("9999-12-31", "9999-12-31 is outside 1970-01-01..2999-12-31"),
    ],
)
def test_parse_day_refuses_anything_else(text: str, problem: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_day(text)
    assert str(caught.value) == problem


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=14))),
        datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC),
    ],
)
def test_instants_inside_the_range_are_fine(moment: datetime) -> None:
    assert instant_problem(moment) is None


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14))),
        datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=14))),
    ],
)
def test_instants_outside_the_range_are_named_even_where_utc_would_overflow(moment: datetime) -> None:
    assert instant_problem(moment) == f"{moment.isoformat()} is outside the years 1970..2999"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("It failed twice.", None),
        ("Ünïcödé ✓ 日本語 😀", None),
        ("a\x00b", "contains a NUL character (\\u0000)"),
        ("\ud800", "contains a lone surrogate (not valid Unicode text)"),
        ("ok \udfff", "contains a lone surrogate (not valid Unicode text)"),
    ],
)
def test_text_problem(text: str, problem: str | None) -> None:
    assert text_problem(text) == problem


def test_unsafe_value_names_the_first_bad_string_by_its_path() -> None:
    body = {"survey": "s", "answers": {"ease": 3, "comment": "a\x00b"}, "tags": ["x", "\ud800"]}
    assert unsafe_value(body) == (("answers", "comment"), "contains a NUL character (\\u0000)")


def test_unsafe_value_checks_field_names_and_list_items() -> None:
    assert unsafe_value({"ok": [1, {"bad\x00": 1}]}) == (
        ("ok", 1, "bad\x00"),
        "field name contains a NUL character (\\u0000)",
    )
    assert unsafe_value(["fine", ["\ud800"]]) == ((1, 0), "contains a lone surrogate (not valid Unicode text)")


def test_unsafe_value_refuses_deep_nesting_without_recursing() -> None:
    deep: object = 1
    for _ in range(5000):
        deep = {"x": deep}
    location, problem = unsafe_value(deep) or ((), "")
    assert problem == f"nested more than {MAX_NESTING} levels deep"
    assert len(location) == MAX_NESTING + 1


def test_clean_values_pass() -> None:
    assert unsafe_value({"a": [1, 2.5, True, None, {"b": "c"}]}) is None
    assert unsafe_value("plain") is None
