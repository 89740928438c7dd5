"""core.vocabulary: one definition of yes, no and a number for files, the API and rules alike."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from closeloop.core.vocabulary import FALSE_WORDS, SEVERITIES, TRUE_WORDS, is_number, yes_no


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (0, True),
        (-3, True),
        (2.5, True),
        (10**400, True),
        (Fraction(1, 3), True),
        (True, False),
        (False, False),
        (math.nan, False),
        (math.inf, False),
        (-math.inf, False),
        ("3", False),
        (None, False),
        ([1], False),
    ],
)
def test_is_number_means_a_finite_real_that_is_not_a_bool(value: object, number: bool) -> None:
    assert is_number(value) is number


@pytest.mark.parametrize("word", [*sorted(TRUE_WORDS), "YES", " True ", "T"])
def test_yes_words(word: str) -> None:
    assert yes_no(word) is True


@pytest.mark.parametrize("word", [*sorted(FALSE_WORDS), "NO", " false ", "F"])
def test_no_words(word: str) -> None:
    assert yes_no(word) is False


@pytest.mark.parametrize(("value", "meaning"), [(True, True), (False, False), (1, True), (0, False), (1.0, True)])
def test_booleans_and_zero_or_one_are_yes_no(value: object, meaning: bool) -> None:
    assert yes_no(value) is meaning


@pytest.mark.parametrize("value", ["maybe", "", 2, -1, 0.5, None, math.nan, [True]])
def test_anything_else_is_not_a_yes_no_answer(value: object) -> None:
    assert yes_no(value) is None


def test_severities_run_from_lowest_to_highest() -> None:
    assert SEVERITIES == ("low", "normal", "high", "urgent")
