from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closeloop.core.conditions import condition_problems

QUESTIONS = {
    "ease": "scale",
    "recommend": "nps",
    "completed": "yes_no",
    "plan": "choice",
    "factors": "multi_choice",
    "comment": "text",
}


def problems(tree: Any, questions: Any = QUESTIONS, **known: Any) -> list[tuple[str, str]]:
    return condition_problems(tree, questions, **known)


@pytest.mark.parametrize(
    "tree",
    [
        {"all": [{"question": "completed", "equals": False}]},
        {"any": [{"overall": {"lte": 5}}, {"nps": "detractor"}]},
        {"not": {"keywords": ["refund", "never again"]}},
        {"sentiment": {"lte": -0.5}},
        {"interviewer_flag": True},
        {"customer": {"tier": "Gold"}},
        {"segment": "SMB"},
        {"unit": "SUP-EMEA"},
        {"unit": ["SUP-EMEA"]},
        {"overall": {"gte": 3, "lte": 5}},
        {"customer": {"tier": ["Gold", "Silver"]}},
        {"question": "ease", "in": [1, 2, 3]},
        {"question": "recommend", "gte": 9},
        {"question": "plan", "not_equals": "Basic"},
        {"question": "factors", "in": ["Speed", "Courtesy"]},
        {"all": [{"any": [{"not": {"question": "comment", "equals": "ok"}}]}]},
    ],
)
def test_every_contract_leaf_and_branch_is_accepted(tree: Any) -> None:
    assert problems(tree, segments={"SMB"}, units={"SUP-EMEA"}) == []


def test_in_on_a_scale_with_a_word_names_the_list_item() -> None:
    assert problems({"all": [{"question": "ease", "in": [1, "bad"]}]}) == [
        ("all[0].in[1]", "'bad' does not fit 'ease': a scale question needs a number")
    ]


def test_unknown_question_is_named_at_its_key() -> None:
    assert problems({"any": [{"question": "speed", "lt": 3}]}) == [("any[0].question", "unknown question 'speed'")]


def test_ordering_does_not_apply_to_yes_no() -> None:
    assert problems({"question": "completed", "lt": True}) == [
        ("lt", "True does not fit 'completed': lt does not apply to a yes_no question")
    ]


def test_yes_no_needs_a_boolean() -> None:
    assert problems({"question": "completed", "equals": "no"}) == [
        ("equals", "'no' does not fit 'completed': a yes_no question needs true or false")
    ]


def test_nps_answers_are_zero_to_ten() -> None:
    assert problems({"question": "recommend", "gte": 11}) == [
        ("gte", "11 does not fit 'recommend': an nps answer is 0..10")
    ]


def test_a_key_used_with_two_types_across_surveys_accepts_a_value_fitting_either() -> None:
    spanning = {"score": {"scale", "text"}}
    assert problems({"question": "score", "equals": "high"}, spanning) == []
    assert problems({"question": "score", "lt": "high"}, spanning) == [
        ("lt", "'high' does not fit 'score': a scale question needs a number; lt does not apply to a text question")
    ]


def test_without_questions_only_the_shape_is_checked() -> None:
    assert problems({"question": "anything", "equals": 3}, None) == []
    assert problems({"question": "anything", "equals": [3]}, None) == [("equals", "[3] is not a single value")]


def test_question_leaf_needs_exactly_one_operator() -> None:
    assert problems({"question": "ease"}) == [
        ("when", "a question condition needs exactly one of equals, not_equals, lt, lte, gt, gte, in; found none")
    ]
    assert problems({"all": [{"question": "ease", "lt": 3, "gt": 1}]}) == [
        ("all[0]", "a question condition needs exactly one of equals, not_equals, lt, lte, gt, gte, in; found lt, gt")
    ]


def test_unknown_keys_are_named() -> None:
    assert problems({"question": "ease", "lt": 3, "weight": 2}) == [
        ("weight", "unknown key 'weight'; use one of equals, not_equals, lt, lte, gt, gte, in")
    ]
    assert problems({"nps": "promoter", "extra": 1}) == [("extra", "unknown key 'extra' next to 'nps'")]


def test_mixing_two_kinds_in_one_mapping_is_refused() -> None:
    assert problems({"all": [], "any": []}) == [
        ("when", "a condition has exactly one of all, any; use all/any to combine")
    ]


def test_branch_shapes() -> None:
    assert problems({"all": []}) == [("all", "all needs a non-empty list of conditions")]
    assert problems({"any": {"nps": "promoter"}}) == [("any", "any needs a non-empty list of conditions")]
    assert problems({"not": [{"nps": "promoter"}]}) == [
        ("not", "not takes one condition, not a list (wrap several in all or any)")
    ]
    assert problems({"all": ["nps"]}) == [
        ("all[0]", "a condition must be a mapping such as {question: K, equals: V}, not 'nps'")
    ]
    assert problems({"bogus": 1})[0][0] == "when"


def test_leaf_values_are_checked() -> None:
    assert problems({"nps": "fan"}) == [("nps", "'fan' is not one of detractor, passive, promoter")]
    assert problems({"sentiment": {"lte": -2}}) == [("sentiment.lte", "-2 is outside -1..1")]
    assert problems({"overall": {"lte": "five"}}) == [("overall.lte", "'five' is not a number")]
    assert problems({"overall": {"about": 5}}) == [
        ("overall.about", "unknown comparison 'about'; use one of equals, not_equals, lt, lte, gt, gte")
    ]
    assert problems({"overall": 5}) == [
        ("overall", "overall needs a comparison such as {lte: 5} (equals, not_equals, lt, lte, gt, gte)")
    ]
    assert problems({"customer": {"tier": ["Gold", 3]}}) == [("customer.tier[1]", "3 is not a customer tier")]
    assert problems({"segment": []}) == [("segment", "needs a segment code or a list of them")]
    assert problems({"keywords": ["refund", ""]}) == [("keywords[1]", "'' is not a word or phrase")]
    assert problems({"interviewer_flag": "yes"}) == [("interviewer_flag", "'yes' is not true or false")]
    assert problems({"customer": {"age": 3}}) == [("customer.age", "unknown customer field 'age'; use tier")]


def test_nps_leaf_needs_an_nps_question_in_the_survey() -> None:
    assert problems({"nps": "promoter"}, {"ease": "scale"}) == [("nps", "the survey has no nps question")]


def test_unknown_unit_and_segment_codes_when_known_codes_are_given() -> None:
    tree = {"all": [{"unit": "NOWHERE"}, {"segment": "HUGE"}, {"unit": ["ACME", "ELSEWHERE"]}]}
    assert problems(tree, units={"ACME"}, segments={"SMB"}) == [
        ("all[0].unit", "unknown unit 'NOWHERE'"),
        ("all[1].segment", "unknown segment 'HUGE'"),
        ("all[2].unit[1]", "unknown unit 'ELSEWHERE'"),
    ]
    assert problems(tree) == []


leaf = st.sampled_from(
    [{"nps": "promoter"}, {"question": "ease", "lte": 4}, {"interviewer_flag": True}, {"keywords": ["rude"]}]
)
trees = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.builds(lambda items: {"all": items}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda items: {"any": items}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda item: {"not": item}, inner),
    ),
    max_leaves=12,
)


@given(trees)
def test_any_well_formed_tree_has_no_problems(tree: Any) -> None:
    assert problems(tree) == []


@given(trees)
def test_a_bad_leaf_anywhere_is_found_once_with_a_path_that_leads_to_it(tree: Any) -> None:
    bad = {"all": [tree, {"question": "ease", "in": ["x"]}]}
    assert problems(bad) == [("all[1].in[0]", "'x' does not fit 'ease': a scale question needs a number")]
