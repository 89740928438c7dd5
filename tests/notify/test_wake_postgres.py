"""On PostgreSQL a commit that enqueues deliveries wakes a `closeloop worker` elsewhere (LISTEN/NOTIFY).

The worker process runs with a poll interval of an hour: every message it sends within the tests'
safety timeout was sent because the commit woke it, not because it polled.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection, transaction
from django.utils import timezone

from closeloop.notify.outbox import enqueue
from closeloop.notify.wake import CHANNEL
from tests.processes import CLOSELOOP, closeloop_env, fresh_postgres_database, run_cli, stop

# Safety nets only: a woken worker sends in well under a second, a polling one after an hour.
TIMEOUT = 60
POLL = "3600"


def enqueue_script(number: int) -> str:
    return f"""
from django.db import transaction
from django.utils import timezone
from closeloop.notify.outbox import enqueue
with transaction.atomic():
    enqueue(channel="email", address="lead@acme.example", subject="alert {number}", text="Call the customer",
            idempotency_key="alert:{number}:email", now=timezone.now())
"""


def listen_backends(database_url: str) -> list[int]:
    with psycopg.connect(database_url, autocommit=True) as db:
        rows = db.execute(
            "select pid from pg_stat_activity where datname = current_database() and query = %s",
            [f"LISTEN {CHANNEL}"],
        ).fetchall()
    return [pid for (pid,) in rows]


def wait_for_listener(database_url: str, process: subprocess.Popen, other_than: int | None = None) -> int:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0]
        pids = [pid for pid in listen_backends(database_url) if pid != other_than]
        if pids:
            return pids[0]
        time.sleep(0.05)
    raise AssertionError("the worker never listened")


def settings_url() -> str:
    settings = connection.settings_dict
    return f"postgresql://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


@pytest.mark.postgres
def test_a_commit_wakes_a_worker_that_polls_once_an_hour_and_again_after_its_listen_connection_is_cut(
    tmp_path: Path, smtp_sink
):
    sink, port = smtp_sink
    with fresh_postgres_database("wake") as database_url:
        env = closeloop_env(tmp_path, database_url, EMAIL_URL=f"smtp://127.0.0.1:{port}")
        migrated = run_cli(env, "migrate", "--noinput")
        assert migrated.returncode == 0, migrated.stderr
        worker = subprocess.Popen(
            [CLOSELOOP, "worker", "--poll", POLL], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            listener = wait_for_listener(database_url, worker)
            # One after the other: each is committed after the worker sent the one before and went to sleep.
            for number in (1, 2):
                enqueued = run_cli(env, "shell", "-c", enqueue_script(number))
                assert enqueued.returncode == 0, enqueued.stderr
                assert sink.wait_for(number, timeout=TIMEOUT), f"message {number} was not sent"

            with psycopg.connect(database_url, autocommit=True) as admin:
                admin.execute("select pg_terminate_backend(%s)", [listener])
            wait_for_listener(database_url, worker, other_than=listener)
            enqueued = run_cli(env, "shell", "-c", enqueue_script(3))
            assert enqueued.returncode == 0, enqueued.stderr
            assert sink.wait_for(3, timeout=TIMEOUT), "message 3 was not sent after the listen connection came back"
        finally:
            output = stop(worker)
        assert worker.returncode == 0, output
    assert [message["Subject"] for message in sink.messages] == ["alert 1", "alert 2", "alert 3"]


def received(listen: psycopg.Connection) -> int:
    return sum(1 for _ in listen.notifies(timeout=0.2))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_transaction_notifies_once_on_commit_and_not_at_all_when_rolled_back():
    with psycopg.connect(settings_url(), autocommit=True) as listen:
        listen.execute(f"LISTEN {CHANNEL}")
        with transaction.atomic():
            for number in range(3):
                enqueue(
                    channel="email",
                    address="a@acme.example",
                    subject="s",
                    text="t",
                    idempotency_key=f"k{number}",
                    now=timezone.now(),
                )
            assert received(listen) == 0, "notified before the commit"
        assert received(listen) == 1

        with pytest.raises(RuntimeError), transaction.atomic():
            enqueue(
                channel="email",
                address="a@acme.example",
                subject="s",
                text="t",
                idempotency_key="gone",
                now=timezone.now(),
            )
            raise RuntimeError("rolled back")
        assert received(listen) == 0

        with transaction.atomic():
            with pytest.raises(RuntimeError), transaction.atomic():
                enqueue(
                    channel="email",
                    address="a@acme.example",
                    subject="s",
                    text="t",
                    idempotency_key="inner",
                    now=timezone.now(),
                )
                raise RuntimeError("savepoint rolled back")
            enqueue(
                channel="email",
                address="a@acme.example",
                subject="s",
                text="t",
                idempotency_key="outer",
                now=timezone.now(),
            )
        assert received(listen) == 1
