"""The data folder and the SQLite files are the operator's only: 0700 for the folder, 0600 for the files.

A real `closeloop worker` on a fresh home keeps its database open in WAL mode, so the -wal and -shm
files exist while the modes are read. The test process's umask (022) is the one a shell would give.
"""

from __future__ import annotations

import stat
import subprocess
import time
from pathlib import Path

from closeloop import environment
from tests.processes import CLOSELOOP, closeloop_env, stop


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_home_its_database_and_the_wal_and_shm_files_are_readable_by_the_owner_only(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = closeloop_env(home)
    del env["SECRET_KEY"]  # generated into the home, as on a first start
    worker = subprocess.Popen([CLOSELOOP, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        database = home / "closeloop.sqlite3"
        wal, shm = Path(f"{database}-wal"), Path(f"{database}-shm")
        deadline = time.monotonic() + 120
        while not (wal.exists() and shm.exists()) and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.05)
        modes = {path.name: mode(path) for path in (database, wal, shm, home / "secret_key")}
        folder = mode(home)
    finally:
        stop(worker)
    assert folder == 0o700
    assert modes == {
        "closeloop.sqlite3": 0o600,
        "closeloop.sqlite3-wal": 0o600,
        "closeloop.sqlite3-shm": 0o600,
        "secret_key": 0o600,
    }


def test_loading_the_environment_creates_the_home_and_an_empty_database_file_privately(tmp_path: Path) -> None:
    home = tmp_path / "fresh"
    loaded = environment.load({"CLOSELOOP_HOME": str(home), "SECRET_KEY": "k"}, tmp_path)
    assert loaded.home == home
    assert mode(home) == 0o700
    assert mode(home / "closeloop.sqlite3") == 0o600


def test_an_existing_home_folder_keeps_the_permissions_its_operator_gave_it(tmp_path: Path) -> None:
    home = tmp_path / "shared"
    home.mkdir(mode=0o750)
    home.chmod(0o750)
    environment.load({"CLOSELOOP_HOME": str(home), "SECRET_KEY": "k"}, tmp_path)
    assert mode(home) == 0o750
    assert mode(home / "closeloop.sqlite3") == 0o600


def test_backup_copies_the_sqlite_database_privately_while_a_worker_writes(tmp_path: Path) -> None:
    import sqlite3

    from tests.processes import run_cli

    home = tmp_path / "home"
    env = closeloop_env(home)
    assert run_cli(env, "config", "apply", str(Path(__file__).parent.parent / "fixtures" / "acme.yaml")).returncode == 0
    worker = subprocess.Popen([CLOSELOOP, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        copy = tmp_path / "copy.sqlite3"
        result = run_cli(env, "backup", str(copy))
        again = run_cli(env, "backup", str(copy))
    finally:
        stop(worker)
    assert result.returncode == 0, result.stderr
    assert f"backed up to {copy}" in result.stdout
    assert mode(copy) == 0o600
    with sqlite3.connect(copy) as db:
        assert db.execute("select count(*) from org_unit").fetchone() == (6,)
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)
    assert again.returncode == 2 and "exists already" in again.stderr
