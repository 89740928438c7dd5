from __future__ import annotations

import pytest

from closeloop.textmodel.sentences import Sentence, canonical, digest, says_nothing, split_voice


def test_answers_are_cut_into_sentences_keeping_their_answer() -> None:
    assert split_voice(["The fitter was late. He left a mess!", "Nobody called back?\nStill waiting"]) == [
        Sentence(answer=0, text="The fitter was late.", words=4),
        Sentence(answer=0, text="He left a mess!", words=4),
        Sentence(answer=1, text="Nobody called back?", words=3),
        Sentence(answer=1, text="Still waiting", words=2),
    ]


def test_decimals_and_commas_do_not_end_a_sentence() -> None:
    assert [s.text for s in split_voice(["Paid 3.50 twice, which is wrong; fix it"])] == [
        "Paid 3.50 twice, which is wrong;",
        "fix it",
    ]


@pytest.mark.parametrize(
    "answer",
    [
        "",
        "   ",
        "-",
        "...",
        "N/A",
        "n/a",
        "Nothing to add.",
        "No comment",
        "Rien à ajouter",
        "Néant",
        "nada",
        "Keine Angabe",
        "k.A.",
    ],
)
def test_answers_that_say_nothing_are_dropped(answer: str) -> None:
    assert says_nothing(answer)
    assert split_voice([answer]) == []


@pytest.mark.parametrize("answer", ["Nothing works", "No one came", "no refund yet", "Rien ne marche"])
def test_short_answers_with_content_are_kept(answer: str) -> None:
    assert not says_nothing(answer)
    assert [s.text for s in split_voice([answer])] == [answer]


def test_a_sentence_that_says_nothing_does_not_dilute_the_rest() -> None:
    assert [s.text for s in split_voice(["The engineer never came. Nothing else to add."])] == [
        "The engineer never came."
    ]


def test_canonical_text_ignores_spacing_and_unicode_composition_but_keeps_case() -> None:
    assert canonical("  Caf\u0065\u0301   closed\n") == "Café closed"
    assert digest("Café  closed") == digest("Cafe\u0301 closed")
    assert digest("NOT happy") != digest("not happy")
