"""The access logs of both servers (gunicorn for `serve`, waitress for `run`) keep secret URL segments out:
follow-up answer tokens and password-reset tokens become `[redacted]`. Real processes, real requests."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.processes import CLOSELOOP, closeloop_env, free_port, run_cli, stop, wait_for_http

FOLLOW_UP = "/follow-up/7.Zq3secretnonce:1tXyZ:AbCsignature/yes"
RESET = "/password-reset/Mw/c9z-5f1e2secrettoken/"


def get(port: int, path: str, **headers: str) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture(scope="module")
def migrated_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("access-logs")
    assert run_cli(closeloop_env(home), "migrate", "--noinput").returncode == 0
    return home


def serve_and_visit(home: Path, command: list[str], **extra: str) -> tuple[str, list[int]]:
    env = closeloop_env(home, CLOSELOOP_LOG_LEVEL="INFO", **extra)
    port = free_port()
    server = subprocess.Popen(
        [CLOSELOOP, *command, "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", server)
        statuses = [
            get(port, FOLLOW_UP, Referer=f"http://127.0.0.1:{port}{FOLLOW_UP}", **{"X-Request-ID": "req-log-1"}),
            get(port, RESET),
        ]
    finally:
        output = stop(server)
    return output, statuses


@pytest.mark.parametrize("command", [["serve", "--workers", "1"], ["run"]], ids=["gunicorn", "waitress"])
def test_access_log_lines_redact_follow_up_and_password_reset_tokens(migrated_home: Path, command: list[str]) -> None:
    output, statuses = serve_and_visit(migrated_home, command)
    assert statuses[0] == 400  # an invalid follow-up link: the customer reads why
    lines = [line for line in output.splitlines() if "/follow-up/" in line or "/password-reset/" in line]
    assert any("GET /follow-up/[redacted]/yes HTTP/1.1" in line and "req-log-1" in line for line in lines), output
    assert any("GET /password-reset/[redacted]/[redacted]/ HTTP/1.1" in line for line in lines), output
    assert "secret" not in output, output


def test_with_log_format_json_each_access_line_is_a_json_object(migrated_home: Path) -> None:
    output, _ = serve_and_visit(migrated_home, ["run"], LOG_FORMAT="json")
    access = [json.loads(line) for line in output.splitlines() if line.startswith("{") and '"closeloop.access"' in line]
    [follow_up] = [line for line in access if "/follow-up/" in line["message"]]
    assert follow_up["request_id"] == "req-log-1"
    assert follow_up["level"] == "INFO"
    assert "GET /follow-up/[redacted]/yes HTTP/1.1" in follow_up["message"]
    assert "secret" not in output


def test_gunicorn_access_lines_are_json_too(migrated_home: Path) -> None:
    output, _ = serve_and_visit(migrated_home, ["serve", "--workers", "1"], LOG_FORMAT="json")
    access = [json.loads(line) for line in output.splitlines() if line.startswith("{") and "gunicorn.access" in line]
    [follow_up] = [line for line in access if "/follow-up/" in line["message"]]
    assert (follow_up["request_id"], follow_up["status"]) == ("req-log-1", 400)
    assert follow_up["message"] == "GET /follow-up/[redacted]/yes 400"
    assert "secret" not in output
