"""Laws the condition evaluator and the detector keep for any tree and any response."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from closeloop.core.rules import ResponseFacts, RuleSpec, TextVerdict, detect, evaluate, explain
from closeloop.core.vocabulary import QUESTION_TYPES

KEYS = ["ease", "completed", "factors", "channel", "comment", "recommend", "ghost"]
WORDS = ["rude", "refund", "slow", "not", "never", "again", "helpful", "but", "wasn't", "no", "great", "Speed"]
UNITS = ["ACME", "SUP", "SUP-EMEA", "SUP-US", "LON"]

anything = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-20, 20)
    | st.integers()
    | st.just(10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(WORDS),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
phrases = st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join)
free_text = st.lists(phrases, max_size=3).map(", ".join) | st.text(max_size=30)

facts_strategy = st.builds(
    ResponseFacts,
    answers=st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), anything, max_size=6),
    question_types=st.dictionaries(
        st.sampled_from(KEYS), st.sampled_from([*QUESTION_TYPES, "bogus"]), max_size=len(KEYS)
    ),
    overall=st.none() | st.floats(-5, 15, allow_nan=False) | st.integers(0, 10),
    nps=st.none() | st.integers(-3, 13),
    free_texts=st.lists(free_text, max_size=3).map(tuple),
    interviewer_flag=st.booleans(),
    tier=st.sampled_from(["", "Gold", "gold", "Silver", "Bronze"]),
    segment=st.sampled_from(["", "SMB", "ENT"]),
    unit_path=st.lists(st.sampled_from(UNITS), max_size=3, unique=True).map(tuple),
    # The text model's verdict per voice: none at all, or a fixed one (the judge is the caller's).
    judge_text=st.none()
    | st.builds(
        lambda verdicts: lambda voice: verdicts.get(voice),
        st.dictionaries(
            st.sampled_from(["customer", "interviewer"]),
            st.builds(TextVerdict, st.sampled_from(["unhappy", "praise", "neutral"]), st.just("sounds so: “x”")),
        ),
    ),
)

comparison_ops = st.sampled_from(["equals", "not_equals", "lt", "lte", "gt", "gte"])
scalar = st.none() | st.booleans() | st.integers(-2, 12) | st.floats(-2, 12) | st.sampled_from(WORDS)
comparisons = st.dictionaries(comparison_ops, st.integers(-2, 12) | st.floats(-1, 12), min_size=1, max_size=3)

leaves = st.one_of(
    st.builds(lambda key, op, value: {"question": key, op: value}, st.sampled_from(KEYS), comparison_ops, scalar),
    st.builds(
        lambda key, options: {"question": key, "in": options}, st.sampled_from(KEYS), st.lists(scalar, max_size=4)
    ),
    st.builds(lambda spec: {"overall": spec}, comparisons),
    st.builds(lambda band: {"nps": band}, st.sampled_from(["detractor", "passive", "promoter"])),
    st.builds(lambda words: {"keywords": words}, st.lists(phrases, min_size=1, max_size=3)),
    st.builds(
        lambda op, value: {"sentiment": {op: value}},
        st.sampled_from(["lt", "lte", "gt", "gte"]),
        st.floats(-1, 1),
    ),
    st.builds(lambda flag: {"interviewer_flag": flag}, st.booleans()),
    st.builds(lambda label: {"text": label}, st.sampled_from(["unhappy", "praise"])),
    st.builds(
        lambda voice, label: {"text": {voice: label}},
        st.sampled_from(["customer", "interviewer"]),
        st.sampled_from(["unhappy", "praise"]),
    ),
    st.builds(lambda tier: {"customer": {"tier": tier}}, st.sampled_from(["Gold", "SILVER", "bronze"])),
    st.builds(lambda segment: {"segment": segment}, st.sampled_from(["SMB", "ENT"])),
    st.builds(lambda unit: {"unit": unit}, st.sampled_from(UNITS)),
)


def _compound(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return (
        st.builds(lambda items: {"all": items}, st.lists(children, max_size=3))
        | st.builds(lambda items: {"any": items}, st.lists(children, max_size=3))
        | st.builds(lambda child: {"not": child}, children)
    )


trees = st.recursive(leaves, _compound, max_leaves=8)


def _has_empty_all(tree: Mapping[str, Any]) -> bool:
    # {all: []} holds without any reason to name, so explanations may legitimately be empty.
    if "all" in tree:
        return not tree["all"] or any(_has_empty_all(child) for child in tree["all"])
    if "any" in tree:
        return any(_has_empty_all(child) for child in tree["any"])
    if "not" in tree:
        return _has_empty_all(tree["not"])
    return False


@given(trees, facts_strategy)
def test_double_negation_is_the_condition_itself(tree: dict, facts: ResponseFacts) -> None:
    assert evaluate({"not": {"not": tree}}, facts) == evaluate(tree, facts)


@given(trees, facts_strategy)
def test_all_or_any_of_one_condition_is_that_condition(tree: dict, facts: ResponseFacts) -> None:
    alone = evaluate(tree, facts)
    assert evaluate({"all": [tree]}, facts) == alone
    assert evaluate({"any": [tree]}, facts) == alone


@given(facts_strategy)
def test_empty_all_holds_and_empty_any_does_not(facts: ResponseFacts) -> None:
    assert evaluate({"all": []}, facts) is True
    assert evaluate({"any": []}, facts) is False


@given(st.lists(trees, max_size=4), facts_strategy)
def test_de_morgan(children: list[dict], facts: ResponseFacts) -> None:
    negated = [{"not": child} for child in children]
    assert evaluate({"not": {"all": children}}, facts) == evaluate({"any": negated}, facts)
    assert evaluate({"not": {"any": children}}, facts) == evaluate({"all": negated}, facts)


@given(st.lists(trees, max_size=4), st.randoms(use_true_random=False), facts_strategy)
def test_the_order_of_conditions_does_not_matter(children: list[dict], random: Any, facts: ResponseFacts) -> None:
    shuffled = list(children)
    random.shuffle(shuffled)
    assert evaluate({"all": shuffled}, facts) == evaluate({"all": children}, facts)
    assert evaluate({"any": shuffled}, facts) == evaluate({"any": children}, facts)


@given(trees, facts_strategy)
def test_all_and_any_agree_with_their_children(tree: dict, facts: ResponseFacts) -> None:
    other = {"any": [tree, {"all": []}]}
    assert evaluate({"all": [tree, tree]}, facts) == evaluate(tree, facts)
    assert evaluate(other, facts) is True
    assert evaluate({"all": [tree, {"not": tree}]}, facts) is False
    assert evaluate({"any": [tree, {"not": tree}]}, facts) is True


@given(trees, facts_strategy)
def test_a_tree_has_reasons_exactly_when_it_holds(tree: dict, facts: ResponseFacts) -> None:
    holds = evaluate(tree, facts)
    reasons = explain(tree, facts)
    assert all(isinstance(reason, str) and reason for reason in reasons)
    assert len(reasons) == len(set(reasons))
    if not holds:
        assert reasons == []
    elif not _has_empty_all(tree):
        assert reasons


@given(trees, facts_strategy)
def test_evaluation_is_repeatable_on_the_same_facts(tree: dict, facts: ResponseFacts) -> None:
    assert evaluate(tree, facts) == evaluate(tree, facts)


@settings(max_examples=300)
@given(trees, st.dictionaries(st.text(max_size=6) | st.sampled_from(KEYS), anything, max_size=8))
def test_evaluation_never_raises_for_any_answers(tree: dict, answers: dict[str, object]) -> None:
    facts = ResponseFacts(answers=answers, question_types={"ease": "scale", "completed": "yes_no"})
    assert evaluate(tree, facts) in (True, False)
    explain(tree, facts)


rule_specs = st.builds(
    lambda index, kind, survey, when: RuleSpec(
        key=f"rule-{index}",
        kind=kind,
        survey=survey,
        when=when,
        category="Category",
        severity="normal",
        notify={},
    ),
    st.integers(0, 1000),
    st.sampled_from(["recovery", "praise", "watch"]),
    st.none() | st.sampled_from(["mine", "other"]),
    trees,
)


@given(st.lists(rule_specs, max_size=5, unique_by=lambda spec: spec.key), facts_strategy, st.integers(0, 10))
def test_the_threshold_rule_fires_exactly_when_no_configured_rule_matched(
    specs: list[RuleSpec], facts: ResponseFacts, threshold: int
) -> None:
    matches = detect(specs, "mine", facts, recovery_threshold=threshold)
    keys = [match.rule_key for match in matches]
    configured = [match for match in matches if match.rule_key != "threshold"]
    assert ("threshold" in keys) == (not configured and facts.overall is not None and facts.overall <= threshold)
    assert keys.count("threshold") <= 1


@given(st.lists(rule_specs, max_size=5, unique_by=lambda spec: spec.key), facts_strategy, st.integers(0, 10))
def test_threshold_unless_recovery_rule_never_fires_alongside_a_configured_recovery_rule(
    specs: list[RuleSpec], facts: ResponseFacts, threshold: int
) -> None:
    matches = detect(specs, "mine", facts, recovery_threshold=threshold, threshold_unless="recovery_rule")
    keys = [match.rule_key for match in matches]
    configured_recovery = [match for match in matches if match.kind == "recovery" and match.rule_key != "threshold"]
    assert ("threshold" in keys) == (
        not configured_recovery and facts.overall is not None and facts.overall <= threshold
    )
    assert keys.count("threshold") <= 1


@given(st.lists(rule_specs, max_size=5, unique_by=lambda spec: spec.key), facts_strategy)
def test_detect_returns_exactly_the_rules_of_this_survey_that_hold(specs: list[RuleSpec], facts: ResponseFacts) -> None:
    matches = detect(specs, "mine", facts, recovery_threshold=-100)
    expected = [spec.key for spec in specs if spec.survey in (None, "mine") and evaluate(spec.when, facts)]
    assert [match.rule_key for match in matches] == expected
    for match in matches:
        assert match.rule is not None
        assert (match.kind, match.severity, match.category) == (match.rule.kind, "normal", "Category")
        assert list(match.reasons) == explain(match.rule.when, facts)
