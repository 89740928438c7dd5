"""core.answers: what counts as a valid answer to each question type, and the overall score."""

from __future__ import annotations

import math

import pytest

from closeloop.core.answers import MAX_TEXT, QuestionSpec, answer_problem, overall_score

EASE = QuestionSpec("ease", "scale", min=1, max=10)
RECOMMEND = QuestionSpec("recommend", "nps")
COMPLETED = QuestionSpec("completed", "yes_no")
CHANNEL = QuestionSpec("channel", "choice", options=("Phone", "Chat"))
FACTORS = QuestionSpec("factors", "multi_choice", options=("Speed", "Courtesy"))
COMMENT = QuestionSpec("comment", "text")


@pytest.mark.parametrize("spec", [EASE, RECOMMEND, COMPLETED, CHANNEL, FACTORS, COMMENT])
def test_null_means_unanswered_for_every_type(spec: QuestionSpec) -> None:
    assert answer_problem(spec, None) is None


@pytest.mark.parametrize(
    ("spec", "value", "problem"),
    [
        (EASE, 1, None),
        (EASE, 10, None),
        (EASE, 5.5, None),
        (EASE, 0, "0 is below the minimum 1"),
        (EASE, 11, "11 is above the maximum 10"),
        (EASE, "7", "expected a number, got str"),
        (EASE, True, "expected a number, got bool"),
        (EASE, math.nan, "expected a finite number, got nan"),
        (EASE, math.inf, "expected a finite number, got inf"),
        (QuestionSpec("open", "scale"), -1000, None),
        (RECOMMEND, 0, None),
        (RECOMMEND, 10, None),
        (RECOMMEND, 7.0, None),
        (RECOMMEND, 7.5, "7.5 is not a whole number from 0 to 10"),
        (RECOMMEND, 11, "11 is above the maximum 10"),
        (RECOMMEND, -1, "-1 is below the minimum 0"),
        (COMPLETED, True, None),
        (COMPLETED, False, None),
        (COMPLETED, "yes", "expected true or false, got 'yes'"),
        (COMPLETED, 1, "expected true or false, got 1"),
        (CHANNEL, "Phone", None),
        (CHANNEL, "phone", "'phone' is not one of the options: Phone, Chat"),
        (CHANNEL, 3, "expected one of the options as a string, got int"),
        (FACTORS, ["Speed"], None),
        (FACTORS, [], None),
        (FACTORS, ["Speed", "Price"], "'Price' not among the options: Speed, Courtesy"),
        (FACTORS, "Speed", "expected a list of option strings"),
        (FACTORS, ["Speed", 2], "expected a list of option strings"),
        (COMMENT, "It failed twice.", None),
        (COMMENT, "", None),
        (COMMENT, 42, "expected text, got int"),
        (COMMENT, "x" * (MAX_TEXT + 1), f"text is longer than {MAX_TEXT} characters"),
        (QuestionSpec("odd", "colour"), "red", "unknown question type 'colour'"),
    ],
)
def test_answer_problem_names_what_is_wrong(spec: QuestionSpec, value: object, problem: str | None) -> None:
    assert answer_problem(spec, value) == problem


@pytest.mark.parametrize(
    ("key", "answers", "score"),
    [
        ("ease", {"ease": 3}, 3.0),
        ("ease", {"ease": 7.5}, 7.5),
        ("ease", {"ease": None}, None),
        ("ease", {"ease": True}, None),
        ("ease", {"ease": "3"}, None),
        ("ease", {}, None),
        ("", {"ease": 3}, None),
    ],
)
def test_overall_score_is_the_numeric_answer_to_the_overall_question(
    key: str, answers: dict[str, object], score: float | None
) -> None:
    assert overall_score(key, answers) == score
