"""The `sources:` entry: its validation messages, secrets, the survey check, the registry; and purity."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from closeloop.connectors import SecretUnavailable, SourceInvalid, SourceSpec, Survey, load_source, registry
from closeloop.connectors.registry import UnknownTool
from tests.connectors.conftest import q

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "closeloop" / "connectors"


def problems(raw: dict) -> list[str]:
    with pytest.raises(SourceInvalid) as caught:
        load_source(raw)
    return caught.value.problems


def test_every_built_in_tool_is_registered() -> None:
    assert registry.slugs() == [
        "delighted", "formbricks", "freshdesk", "google_forms", "jotform",
        "qualtrics", "surveymonkey", "tally", "typeform", "zendesk",
    ]  # fmt: skip
    assert registry.get("tally").title == "Tally"
    with pytest.raises(UnknownTool, match="unknown tool 'nope'"):
        registry.get("nope")


def test_problems_name_their_field() -> None:
    assert problems({"key": "has space", "tool": "typo", "survey": "", "extra": 1}) == [
        "key: 'has space' is not a key: use letters, digits and _ . @ + -",
        "tool: unknown tool 'typo' (one of delighted, formbricks, freshdesk, google_forms, jotform, qualtrics, "
        "surveymonkey, tally, typeform, zendesk)",
        "survey: String should have at least 1 character",
        "extra: unknown key",
    ]
    assert problems(
        {"key": "t", "tool": "tally", "survey": "s", "secret": "x", "secret_file": "/x", "tolerance": "5 min"}
    ) == [
        "tolerance: '5 min' is not a duration like 30m, 24h, 3d or 2w",
    ]
    assert problems(
        {
            "key": "t",
            "tool": "tally",
            "survey": "s",
            "secret": "x",
            "secret_file": "/x",
            "map": {"answers": {"ease": {"lable": "x"}}},
        }
    ) == [
        "secret: give secret or secret_file, not both",
        "map.answers.ease.lable: unknown key (use one of label, key, hidden, calculated, meta, path, value, "
        "and options values, scale, points, optional)",
    ]
    assert problems({"key": "t", "tool": "jotform", "survey": "s"}) == [
        "secret: Jotform sources need a secret or secret_file"
    ]
    assert problems({"key": "t", "tool": "jotform", "survey": "s", "secret_file": "/no/such/file"}) == [
        "secret_file: no such file: /no/such/file"
    ]


def test_a_sources_allow_list_of_recording_hosts_is_checked_and_kept_lower_case() -> None:
    assert problems(
        {"key": "t", "tool": "tally", "survey": "s", "secret": "x", "audio_hosts": ["ok.example", "a/b"]}
    ) == ["audio_hosts: 'a/b' is not a host name: give the host only (recordings.example.com), no scheme or path"]
    spec = load_source({"key": "t", "tool": "tally", "survey": "s", "secret": "x", "audio_hosts": ["Media.Example"]})
    assert spec.audio_hosts == ["media.example"]
    assert load_source({"key": "t", "tool": "tally", "survey": "s", "secret": "x"}).audio_hosts is None


def test_plain_model_validation_refuses_too_and_names_the_first_field() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as caught:
        SourceSpec.model_validate({"key": "t", "tool": "jotform", "survey": "s", "secret": "x", "map": {"unit": 1.5}})
    (error,) = caught.value.errors()
    assert error["ctx"] == {"at_field": "map.unit"}


def test_the_secret_file_is_read_on_every_use(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("first\n")
    spec = load_source({"key": "t", "tool": "jotform", "survey": "s", "secret_file": str(secret)})
    assert spec.secret_value() == "first"
    secret.write_text("rotated")
    assert spec.secret_value() == "rotated"
    secret.unlink()
    with pytest.raises(SecretUnavailable) as caught:
        spec.secret_value()
    assert caught.value.status == 503
    assert "cannot be read (No such file or directory)" in caught.value.reason


def test_the_secret_is_not_shown_in_the_spec() -> None:
    spec = load_source({"key": "t", "tool": "jotform", "survey": "s", "secret": "hunter2"})
    assert "hunter2" not in repr(spec)


def test_the_map_is_checked_against_the_survey() -> None:
    spec = load_source(
        {
            "key": "t",
            "tool": "typeform",
            "survey": "csat",
            "secret": "x",
            "map": {
                "answers": {
                    "ease": {"ref": "a", "scale": [1, 5]},
                    "comment": {"ref": "b", "scale": [1, 5]},
                    "nope": "c",
                    "raw": {"ref": "d", "points": [1, 2]},
                }
            },
        }
    )
    survey = Survey(
        "csat", {"ease": q("ease", "scale", 1, 10), "comment": q("comment", "text"), "raw": q("raw", "scale")}
    )
    assert spec.survey_problems(survey) == [
        "map.answers.comment: scale and points are for scale and nps questions; comment is text",
        "map.answers.nope: not a question of survey 'csat'",
        "map.answers.raw: question raw has no min and max to rescale onto",
    ]
    assert spec.survey_problems(Survey("other", {}))[0] == "survey: the source feeds 'csat', not 'other'"


def test_the_package_imports_no_django() -> None:
    code = "import sys, closeloop.connectors; print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_package_imports_only_connectors_and_core_of_closeloop() -> None:
    for module in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("closeloop"):
                    assert name.startswith(("closeloop.connectors", "closeloop.core")), f"{module.name} imports {name}"
                assert not name.startswith("django"), f"{module.name} imports {name}"
