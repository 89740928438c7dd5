"""Condition trees, explanations and detection over plain response facts."""

from __future__ import annotations

from dataclasses import replace
from unittest import mock

import pytest

from closeloop.core import rules
from closeloop.core.rules import (
    SEVERITIES,
    Match,
    ResponseFacts,
    RuleSpec,
    describe,
    detect,
    evaluate,
    explain,
    needs_recovery,
    raise_severity,
    threshold_rule,
)

QUESTION_TYPES = {
    "ease": "scale",
    "completed": "yes_no",
    "factors": "multi_choice",
    "channel": "choice",
    "comment": "text",
    "recommend": "nps",
}


def facts(**overrides: object) -> ResponseFacts:
    base = ResponseFacts(
        answers={"ease": 3, "completed": False, "factors": ["Speed", "Courtesy"], "channel": "Phone", "recommend": 4},
        question_types=QUESTION_TYPES,
        overall=3,
        nps=4,
        free_texts=("It failed twice and I want a refund.", "Sounded close to cancelling."),
        interviewer_flag=True,
        tier="Gold",
        segment="SMB",
        unit_path=("ACME", "SUP-EMEA", "SUP-EMEA-LON"),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def rule(key: str, when: dict, kind: str = "recovery", survey: str | None = None, severity: str = "high") -> RuleSpec:
    return RuleSpec(
        key=key,
        kind=kind,
        survey=survey,
        when=when,
        category=f"{key} category",
        severity=severity,
        notify={"to": ["unit_leads"]},
        open_case=None,
    )


# --- leaves -----------------------------------------------------------------------------

LEAF_CASES = [
    ({"question": "completed", "equals": False}, True),
    ({"question": "completed", "equals": True}, False),
    ({"question": "completed", "not_equals": True}, True),
    ({"question": "completed", "equals": "no"}, True),
    ({"question": "ease", "equals": 3}, True),
    ({"question": "ease", "equals": 3.0}, True),
    ({"question": "ease", "not_equals": 3}, False),
    ({"question": "ease", "lt": 4}, True),
    ({"question": "ease", "lt": 3}, False),
    ({"question": "ease", "lte": 3}, True),
    ({"question": "ease", "gt": 2}, True),
    ({"question": "ease", "gte": 4}, False),
    ({"question": "ease", "gte": 2, "lte": 4}, True),
    ({"question": "ease", "gte": 2, "lte": 2}, False),
    ({"question": "ease", "in": [1, 2, 3]}, True),
    ({"question": "ease", "in": [4, 5]}, False),
    ({"question": "channel", "equals": "phone"}, True),
    ({"question": "channel", "in": ["Email", "Phone"]}, True),
    ({"question": "channel", "in": ["Email"]}, False),
    ({"question": "channel", "lt": 3}, False),
    ({"question": "factors", "in": ["Knowledge", "Courtesy"]}, True),
    ({"question": "factors", "in": ["Knowledge"]}, False),
    ({"question": "factors", "equals": "Speed"}, True),
    ({"question": "factors", "equals": ["Courtesy", "Speed"]}, True),
    ({"question": "factors", "equals": ["Speed"]}, False),
    ({"question": "recommend", "lte": 6}, True),
    ({"overall": {"lte": 5}}, True),
    ({"overall": {"lte": 2}}, False),
    ({"overall": {"gte": 1, "lt": 4}}, True),
    ({"overall": {"gte": 1, "lt": 3}}, False),
    ({"overall": {"equals": 3}}, True),
    ({"nps": "detractor"}, True),
    ({"nps": "passive"}, False),
    ({"nps": "promoter"}, False),
    ({"keywords": ["refund"]}, True),
    ({"keywords": ["Refund", "never again"]}, True),
    # "cancelling" is a form of "cancel": keywords match word forms.
    ({"keywords": ["cancel"]}, True),
    ({"keywords": ["cancelling"]}, True),
    ({"keywords": ["cancellations"]}, True),
    ({"keywords": ["cancer"]}, False),
    ({"interviewer_flag": True}, True),
    ({"interviewer_flag": False}, False),
    ({"customer": {"tier": "gold"}}, True),
    ({"customer": {"tier": "Silver"}}, False),
    ({"segment": "SMB"}, True),
    ({"segment": "ENT"}, False),
    ({"unit": "SUP-EMEA-LON"}, True),
    ({"unit": "SUP-EMEA"}, True),
    ({"unit": "ACME"}, True),
    ({"unit": "SUP-US"}, False),
    ({"unit": "SUP-EMEA-LO"}, False),
]


@pytest.mark.parametrize(("tree", "expected"), LEAF_CASES, ids=[str(tree) for tree, _ in LEAF_CASES])
def test_leaf(tree: dict, expected: bool) -> None:
    assert evaluate(tree, facts()) is expected


@pytest.mark.parametrize(
    ("score", "band"),
    [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter"), (10, "promoter")],
)
def test_nps_bands_have_their_usual_edges(score: int, band: str) -> None:
    assert evaluate({"nps": band}, facts(nps=score))
    others = [other for other in rules.NPS_BANDS if other != band]
    assert not any(evaluate({"nps": other}, facts(nps=score)) for other in others)


def test_nps_leaf_is_false_without_an_nps_question() -> None:
    assert not evaluate({"nps": "detractor"}, facts(nps=None))


def test_unit_leaf_is_false_for_a_response_without_a_unit() -> None:
    assert not evaluate({"unit": "ACME"}, facts(unit_path=()))


def test_tier_is_compared_case_insensitively_and_empty_tier_never_matches() -> None:
    assert evaluate({"customer": {"tier": "GOLD"}}, facts(tier="gold"))
    assert not evaluate({"customer": {"tier": "Gold"}}, facts(tier=""))


# --- unanswered and wrong-typed answers -------------------------------------------------------


@pytest.mark.parametrize("op", ["equals", "not_equals", "lt", "lte", "gt", "gte"])
def test_a_leaf_about_an_unanswered_question_is_false_and_its_negation_true(op: str) -> None:
    skipped = facts(answers={})
    leaf = {"question": "ease", op: 5}
    assert evaluate(leaf, skipped) is False
    assert evaluate({"not": leaf}, skipped) is True


@pytest.mark.parametrize("answer", [None, "", "   "])
def test_none_and_blank_answers_count_as_unanswered(answer: object) -> None:
    leaf = {"question": "comment", "not_equals": "fine"}
    assert evaluate(leaf, facts(answers={"comment": answer})) is False


@pytest.mark.parametrize(
    ("key", "answer"),
    [
        ("ease", "three"),
        ("ease", True),
        ("ease", [3]),
        ("ease", {"value": 3}),
        ("ease", float("nan")),
        ("completed", "maybe"),
        ("completed", 7),
        ("channel", ["Phone"]),
        ("channel", {"x": 1}),
        ("factors", [["Speed"]]),
    ],
)
@pytest.mark.parametrize("op", ["equals", "not_equals", "lt", "gte", "in"])
def test_a_wrong_typed_answer_makes_every_leaf_false(key: str, answer: object, op: str) -> None:
    expected = [3] if op == "in" else 3
    assert evaluate({"question": key, op: expected}, facts(answers={key: answer})) is False


def test_a_question_without_a_declared_type_is_judged_by_its_answer() -> None:
    undeclared = facts(question_types={})
    assert evaluate({"question": "ease", "lte": 3}, undeclared)
    assert evaluate({"question": "completed", "equals": False}, undeclared)
    assert evaluate({"question": "factors", "in": ["Speed"]}, undeclared)


@pytest.mark.parametrize("answer", [10**400, -(10**400), float("inf"), "1e999999", "nan", "-inf"])
def test_numbers_beyond_float_range_are_no_score(answer: object) -> None:
    for op in ("lte", "gte", "not_equals"):
        assert evaluate({"question": "ease", op: 5}, facts(answers={"ease": answer})) is False


def test_numeric_strings_are_read_as_scores() -> None:
    assert evaluate({"question": "ease", "lte": 5}, facts(answers={"ease": " 4 "}))


def test_a_sentiment_leaf_is_false_without_any_free_text() -> None:
    assert not evaluate({"sentiment": {"lte": 0.5}}, facts(free_texts=()))
    assert not evaluate({"sentiment": {"lte": 0.5}}, facts(free_texts=("", "  ")))


def test_sentiment_leaf_compares_the_compound_score() -> None:
    angry = facts(free_texts=("Terrible service, the agent was rude and useless. I am furious.",))
    happy = facts(free_texts=("Wonderful, friendly and very helpful support. Thank you!",))
    assert evaluate({"sentiment": {"lte": -0.5}}, angry)
    assert not evaluate({"sentiment": {"lte": -0.5}}, happy)
    assert evaluate({"sentiment": {"gte": 0.5}}, happy)


def test_sentiment_is_computed_once_per_facts_and_only_when_needed() -> None:
    subject = facts()
    with mock.patch.object(rules.text, "sentiment", return_value=-0.9) as scorer:
        assert evaluate({"keywords": ["refund"]}, subject)
        assert scorer.call_count == 0
        tree = {"all": [{"sentiment": {"lte": -0.5}}, {"sentiment": {"gt": -1}}]}
        assert evaluate(tree, subject)
        assert explain(tree, subject)
        detect([rule("a", tree), rule("b", tree)], "s", subject, recovery_threshold=6)
    assert scorer.call_count == 1


def test_keywords_ignore_negated_mentions_in_any_free_text() -> None:
    polite = facts(free_texts=("The agent was not rude at all.", "Customer said nothing was wrong."))
    assert not evaluate({"keywords": ["rude"]}, polite)
    assert evaluate({"keywords": ["rude"]}, facts(free_texts=("Fine.", "Agent was rude, customer says.")))


# --- trees -----------------------------------------------------------------------------


def test_all_any_not_nest() -> None:
    tree = {
        "all": [
            {"any": [{"question": "completed", "equals": False}, {"overall": {"lte": 2}}]},
            {"not": {"customer": {"tier": "Bronze"}}},
            {"any": [{"keywords": ["cancel", "cancelling"]}, {"nps": "promoter"}]},
        ]
    }
    assert evaluate(tree, facts())
    assert not evaluate(tree, facts(tier="Bronze"))
    assert not evaluate(tree, facts(free_texts=()))


def test_empty_all_holds_and_empty_any_does_not() -> None:
    assert evaluate({"all": []}, facts()) is True
    assert evaluate({"any": []}, facts()) is False


@pytest.mark.parametrize(
    "tree",
    [
        {"frobnicate": 1},
        {"all": {"question": "ease", "lte": 3}},
        {"question": "ease", "about": 3},
        {"question": "ease"},
        {"overall": 5},
        {"nps": "grumpy"},
        {"segment": "SMB", "unit": "ACME"},
        ["not", "a", "mapping"],
    ],
)
def test_a_malformed_tree_is_a_programming_error(tree: object) -> None:
    with pytest.raises(ValueError):
        evaluate(tree, facts())  # type: ignore[arg-type]


# --- explanations ----------------------------------------------------------------------------


def test_explain_lists_why_each_leaf_held() -> None:
    tree = {
        "all": [
            {"question": "completed", "equals": False},
            {"keywords": ["refund", "cancel", "cancelling", "twice"]},
            {"overall": {"lte": 5}},
            {"nps": "detractor"},
            {"interviewer_flag": True},
            {"customer": {"tier": "Gold"}},
            {"unit": "SUP-EMEA"},
            {"question": "factors", "in": ["Courtesy", "Knowledge"]},
            {"question": "ease", "lt": 4},
        ]
    }
    assert explain(tree, facts()) == [
        "completed = no",
        "keyword “refund”",
        "keyword “cancel”",
        "keyword “twice”",
        "overall 3 ≤ 5",
        "NPS 4 (detractor)",
        "interviewer flagged a problem",
        "customer tier Gold",
        "unit SUP-EMEA-LON (within SUP-EMEA)",
        "factors = Courtesy (one of Courtesy, Knowledge)",
        "ease 3 < 4",
    ]


def test_explain_names_every_branch_of_any_that_held_and_no_other() -> None:
    tree = {"any": [{"overall": {"lte": 5}}, {"segment": "ENT"}, {"question": "completed", "equals": False}]}
    assert explain(tree, facts()) == ["overall 3 ≤ 5", "completed = no"]


def test_explain_of_a_negation_describes_the_condition_that_failed() -> None:
    tree = {"not": {"any": [{"question": "completed", "equals": True}, {"segment": "ENT"}]}}
    assert explain(tree, facts()) == ["not (any of (completed = yes; segment ENT))"]


def test_explain_is_empty_when_the_tree_does_not_hold() -> None:
    assert explain({"all": [{"overall": {"lte": 5}}, {"segment": "ENT"}]}, facts()) == []


def test_explain_does_not_repeat_a_reason() -> None:
    tree = {"all": [{"overall": {"lte": 5}}, {"any": [{"overall": {"lte": 5}}]}]}
    assert explain(tree, facts()) == ["overall 3 ≤ 5"]


def test_explain_shows_sentiment_rounded() -> None:
    angry = facts(free_texts=("Terrible, rude and useless.",))
    (reason,) = explain({"sentiment": {"lte": -0.5}}, angry)
    assert reason.startswith("sentiment -0.") and reason.endswith(" ≤ -0.5")
    assert len(reason.split()[1]) <= 5


@pytest.mark.parametrize(
    ("tree", "words"),
    [
        ({"question": "ease", "gte": 2, "lte": 4}, "ease ≥ 2 and ease ≤ 4"),
        ({"question": "factors", "in": ["Speed", "Courtesy"]}, "factors one of Speed, Courtesy"),
        ({"overall": {"lte": 5}}, "overall ≤ 5"),
        ({"keywords": ["refund", "never again"]}, "keyword “refund” or “never again”"),
        ({"nps": "detractor"}, "nps detractor"),
        ({"interviewer_flag": False}, "no interviewer flag"),
        ({"customer": {"tier": "Gold"}}, "customer tier Gold"),
        ({"all": [{"segment": "SMB"}, {"not": {"unit": "ACME"}}]}, "all of (segment SMB; not (unit ACME))"),
    ],
)
def test_describe_puts_a_condition_in_words(tree: dict, words: str) -> None:
    assert describe(tree) == words


# --- detection ---------------------------------------------------------------------------


def test_detect_returns_matching_rules_in_order_with_reasons() -> None:
    configured = [
        rule("install-failed", {"question": "completed", "equals": False}),
        rule("praise", {"nps": "promoter"}, kind="praise"),
        rule("flagged", {"interviewer_flag": True}, kind="watch", severity="low"),
    ]
    found = detect(configured, "upgrade-install", facts(), recovery_threshold=6)
    assert found == [
        Match("install-failed", "recovery", "high", "install-failed category", ("completed = no",), configured[0]),
        Match("flagged", "watch", "low", "flagged category", ("interviewer flagged a problem",), configured[2]),
    ]


def test_detect_skips_rules_limited_to_another_survey() -> None:
    configured = [
        rule("other", {"overall": {"lte": 10}}, survey="other-survey"),
        rule("mine", {"overall": {"lte": 10}}, survey="upgrade-install", kind="watch"),
    ]
    found = detect(configured, "upgrade-install", facts(), recovery_threshold=6)
    assert [match.rule_key for match in found] == ["mine"]


def test_threshold_rule_fires_when_no_configured_rule_matched() -> None:
    found = detect([rule("praise", {"nps": "promoter"}, kind="praise")], "s", facts(), recovery_threshold=6)
    (builtin,) = found
    assert builtin.rule_key == "threshold"
    assert (builtin.kind, builtin.severity, builtin.category) == ("recovery", "normal", "Low score")
    assert builtin.reasons == ("overall 3 ≤ 6",)
    assert builtin.rule is not None
    assert builtin.rule.notify["to"] == ["unit_leads", "unit_also_alerts"]
    assert builtin.rule.notify["mode"] == "immediate"
    assert builtin.rule.notify["channels"]["high"] == ["email", "sms"]


def test_threshold_rule_stays_quiet_when_a_configured_recovery_rule_fired() -> None:
    found = detect([rule("install-failed", {"question": "completed", "equals": False})], "s", facts(), 6)
    assert [match.rule_key for match in found] == ["install-failed"]


@pytest.mark.parametrize("kind", ["watch", "praise"])
def test_a_matching_watch_or_praise_rule_silences_the_threshold_rule(kind: str) -> None:
    configured = [rule("flagged", {"interviewer_flag": True}, kind=kind)]
    assert [match.rule_key for match in detect(configured, "s", facts(), 6)] == ["flagged"]


@pytest.mark.parametrize("kind", ["watch", "praise"])
def test_threshold_unless_recovery_rule_fires_beside_watch_and_praise_rules(kind: str) -> None:
    configured = [rule("flagged", {"interviewer_flag": True}, kind=kind)]
    found = detect(configured, "s", facts(), 6, threshold_unless="recovery_rule")
    assert [match.rule_key for match in found] == ["flagged", "threshold"]


def test_threshold_unless_recovery_rule_still_stands_aside_for_a_recovery_rule() -> None:
    configured = [rule("install-failed", {"question": "completed", "equals": False})]
    found = detect(configured, "s", facts(), 6, threshold_unless="recovery_rule")
    assert [match.rule_key for match in found] == ["install-failed"]


@pytest.mark.parametrize(("overall", "fires"), [(6, True), (6.0, True), (5.5, True), (6.01, False), (None, False)])
def test_threshold_rule_fires_at_or_below_the_threshold(overall: float | None, fires: bool) -> None:
    found = detect([], "s", facts(overall=overall), recovery_threshold=6)
    assert bool(found) is fires
    assert needs_recovery(overall, 6) is fires


def test_a_configured_rule_keyed_threshold_replaces_the_builtin() -> None:
    configured = [rule("threshold", {"overall": {"lte": 2}}, kind="watch")]
    assert detect(configured, "s", facts(), recovery_threshold=6) == []


def test_threshold_rule_spec_carries_the_organisation_threshold() -> None:
    spec = threshold_rule(4.5)
    assert spec.when == {"overall": {"lte": 4.5}}
    assert spec.notify is not threshold_rule(4.5).notify


# --- severities ------------------------------------------------------------------------------


def test_raise_severity_climbs_one_step_and_stops_at_urgent() -> None:
    assert SEVERITIES == ("low", "normal", "high", "urgent")
    assert [raise_severity(level) for level in SEVERITIES] == ["normal", "high", "urgent", "urgent"]


def test_raise_severity_rejects_an_unknown_level() -> None:
    with pytest.raises(ValueError, match="critical"):
        raise_severity("critical")
