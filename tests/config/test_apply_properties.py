"""Whatever sequence of files is applied, the database ends up saying what the last file says."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from closeloop.config.apply import apply_config
from closeloop.config.export import export_config
from tests.config.configs import dump, example

PEOPLE = [p["id"] for p in example()["people"]]


@st.composite
def variants(draw: st.DrawFn) -> dict[str, Any]:
    """The example with a random choice of people, segments, rules and names."""
    data = example()
    keep = draw(st.lists(st.sampled_from(PEOPLE), unique=True))
    data["people"] = [p for p in data["people"] if p["id"] in keep]
    for entry in data["people"]:
        entry["login"] = draw(st.booleans())
        entry["name"] = draw(st.sampled_from(["Ann", "Bo", entry["name"]]))
    data["segments"] = draw(st.permutations(["LEISURE", "BUSINESS", "GROUP"]))[: draw(st.integers(0, 3))]
    if not data["segments"]:
        del data["segments"]
    data["rules"] = draw(st.lists(st.sampled_from(data["rules"]), unique_by=lambda r: r["key"]))
    data["units"][0]["children"][0]["name"] = draw(st.sampled_from(["West", "Western region"]))
    data["digests"][0]["at"] = draw(st.sampled_from(["08:30", "09:00"]))
    return data


@pytest.mark.django_db
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(variants(), min_size=1, max_size=3))
def test_the_last_file_wins_and_applying_it_again_changes_nothing(files: list[dict[str, Any]]) -> None:
    for data in files:
        apply_config(dump(data))
    last = files[-1]
    assert apply_config(dump(last)).lines() == ["no changes"]
    exported = yaml.safe_load(export_config())
    # People are exported in the order they were first added, so compare them by id.
    assert {p["id"]: (p["name"], p.get("login", False)) for p in exported.get("people", [])} == {
        p["id"]: (p["name"], p["login"]) for p in last["people"]
    }
    assert exported.get("segments", []) == list(last.get("segments", []))
    assert [r["key"] for r in exported.get("rules", [])] == [r["key"] for r in last["rules"]]
    assert exported["digests"][0]["at"] == last["digests"][0]["at"]
