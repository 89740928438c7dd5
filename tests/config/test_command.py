"""`closeloop config apply FILE [--dry-run]` and `closeloop config export` from the command line."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from closeloop.config.export import export_config
from closeloop.org.models import Unit
from tests.config.configs import EXAMPLE_PATH, stored_counts

pytestmark = pytest.mark.django_db

CLOSELOOP = Path(sys.executable).parent / "closeloop"


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    """The example with the two mistakes the contract's check makes."""
    text = EXAMPLE_PATH.read_text().replace("unit: GALWAY, role: member", "unit: NOWHERE, role: member")
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace("after: 4h", "after: soon"))
    return path


BAD_FILE_PROBLEMS = [
    "people[2].roles[0].unit: unknown unit 'NOWHERE'",
    "escalation_policies[0].steps[0].after: 'soon' is not a duration like 30m, 24h, 3d or 2w",
]


def run(*args: str, stdin: str | None = None) -> str:
    out = io.StringIO()
    extra = {"stdin": io.StringIO(stdin)} if stdin is not None else {}
    call_command("config", *args, stdout=out, **extra)
    return out.getvalue()


def test_apply_prints_the_plan_then_no_changes_the_second_time() -> None:
    first = run("apply", str(EXAMPLE_PATH)).splitlines()
    assert first[0] == "organization: added organization"
    assert first[-1] == "19 added"
    assert run("apply", str(EXAMPLE_PATH)) == "no changes\n"


def test_apply_reads_standard_input_when_the_file_is_a_dash() -> None:
    assert run("apply", "-", stdin=EXAMPLE_PATH.read_text()).endswith("19 added\n")
    assert Unit.objects.count() == 4


def test_dry_run_prints_the_plan_and_writes_nothing() -> None:
    output = run("apply", str(EXAMPLE_PATH), "--dry-run")
    assert "units: added GALWAY" in output
    assert output.endswith("19 added (dry run: nothing was written)\n")
    assert not Unit.objects.exists()


def test_export_prints_what_apply_accepts() -> None:
    run("apply", str(EXAMPLE_PATH))
    exported = run("export")
    assert exported == export_config()
    assert exported.startswith("organization:\n  name: Harbour Hotels\n")


def test_an_invalid_file_lists_every_problem_and_exits_2(bad_file: Path) -> None:
    run("apply", str(EXAMPLE_PATH))
    before = stored_counts()
    errors = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("config", "apply", str(bad_file), stderr=errors)
    assert caught.value.returncode == 2
    assert str(caught.value) == f"{bad_file}: 2 problems; nothing was written"
    assert errors.getvalue().splitlines() == BAD_FILE_PROBLEMS
    assert stored_counts() == before


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"cannot read .*missing\.yaml") as caught:
        run("apply", str(tmp_path / "missing.yaml"))
    assert caught.value.returncode == 2


def test_the_real_command_exits_2_on_an_invalid_file(bad_file: Path, tmp_path: Path) -> None:
    env = {**os.environ, "CLOSELOOP_HOME": str(tmp_path / "home"), "DJANGO_SETTINGS_MODULE": "closeloop.settings"}
    done = subprocess.run(
        [str(CLOSELOOP), "config", "apply", str(bad_file)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[:2] == BAD_FILE_PROBLEMS
    assert "nothing was written" in done.stderr
