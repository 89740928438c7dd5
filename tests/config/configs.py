"""Building configuration files for the tests: the contract's example, changed a little."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from closeloop.config.apply import CONFIG_MODELS, ConfigInvalid
from closeloop.config.validate import load_config

# A copy of the contract's example (contract-check/example.yaml), which must always apply.
EXAMPLE_PATH = Path(__file__).parent / "example.yaml"


def example() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE_PATH.read_text())


def dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def changed(change: Callable[[dict[str, Any]], object]) -> str:
    """The example as YAML text after `change` edited it in place."""
    data = example()
    change(data)
    return dump(data)


def problems_of(text: str) -> list[str]:
    """Every problem of the file, found by validation alone: no database is needed to know a file is bad."""
    with pytest.raises(ConfigInvalid) as caught:
        load_config(text)
    return caught.value.problems


def stored_counts() -> dict[str, int]:
    """How many rows each configuration table holds, to prove that nothing was written."""
    return {model.__name__: model._default_manager.count() for model in CONFIG_MODELS}


def person(data: dict[str, Any], key: str) -> dict[str, Any]:
    return next(p for p in data["people"] if p["id"] == key)
