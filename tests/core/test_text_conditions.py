"""The `text` leaf: its grammar, its evaluation through the facts' judge, and that it asks only when reached."""

from __future__ import annotations

import pytest

from closeloop.core.conditions import condition_problems, text_condition
from closeloop.core.rules import (
    ResponseFacts,
    RuleSpec,
    TextVerdict,
    describe,
    detect,
    evaluate,
    explain,
    text_leaves,
    uses_text,
)

UNHAPPY = TextVerdict("unhappy", "sounds unhappy: “Nobody called back” (like “Nobody called me back.”)")
PRAISE = TextVerdict("praise", "sounds pleased: “Lovely people”")


def facts(customer: TextVerdict | None = UNHAPPY, interviewer: TextVerdict | None = None, **extra: object):
    asked: list[str] = []

    def judge(voice: str) -> TextVerdict | None:
        asked.append(voice)
        return {"customer": customer, "interviewer": interviewer}[voice]

    return ResponseFacts(answers={}, overall=extra.pop("overall", 7), judge_text=judge, **extra), asked  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tree", "problems"),
    [
        ({"text": "unhappy"}, []),
        ({"text": "praise"}, []),
        ({"text": {"customer": "unhappy"}}, []),
        ({"text": {"interviewer": "praise"}}, []),
        ({"text": "angry"}, [("text", "'angry' is not one of unhappy, praise (or {interviewer: unhappy})")]),
        ({"text": "neutral"}, [("text", "'neutral' is not one of unhappy, praise (or {interviewer: unhappy})")]),
        ({"text": {"boss": "unhappy"}}, [("text.boss", "unknown voice 'boss'; use customer or interviewer")]),
        ({"text": {"interviewer": "meh"}}, [("text.interviewer", "'meh' is not one of unhappy, praise")]),
        (
            {"all": [{"overall": {"lte": 8}}, {"text": ["unhappy"]}]},
            [("all[1].text", "['unhappy'] is not one of unhappy, praise (or {interviewer: unhappy})")],
        ),
        (
            {"text": {"customer": "unhappy", "interviewer": "unhappy"}},
            [
                (
                    "text",
                    "text takes one voice (customer or interviewer) with unhappy or praise, "
                    "not {'customer': 'unhappy', 'interviewer': 'unhappy'}",
                )
            ],
        ),
        ({"text": "unhappy", "score": 1}, [("score", "unknown key 'score' next to 'text'")]),
    ],
)
def test_the_text_leaf_is_checked_and_each_problem_names_its_place(tree: object, problems: list) -> None:
    assert condition_problems(tree, {"ease": "scale"}) == problems


def test_the_customer_is_the_voice_unless_the_interviewer_is_named() -> None:
    assert text_condition("unhappy") == ("customer", "unhappy")
    assert text_condition({"interviewer": "praise"}) == ("interviewer", "praise")
    with pytest.raises(ValueError, match="text: 'sad' is not one of"):
        text_condition("sad")


def test_the_leaf_holds_when_the_voice_has_that_label_and_says_why() -> None:
    found, asked = facts()
    assert evaluate({"text": "unhappy"}, found)
    assert not evaluate({"text": "praise"}, found)
    assert explain({"text": "unhappy"}, found) == [f"text model, customer's words: {UNHAPPY.reason}"]
    assert asked == ["customer", "customer", "customer"]


def test_the_interviewers_notes_never_stand_for_the_customers_words() -> None:
    found, _ = facts(customer=PRAISE, interviewer=UNHAPPY)
    assert not evaluate({"text": "unhappy"}, found)
    assert evaluate({"text": {"interviewer": "unhappy"}}, found)
    assert explain({"text": {"interviewer": "unhappy"}}, found) == [
        f"text model, interviewer's notes: {UNHAPPY.reason}"
    ]


def test_nothing_to_judge_or_no_judge_makes_the_leaf_false() -> None:
    found, _ = facts(customer=None)
    assert not evaluate({"text": "unhappy"}, found)
    assert evaluate({"not": {"text": "unhappy"}}, found)
    assert not evaluate({"text": "unhappy"}, ResponseFacts(answers={}))


def test_the_judge_is_asked_only_when_the_leaf_is_reached() -> None:
    rule = RuleSpec(
        key="words",
        kind="watch",
        survey="csat",
        when={"all": [{"overall": {"gte": 5, "lte": 8}}, {"text": "unhappy"}]},
        category="Words",
        severity="low",
        notify={},
    )
    high, asked_high = facts(overall=10)
    assert detect([rule], "csat", high, recovery_threshold=6) == []
    assert asked_high == []
    other_survey, asked_other = facts()
    assert [m.rule_key for m in detect([rule], "nps", other_survey, recovery_threshold=6)] == []
    assert asked_other == []
    middling, asked = facts()
    assert [m.rule_key for m in detect([rule], "csat", middling, recovery_threshold=6)] == ["words"]
    assert asked == ["customer"]


def test_describing_and_finding_text_leaves() -> None:
    tree = {
        "all": [
            {"text": "unhappy"},
            {"not": {"text": "praise"}},
            {"any": [{"text": {"interviewer": "unhappy"}}, {"overall": {"lte": 3}}]},
        ]
    }
    assert describe({"text": "praise"}) == "the customer's words sound like praise"
    assert describe({"text": {"interviewer": "unhappy"}}) == "the interviewer's notes sound unhappy"
    # Only the leaves that help the tree hold: not the one under `not`.
    assert text_leaves(tree) == [("customer", "unhappy"), ("interviewer", "unhappy")]
    assert uses_text(tree) and uses_text({"not": {"text": "praise"}})
    assert not uses_text({"all": [{"overall": {"lte": 3}}, {"keywords": ["refund"]}]})


def test_sentiment_keeps_its_vader_meaning_beside_the_text_leaf() -> None:
    found = ResponseFacts(answers={}, free_texts=("This is terrible, awful service.",), judge_text=lambda voice: PRAISE)
    assert evaluate({"sentiment": {"lte": -0.5}}, found)
    assert evaluate({"text": "praise"}, found)
