"""The `text_model` section: the organisation's own example sentences, kept on the organisation's row."""

from __future__ import annotations

from typing import Any

from closeloop.config.sections.base import Change, Rows, Section
from closeloop.config.validate import Config
from closeloop.org.models import Organization
from closeloop.textmodel import Examples
from closeloop.textmodel.prototypes import EXAMPLE_LABELS

# The section has one entry, so a plan line reads "text_model: changed examples (unhappy)".
EXAMPLES_KEY = "examples"


def stored_examples(examples: Examples) -> dict[str, list[str]]:
    """Examples as the organisation's row keeps them: only the labels that have any."""
    return {label: list(getattr(examples, label)) for label in EXAMPLE_LABELS if getattr(examples, label)}


def _row(stored: object) -> dict[str, list[str]]:
    found = stored if isinstance(stored, dict) else {}
    return {label: list(found.get(label) or []) for label in EXAMPLE_LABELS}


def section(config: Config) -> Section:
    desired_examples = stored_examples(config.text_examples)
    # One row per section, compared label by label; no examples at all is no row, as before any were given.
    desired: Rows = {EXAMPLES_KEY: _row(desired_examples)} if desired_examples else {}

    def read() -> Rows:
        stored = Organization.objects.filter(pk=1).values_list("text_examples", flat=True).first()
        return {EXAMPLES_KEY: _row(stored)} if stored else {}

    def save(keys: list[str], added: set[str]) -> None:
        # Written after the organisation section, which creates the row on a first apply.
        Organization.objects.filter(pk=1).update(text_examples=desired_examples)

    def remove(keys: list[str]) -> list[Change]:
        return [Change("text_model", key, "removed") for key in keys]

    def delete(changes: list[Change]) -> None:
        Organization.objects.filter(pk=1).update(text_examples={})

    return Section("text_model", desired, read, save, remove, delete)


def export() -> dict[str, Any] | None:
    stored = Organization.objects.filter(pk=1).values_list("text_examples", flat=True).first()
    examples = {label: list(values) for label, values in _row(stored).items() if values}
    return {"examples": examples} if examples else None
