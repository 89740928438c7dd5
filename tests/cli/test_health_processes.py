"""Readiness and metrics across real processes: `serve` with several gunicorn workers, `worker`, `run`."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.processes import (
    CLOSELOOP,
    closeloop_env,
    free_port,
    fresh_postgres_database,
    run_cli,
    stop,
    wait_for_http,
)

FIXTURES = Path(__file__).parent.parent / "fixtures"


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def ready(port: int) -> tuple[int, dict]:
    status, body = get(f"http://127.0.0.1:{port}/readyz")
    return status, json.loads(body)


def until(check, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def post_unhappy(port: int, token: str, number: int) -> int:
    body = {
        "survey": "upgrade-install",
        "external_id": f"metrics-{number}",
        "unit": "SUP-EMEA",
        "segment": "SMB",
        "answers": {"ease": 2, "completed": False},
    }
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/responses",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return reply.status


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    status, body = get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200
    wanted = ("closeloop_responses_ingested", "closeloop_deliveries", "closeloop_alert_latency_seconds")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        if family.name in wanted
        for sample in family.samples
    }


def query(home: Path, sql: str) -> int:
    with sqlite3.connect(home / "closeloop.sqlite3") as db:
        (count,) = db.execute(sql).fetchone()
    return count


def unsent(home: Path) -> int:
    return query(home, "select count(*) from notify_delivery where status in ('pending', 'sending')")


def sent_alert_emails(home: Path) -> int:
    return query(
        home, "select count(*) from notify_delivery where topic = 'alert' and channel = 'email' and status = 'sent'"
    )


def test_serve_is_ready_only_once_a_worker_runs_and_every_gunicorn_worker_reports_the_same_metrics(
    tmp_path: Path, smtp_sink
) -> None:
    sink, smtp_port = smtp_sink
    env = closeloop_env(tmp_path, EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}")
    assert run_cli(env, "config", "apply", str(FIXTURES / "acme.yaml")).returncode == 0
    token = run_cli(env, "token", "create", "--name", "metrics", "--scopes", "ingest").stdout.strip()
    port = free_port()
    server = subprocess.Popen(
        [CLOSELOOP, "serve", "--port", str(port), "--workers", "3"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    worker = None
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", server)
        status, body = ready(port)
        assert (status, body["failing"]) == (503, ["worker"])

        assert [post_unhappy(port, token, n) for n in range(5)] == [201] * 5
        worker = subprocess.Popen([CLOSELOOP, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert until(lambda: ready(port)[0] == 200), ready(port)
        assert until(lambda: unsent(tmp_path) == 0), unsent(tmp_path)
        scrapes = [scrape(port) for _ in range(9)]
    finally:
        if worker is not None:
            stop(worker)
        stop(server)
    assert all(one == scrapes[0] for one in scrapes)
    first = scrapes[0]
    assert first[("closeloop_responses_ingested_total", (("status", "valid"),))] == 5
    sent = first[("closeloop_deliveries", (("channel", "email"), ("status", "sent")))]
    assert sent == sink.count() >= 5
    alert_emails = sent_alert_emails(tmp_path)
    assert alert_emails >= 5
    assert first[("closeloop_alert_latency_seconds_count", (("channel", "email"),))] == alert_emails
    assert first[("closeloop_alert_latency_seconds_bucket", (("channel", "email"), ("le", "+Inf")))] == alert_emails


@pytest.mark.postgres
def test_run_is_ready_with_its_own_worker_and_names_the_database_when_it_is_gone(tmp_path: Path) -> None:
    with fresh_postgres_database("ready") as database_url:
        env = closeloop_env(tmp_path, database_url)
        port = free_port()
        server = subprocess.Popen(
            [CLOSELOOP, "run", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_for_http(f"http://127.0.0.1:{port}/healthz", server)
            # The embedded worker beats as soon as its first round begins.
            assert until(lambda: ready(port)[0] == 200), ready(port)
            name = database_url.rsplit("/", 1)[1]
            admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            status, body = ready(port)
            health, _ = get(f"http://127.0.0.1:{port}/healthz")
        finally:
            stop(server)
    assert (status, body["status"]) == (503, "not ready")
    assert body["failing"] == ["database", "worker", "deliveries"]
    assert body["checks"]["database"]["ok"] is False
    assert health == 200
