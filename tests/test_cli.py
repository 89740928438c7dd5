"""The `closeloop` command on a fresh home folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
CLI = Path(sys.executable).parent / "closeloop"


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["CLOSELOOP_HOME"] = str(home)
    return subprocess.run([str(CLI), *args], env=env, capture_output=True, text=True, timeout=120)


def test_the_first_command_on_a_fresh_home_creates_the_database(tmp_path: Path) -> None:
    result = run(tmp_path, "config", "apply", str(FIXTURES / "acme.yaml"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "closeloop.sqlite3").exists()
    assert (tmp_path / "secret_key").exists()
    again = run(tmp_path, "config", "apply", str(FIXTURES / "acme.yaml"))
    assert again.returncode == 0 and "no changes" in again.stdout.lower()


def test_help_lists_closeloops_commands(tmp_path: Path) -> None:
    listed = run(tmp_path, "help").stdout
    for command in ("run", "serve", "worker", "demo", "config", "token", "ingest", "tick"):
        assert f"    {command}\n" in listed, command
