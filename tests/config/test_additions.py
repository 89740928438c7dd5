"""Keys added for the settings pages and the close-out: a survey's own recovery threshold and a case
template's root causes. Both are optional, checked, written and exported."""

from __future__ import annotations

import pytest
import yaml

from closeloop.cases.models import CaseTemplate
from closeloop.config.apply import apply_config
from closeloop.config.export import export_config
from closeloop.feedback.models import Survey
from tests.config.configs import changed, example, problems_of

pytestmark = pytest.mark.django_db


def test_a_survey_may_have_its_own_recovery_threshold() -> None:
    text = changed(lambda d: d["surveys"][0].update(recovery_threshold=3))
    apply_config(text)
    key = example()["surveys"][0]["key"]
    assert Survey.objects.get(key=key).recovery_threshold == 3
    assert yaml.safe_load(export_config())["surveys"][0]["recovery_threshold"] == 3
    assert apply_config(export_config()).is_empty


def test_a_survey_threshold_needs_an_overall_question() -> None:
    def without_overall(data: dict) -> None:
        data["surveys"][0].pop("overall", None)
        data["surveys"][0]["recovery_threshold"] = 3

    assert problems_of(changed(without_overall)) == [
        "surveys[0].recovery_threshold: needs an overall question: the threshold is an overall score"
    ]
    worded = problems_of(changed(lambda d: d["surveys"][0].update(recovery_threshold="low")))
    assert worded[0] == "surveys[0].recovery_threshold: 'low' is not a number"


def test_root_causes_default_to_a_standard_list() -> None:
    apply_config(changed(lambda d: None))
    assert CaseTemplate.objects.get().root_causes == ["Product", "Process", "People", "Price", "Other"]


def test_root_causes_are_checked() -> None:
    assert problems_of(changed(lambda d: d["case_templates"][0].update(root_causes=[]))) == [
        "case_templates[0].root_causes: needs at least 1 entry"
    ]
    assert problems_of(changed(lambda d: d["case_templates"][0].update(root_causes=["Price", "price"]))) == [
        "case_templates[0].root_causes: root_causes lists a root cause twice"
    ]
