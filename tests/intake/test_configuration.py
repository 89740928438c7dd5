"""The configuration file's `sources:` section: every problem named by its path with nothing written, the
survey cross-checks, secret files read at use, export round trips, and removal."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from closeloop.config.apply import ConfigInvalid, apply_config
from closeloop.config.export import export_config
from closeloop.intake.models import Source
from tests.connectors.conftest import SECRET
from tests.intake.conftest import hooks_config, payload, post_hook

pytestmark = pytest.mark.django_db

CLOSELOOP = Path(sys.executable).parent / "closeloop"
API = "http://127.0.0.1:9"


def with_sources(*extra: dict[str, Any]) -> str:
    document = yaml.safe_load(hooks_config(API))
    document["sources"] = list(extra)
    return yaml.safe_dump(document, sort_keys=False)


def problems(*extra: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigInvalid) as caught:
        apply_config(with_sources(*extra))
    return caught.value.problems


def test_each_problem_names_its_source_and_field() -> None:
    assert problems(
        {
            "key": "t1",
            "tool": "typeform",
            "survey": "upgrade-install",
            "secret": SECRET,
            "map": {
                "answers": {
                    "ease": {"ref": "q", "scale": [1, 5]},
                    "nope": "x",
                    "comment": {"ref": "c", "scale": [1, 5]},
                }
            },
        },
        {"key": "t2", "tool": "typo", "survey": "upgrade-install", "secret": SECRET},
        {"key": "t3", "tool": "tally", "survey": "no-such-survey", "secret": SECRET},
        {
            "key": "t4",
            "tool": "surveymonkey",
            "survey": "relationship",
            "secret": SECRET,
            "options": {"api_base": "ftp://x"},
        },
        {"key": "t1", "tool": "jotform", "survey": "relationship"},
        "not a mapping",
    ) == [
        "sources[0].map.answers.nope: not a question of survey 'upgrade-install'",
        "sources[0].map.answers.comment: scale and points are for scale and nps questions; comment is text",
        "sources[1].tool: unknown tool 'typo' (one of delighted, formbricks, freshdesk, google_forms, jotform, "
        "qualtrics, surveymonkey, tally, typeform, zendesk)",
        "sources[2].survey: unknown survey 'no-such-survey'",
        "sources[3].options.client_id: Field required",
        "sources[4].secret: Jotform sources need a secret or secret_file",
        "sources[5]: must be a mapping (key: value), not 'not a mapping'",
        "sources[4].key: duplicate source key 't1' (first at sources[0].key)",
    ]
    assert Source.objects.count() == 0


def test_an_invalid_file_exits_2_listing_the_problems_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        with_sources(
            {
                "key": "x",
                "tool": "tally",
                "survey": "support-csat",
                "secret": SECRET,
                "map": {"answers": {"ease": "Rating"}},
            }
        )
    )
    run = subprocess.run(
        [str(CLOSELOOP), "config", "apply", str(path)],
        capture_output=True,
        text=True,
        env={"CLOSELOOP_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert run.returncode == 2
    assert run.stderr.splitlines()[0] == "sources[0].map.answers.ease: not a question of survey 'support-csat'"
    assert "1 problem; nothing was written" in run.stderr


def test_a_secret_file_is_not_read_when_the_file_is_applied(tmp_path: Path) -> None:
    missing = tmp_path / "not-here"
    apply_config(
        with_sources({"key": "f", "tool": "formbricks", "survey": "upgrade-install", "secret_file": str(missing)})
    )
    assert Source.objects.get().entry["secret_file"] == str(missing)


def test_export_keeps_inline_secrets_inline_and_files_as_paths_and_reapplies_with_no_changes() -> None:
    text = with_sources(
        {
            "key": "inline",
            "tool": "tally",
            "survey": "support-csat",
            "secret": SECRET,
            "map": {"answers": {"score": "Rating"}},
        },
        {
            "key": "filed",
            "tool": "zendesk",
            "survey": "support-csat",
            "secret_file": "/run/secrets/zendesk",
            "tolerance": "10m",
            "map": {"unit": {"ticket": "group", "values": {"Support EMEA": "SUP-EMEA"}}},
        },
    )
    apply_config(text)
    exported = yaml.safe_load(export_config())
    assert exported["sources"] == [
        {
            "key": "inline",
            "tool": "tally",
            "survey": "support-csat",
            "secret": SECRET,
            "map": {"answers": {"score": "Rating"}},
        },
        {
            "key": "filed",
            "tool": "zendesk",
            "survey": "support-csat",
            "secret_file": "/run/secrets/zendesk",
            "tolerance": "10m",
            "map": {"unit": {"ticket": "group", "values": {"Support EMEA": "SUP-EMEA"}}},
        },
    ]
    assert apply_config(export_config()).lines() == ["no changes"]
    out = io.StringIO()
    call_command("config", "export", stdout=out)
    assert "sources:\n- key: inline\n" in out.getvalue()


def test_a_changed_map_is_a_change_of_that_source_only() -> None:
    tally = {"key": "t", "tool": "tally", "survey": "support-csat", "secret": SECRET}
    apply_config(with_sources(tally, {**tally, "key": "u"}))
    plan = apply_config(with_sources({**tally, "map": {"answers": {"score": "Rating"}}}, {**tally, "key": "u"}))
    assert plan.lines() == ["sources: changed t (spec)", "1 changed"]


def test_a_source_that_received_requests_is_deactivated_when_removed_and_then_unknown() -> None:
    tally = {"key": "event-tally", "tool": "tally", "survey": "support-csat", "secret": SECRET}
    apply_config(with_sources(tally, {**tally, "key": "quiet"}))
    post_hook("event-tally", payload("tally_form_response.json"))
    plan = apply_config(with_sources())
    assert plan.lines() == [
        "sources: deactivated event-tally (has hook deliveries)",
        "sources: removed quiet",
        "1 removed, 1 deactivated",
    ]
    assert list(Source.objects.values_list("key", "active")) == [("event-tally", False)]
    assert post_hook("event-tally", payload("tally_form_response.json")).status == 404
    assert "sources" not in yaml.safe_load(export_config())
    # Configured again, it is the same row with its history.
    apply_config(with_sources(tally))
    assert Source.objects.get().deliveries.count() == 1


def test_the_command_reports_problems_like_the_rest_of_the_configuration(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(with_sources({"key": "has space", "tool": "tally", "survey": "support-csat", "secret": SECRET}))
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("config", "apply", str(path), stderr=err)
    assert caught.value.returncode == 2
    assert err.getvalue().splitlines() == [
        "sources[0].key: 'has space' is not a key: use letters, digits and _ . @ + -"
    ]
