"""A worker process killed with SIGKILL in the middle of an SMTP send loses nothing and repeats at most
the one message it was sending.

Everything runs through the real `closeloop` CLI against a SQLite file, so the killed
worker, the test and the worker that finishes the job are separate processes. Leases run on the
real clock, so the process that finishes the job moves its clock past the lease (time-machine)
instead of the test waiting for it.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

CLOSELOOP = str(Path(sys.executable).with_name("closeloop"))

ENQUEUE = """
from django.db import transaction
from django.utils import timezone
from closeloop.notify.outbox import enqueue
with transaction.atomic():
    for number in range({count}):
        enqueue(channel="email", address="lead@acme.example", subject=f"Recovery {{number}}",
                text="Call the customer", idempotency_key=f"alert:{{number}}:erin:email", now=timezone.now())
"""

# `closeloop tick` in a process whose clock is five minutes ahead: past any lease a killed worker left.
TICK_AFTER_THE_LEASE = """
from datetime import UTC, datetime, timedelta
import time_machine
from django.core.management import call_command
with time_machine.travel(datetime.now(UTC) + timedelta(minutes=5)):
    call_command("tick")
"""


def enqueue_emails(env: dict[str, str], count: int) -> None:
    subprocess.run(
        [CLOSELOOP, "shell", "-c", ENQUEUE.format(count=count)], env=env, check=True, capture_output=True, timeout=60
    )


def tick_after_the_lease(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLOSELOOP, "shell", "-c", TICK_AFTER_THE_LEASE], env=env, capture_output=True, text=True, timeout=120
    )


def kill(worker: subprocess.Popen) -> None:
    try:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def closeloop_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOSELOOP_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="closeloop.settings",
        CLOSELOOP_HOME=str(home),
        DATABASE_URL=f"sqlite:///{home / 'closeloop.sqlite3'}",
        CLOSELOOP_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory) -> Path:
    """One migrated SQLite file, copied by each test (migrating takes seconds)."""
    home = tmp_path_factory.mktemp("migrated")
    subprocess.run(
        [CLOSELOOP, "migrate", "--noinput"], env=closeloop_env(home), check=True, capture_output=True, timeout=180
    )
    return home / "closeloop.sqlite3"


@pytest.fixture
def cli_env(tmp_path, smtp_sink, migrated_database) -> dict[str, str]:
    _, port = smtp_sink
    shutil.copyfile(migrated_database, tmp_path / "closeloop.sqlite3")
    (tmp_path / "secret_key").write_text("test-secret-key-for-the-cli-processes")
    return closeloop_env(tmp_path, EMAIL_URL=f"smtp://127.0.0.1:{port}")


def delivery_row(tmp_path: Path) -> tuple[str, int]:
    with sqlite3.connect(tmp_path / "closeloop.sqlite3") as db:
        return db.execute("select status, attempts from notify_delivery").fetchone()


def delivery_statuses(tmp_path: Path) -> Counter[str]:
    with sqlite3.connect(tmp_path / "closeloop.sqlite3") as db:
        return Counter(status for (status,) in db.execute("select status from notify_delivery"))


def test_a_delivery_whose_worker_was_killed_mid_send_is_sent_after_the_lease(tmp_path, smtp_sink, cli_env):
    sink, _ = smtp_sink
    enqueue_emails(cli_env, 1)
    sink.stall = True
    worker = subprocess.Popen([CLOSELOOP, "worker"], env=cli_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert sink.data_started.wait(timeout=60), "the worker never reached DATA"
    finally:
        kill(worker)
    assert worker.returncode == -signal.SIGKILL
    assert sink.count() == 0
    assert delivery_row(tmp_path) == ("sending", 1)

    sink.stall = False
    tick = tick_after_the_lease(cli_env)
    assert tick.returncode == 0, tick.stderr
    assert "deliveries: 1" in tick.stdout
    assert sink.count() == 1
    assert sink.messages[0]["Subject"] == "Recovery 0"
    assert delivery_row(tmp_path) == ("sent", 2)


def test_a_worker_killed_mid_batch_repeats_only_the_message_in_flight_with_the_same_message_id(
    tmp_path, smtp_sink, cli_env
):
    sink, _ = smtp_sink
    enqueue_emails(cli_env, 30)
    # The eleventh message reaches the server, which keeps it and never answers: the worker is killed
    # after the server has the message and before the worker can know.
    sink.hold_reply_after = 10
    worker = subprocess.Popen([CLOSELOOP, "worker"], env=cli_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert sink.reply_held.wait(timeout=60), "the worker never sent the eleventh message"
    finally:
        kill(worker)
    assert sink.count() == 11
    # One claimed batch: ten recorded as sent one by one, the eleventh in flight, the rest not yet tried.
    assert delivery_statuses(tmp_path) == {"sent": 10, "sending": 20}

    sink.hold_reply_after = None
    tick = tick_after_the_lease(cli_env)
    assert tick.returncode == 0, tick.stderr
    assert "deliveries: 20" in tick.stdout
    ids = Counter(message["Message-ID"] for message in sink.messages)
    subjects = Counter(message["Subject"] for message in sink.messages)
    assert len(ids) == 30 and len(subjects) == 30
    assert sorted(ids.values()) == [1] * 29 + [2], "only the message in flight arrived twice"
    assert [subject for subject, count in subjects.items() if count == 2] == ["Recovery 10"]
    [(twice, _)] = [(message_id, n) for message_id, n in ids.items() if n == 2]
    assert [m["Subject"] for m in sink.messages if m["Message-ID"] == twice] == ["Recovery 10", "Recovery 10"]
    assert delivery_statuses(tmp_path) == {"sent": 30}


def test_tick_before_the_lease_expires_leaves_the_claimed_delivery_alone(tmp_path, smtp_sink, cli_env):
    sink, _ = smtp_sink
    enqueue_emails(cli_env, 1)
    with sqlite3.connect(tmp_path / "closeloop.sqlite3") as db:
        # What a worker's claim leaves behind: sending, leased for two more minutes.
        lease = (datetime.now(UTC) + timedelta(minutes=2)).strftime("%Y-%m-%d %H:%M:%S")
        db.execute("update notify_delivery set status='sending', attempts=1, lease_until=?", (lease,))
    tick = subprocess.run([CLOSELOOP, "tick"], env=cli_env, capture_output=True, text=True, timeout=60)
    assert tick.returncode == 0, tick.stderr
    assert "deliveries: 0" in tick.stdout
    assert sink.count() == 0


def test_tick_with_a_bad_at_exits_2_and_names_the_option(cli_env):
    tick = subprocess.run([CLOSELOOP, "tick", "--at", "next tuesday"], env=cli_env, capture_output=True, text=True)
    assert tick.returncode == 2
    assert "--at" in tick.stderr
