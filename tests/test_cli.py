"""The `closeloop` command on a fresh home folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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


def test_run_serves_the_web_app_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "SITE_URL")}
    env["CLOSELOOP_HOME"] = str(tmp_path)
    server = subprocess.Popen(
        [str(CLI), "run", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        status = None
        for _ in range(300):  # bounded: start-up migrates a fresh database first
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as reply:
                    status = reply.status
                break
            except OSError:
                time.sleep(0.1)
        assert status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output
    # Without SITE_URL, links point at where the server listens.
    assert f"closeloop is serving http://127.0.0.1:{port}" in output
    assert "closeloop stopped." in output


def test_links_name_the_address_served_when_site_url_is_not_set(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    from closeloop.cli.site_url import link_base, use_served_address

    assert link_base("0.0.0.0", 9000) == "http://127.0.0.1:9000"
    assert link_base("::", 9000) == "http://127.0.0.1:9000"
    assert link_base("::1", 9000) == "http://[::1]:9000"
    assert link_base("example.local", 8080) == "http://example.local:8080"
    monkeypatch.delenv("SITE_URL", raising=False)
    settings.SITE_URL = "http://127.0.0.1:8000"
    use_served_address("127.0.0.1", 9123)
    assert settings.SITE_URL == "http://127.0.0.1:9123"
    monkeypatch.setenv("SITE_URL", "https://closeloop.example.com")
    use_served_address("127.0.0.1", 9124)
    assert settings.SITE_URL == "http://127.0.0.1:9123"
