from __future__ import annotations

from collections import Counter

import pytest

from closeloop.core.text import normalise
from closeloop.textmodel.prototypes import (
    LANGUAGES,
    Examples,
    ExamplesError,
    builtin_prototypes,
    example_problems,
    parse_examples,
    prototype_digest,
)
from tests.textmodel.data import comments


def test_every_language_has_at_least_thirty_complaints_and_thirty_praises() -> None:
    counts = Counter((p.language, p.label) for p in builtin_prototypes())
    for language in LANGUAGES:
        assert counts[(language, "unhappy")] >= 30, language
        assert counts[(language, "praise")] >= 30, language
        assert counts[(language, "neutral")] >= 10, language


def test_no_unhappy_or_happy_test_comment_is_a_prototype() -> None:
    prototypes = {normalise(p.text) for p in builtin_prototypes()}
    for language in LANGUAGES:
        for kind, text in comments(language):
            if kind != "neutral":
                assert normalise(text) not in prototypes, text


def test_prototypes_are_not_repeated() -> None:
    texts = [normalise(p.text) for p in builtin_prototypes()]
    assert [text for text, seen in Counter(texts).items() if seen > 1] == []


def test_the_digest_changes_with_any_prototype() -> None:
    prototypes = builtin_prototypes()
    with_examples = prototypes + Examples(unhappy=("The app logged me out again",)).prototypes()
    assert len(prototype_digest(prototypes)) == 12
    assert prototype_digest(prototypes) != prototype_digest(with_examples)


def test_valid_examples_are_parsed_and_trimmed() -> None:
    examples = parse_examples({"unhappy": [" The app logged me out again "], "praise": ["Loved the new app"]})
    assert examples == Examples(unhappy=("The app logged me out again",), praise=("Loved the new app",))
    assert [(p.label, p.language) for p in examples.prototypes()] == [("unhappy", "org"), ("praise", "org")]


def test_absent_examples_are_none() -> None:
    assert example_problems(None) == []
    assert parse_examples(None) == Examples()
    assert not Examples()


def test_every_problem_is_named_by_its_path() -> None:
    raw = {
        "unhappy": ["fine sentence", "", 42, "x" * 301, "  Fine   sentence! ", "--"],
        "praise": "Great",
        "neutral": ["a fact"],
    }
    assert example_problems(raw) == [
        ("text_model.examples.neutral", "unknown key 'neutral'; expected unhappy or praise"),
        ("text_model.examples.unhappy[1]", "must have words in it (at least 3 characters)"),
        ("text_model.examples.unhappy[2]", "must be a sentence in quotes, not int 42"),
        ("text_model.examples.unhappy[3]", "at most 300 characters (one sentence), got 301"),
        ("text_model.examples.unhappy[4]", "the same sentence as text_model.examples.unhappy[0]"),
        ("text_model.examples.unhappy[5]", "must have words in it (at least 3 characters)"),
        ("text_model.examples.praise", "expected a list of sentences, not str"),
    ]


def test_too_many_examples_and_a_wrong_shape_are_refused() -> None:
    assert example_problems({"praise": [f"thanks number {i}" for i in range(201)]}) == [
        ("text_model.examples.praise", "at most 200 examples, got 201")
    ]
    assert example_problems(["Nobody called"], path="cfg.text_model.examples") == [
        ("cfg.text_model.examples", "expected a mapping with unhappy and/or praise, not list")
    ]


def test_parse_examples_raises_with_every_problem() -> None:
    with pytest.raises(ExamplesError) as raised:
        parse_examples({"unhappy": ["ok sentence", 3]})
    assert raised.value.problems == [("text_model.examples.unhappy[1]", "must be a sentence in quotes, not int 3")]
    assert str(raised.value) == "text_model.examples.unhappy[1]: must be a sentence in quotes, not int 3"
