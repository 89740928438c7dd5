"""The recovery threshold is read on each survey's own scale: a 5/5 on a five-point survey is no low score."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from closeloop.cases.models import Case
from closeloop.config.apply import ConfigInvalid, apply_config
from closeloop.config.export import export_config
from tests.conftest import FIXTURES
from tests.helpers import ApiClient, create_token

pytestmark = pytest.mark.django_db

STARS = {
    "key": "stay",
    "name": "How was your stay?",
    "overall": "stars",
    "questions": [
        {"key": "stars", "type": "scale", "min": 1, "max": 5},
        {"key": "comment", "type": "text"},
    ],
}


def acme_with(*surveys: dict[str, Any]) -> str:
    data = yaml.safe_load((FIXTURES / "acme.yaml").read_text())
    data["surveys"].extend(surveys)
    return yaml.safe_dump(data, sort_keys=False)


def post(client: ApiClient, survey: str, answers: dict[str, Any], n: int) -> dict[str, Any]:
    body = {"survey": survey, "external_id": f"t-{n}", "unit": "SUP-EMEA", "answers": answers}
    response = client.post("/api/v1/responses", body)
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def client() -> ApiClient:
    return ApiClient(create_token(["ingest", "read"]))


def test_a_perfect_score_on_a_five_point_survey_raises_no_alert_and_no_case(client):
    apply_config(acme_with(STARS))
    body = post(client, "stay", {"stars": 5, "comment": "Lovely."}, 1)
    assert body["alerts"] == []
    assert body["case"] is None
    assert body["needs_recovery"] is False


@pytest.mark.parametrize(("stars", "low"), [(1, True), (3, True), (4, False), (5, False)])
def test_the_organisations_threshold_six_of_ten_is_three_point_four_on_a_five_point_survey(client, stars, low):
    # recovery_threshold: 6 on the 0-10 scale maps [1, 5] onto [0, 10]: 1 + 0.6 x 4 = 3.4.
    apply_config(acme_with(STARS))
    body = post(client, "stay", {"stars": stars}, stars)
    assert [alert["rule"] for alert in body["alerts"]] == (["threshold"] if low else [])
    assert body["needs_recovery"] is low
    assert (body["case"] is not None) is low


def test_a_ten_point_survey_still_reads_the_threshold_as_written(client):
    apply_config(acme_with())
    assert post(client, "upgrade-install", {"ease": 6, "completed": True}, 1)["needs_recovery"] is True
    assert post(client, "upgrade-install", {"ease": 7, "completed": True}, 2)["needs_recovery"] is False


def test_a_surveys_own_threshold_is_in_its_own_scale(client):
    apply_config(acme_with(STARS | {"recovery_threshold": 2}))
    assert post(client, "stay", {"stars": 2}, 1)["needs_recovery"] is True
    three = post(client, "stay", {"stars": 3}, 2)
    assert three["needs_recovery"] is False
    assert three["alerts"] == []
    assert Case.objects.count() == 1


def test_the_threshold_rules_alert_says_the_converted_threshold(client):
    apply_config(acme_with(STARS))
    post(client, "stay", {"stars": 2}, 1)
    alert = client.get("/api/v1/alerts").json()["items"][0]
    assert (alert["rule"], alert["category"]) == ("threshold", "Low score")


@pytest.mark.parametrize(
    ("threshold", "message"), [(7, "7 is outside"), (0.5, "0.5 is outside"), (-1, "-1 is outside")]
)
def test_a_survey_threshold_outside_the_surveys_scale_is_refused(threshold, message):
    with pytest.raises(ConfigInvalid) as caught:
        apply_config(acme_with(STARS | {"recovery_threshold": threshold}))
    assert caught.value.problems == [
        f"surveys[3].recovery_threshold: {message} the survey's scale 1..5 (question 'stars')"
    ]


def test_an_nps_surveys_threshold_lies_between_zero_and_ten():
    nps = {"key": "nps", "name": "NPS", "overall": "score", "questions": [{"key": "score", "type": "nps"}]}
    with pytest.raises(ConfigInvalid) as caught:
        apply_config(acme_with(nps | {"recovery_threshold": 11}))
    assert caught.value.problems == [
        "surveys[3].recovery_threshold: 11 is outside the survey's scale 0..10 (question 'score')"
    ]


def test_a_survey_threshold_needs_an_overall_question():
    plain = {"key": "plain", "name": "Plain", "questions": [{"key": "comment", "type": "text"}]}
    with pytest.raises(ConfigInvalid) as caught:
        apply_config(acme_with(plain | {"recovery_threshold": 3}))
    assert caught.value.problems == [
        "surveys[3].recovery_threshold: needs an overall question: the threshold is an overall score"
    ]


def test_the_first_survey_of_the_file_is_named_as_surveys_zero():
    data = yaml.safe_load((FIXTURES / "acme.yaml").read_text())
    data["surveys"][0]["recovery_threshold"] = 11
    with pytest.raises(ConfigInvalid) as caught:
        apply_config(yaml.safe_dump(data))
    assert caught.value.problems == [
        "surveys[0].recovery_threshold: 11 is outside the survey's scale 1..10 (question 'ease')"
    ]


def test_the_threshold_and_language_are_exported_and_apply_unchanged():
    text = acme_with(STARS | {"recovery_threshold": 2.5, "language": "fr"})
    apply_config(text)
    exported = yaml.safe_load(export_config())
    stay = next(survey for survey in exported["surveys"] if survey["key"] == "stay")
    assert (stay["recovery_threshold"], stay["language"]) == (2.5, "fr")
    assert "language" not in exported["surveys"][0]
    assert apply_config(export_config()).is_empty
