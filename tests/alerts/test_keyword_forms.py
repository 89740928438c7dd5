"""Keyword rules match word forms in the survey's language, and negation still cancels them."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from closeloop.config.apply import apply_config
from tests.conftest import FIXTURES
from tests.helpers import ApiClient, create_token

pytestmark = pytest.mark.django_db

FRENCH = {
    "key": "sejour",
    "name": "Votre séjour",
    "language": "fr",
    "questions": [{"key": "commentaire", "type": "text"}],
}
FRENCH_RULE = {
    "key": "remboursement",
    "name": "Demande un remboursement",
    "kind": "recovery",
    "survey": "sejour",
    "when": {"keywords": ["remboursement"]},
    "category": "Remboursement",
    "severity": "high",
}


@pytest.fixture(autouse=True)
def configured(db: None) -> None:
    data = yaml.safe_load((FIXTURES / "acme.yaml").read_text())
    data["surveys"].append(FRENCH)
    data["rules"].append(FRENCH_RULE)
    data["rules"].append(
        {
            "key": "rude",
            "name": "Rude staff",
            "kind": "recovery",
            "when": {"keywords": ["rude"]},
            "category": "Staff",
            "severity": "normal",
        }
    )
    apply_config(yaml.safe_dump(data, sort_keys=False))


def rules_for(answers: dict[str, Any], survey: str = "upgrade-install", n: int = 1) -> list[str]:
    body = {"survey": survey, "external_id": f"kw-{n}", "unit": "SUP-EMEA", "answers": answers}
    response = ApiClient(create_token(["ingest"])).post("/api/v1/responses", body)
    assert response.status_code == 201, response.json()
    return sorted(alert["rule"] for alert in response.json()["alerts"])


@pytest.mark.parametrize(
    ("comment", "rules"),
    [
        ("I want my refunds now.", ["churn-words"]),
        ("They cancelled the order.", ["churn-words"]),
        ("Such rudeness at the desk.", ["rude"]),
        ("The agents were rude and I was refunded late.", ["churn-words", "rude"]),
        ("Nobody was rude. No refunds were needed.", []),
        ("Not rudeness, just slowness.", []),
    ],
)
def test_word_forms_hit_the_keywords_unless_negated(comment, rules):
    assert rules_for({"ease": 8, "completed": True, "comment": comment}) == rules


def test_a_french_survey_matches_french_word_forms():
    assert rules_for({"commentaire": "J'attends toujours mes remboursements."}, survey="sejour") == ["remboursement"]


def test_an_unknown_survey_language_is_refused_with_the_known_ones():
    from closeloop.config.apply import ConfigInvalid

    data = yaml.safe_load((FIXTURES / "acme.yaml").read_text())
    data["surveys"][0]["language"] = "klingon"
    with pytest.raises(ConfigInvalid) as caught:
        apply_config(yaml.safe_dump(data))
    [problem] = caught.value.problems
    assert problem.startswith("surveys[0].language: unknown language 'klingon'; use an ISO 639-1 code with a stemmer:")
    assert " en, " in problem and " fr, " in problem
