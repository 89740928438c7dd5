"""`closeloop tick --at <a day ahead>` beside a running `closeloop worker` sends nothing twice.

Due-ness follows `--at`, leases follow the real clock: the tick sends what nobody holds and leaves
the worker's claimed batch to the worker. Both are real processes on one PostgreSQL database, sending
to a real SMTP server.
"""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from tests.processes import CLOSELOOP, closeloop_env, fresh_postgres_database, run_cli, stop

MESSAGES = 400

ENQUEUE = f"""
from django.db import transaction
from django.utils import timezone
from closeloop.notify.outbox import enqueue
with transaction.atomic():
    for number in range({MESSAGES}):
        enqueue(channel="email", address=f"lead{{number}}@acme.example", subject=f"alert {{number}}",
                text="Call the customer", idempotency_key=f"alert:{{number}}:email", now=timezone.now())
"""


def unsent(database_url: str) -> int:
    with psycopg.connect(database_url) as db:
        (count,) = db.execute("select count(*) from notify_delivery where status <> 'sent'").fetchone()
    return count


@pytest.mark.postgres
def test_a_tick_a_day_ahead_beside_a_running_worker_sends_each_message_exactly_once(tmp_path: Path, smtp_sink):
    sink, port = smtp_sink
    sink.delay = 0.004  # a batch of 50 takes a while: the tick arrives while the worker holds one
    with fresh_postgres_database("tick") as database_url:
        env = closeloop_env(tmp_path, database_url, EMAIL_URL=f"smtp://127.0.0.1:{port}")
        migrated = run_cli(env, "migrate", "--noinput")
        assert migrated.returncode == 0, migrated.stderr
        enqueued = run_cli(env, "shell", "-c", ENQUEUE)
        assert enqueued.returncode == 0, enqueued.stderr
        worker = subprocess.Popen(
            [CLOSELOOP, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            assert sink.wait_for(10, timeout=60), "the worker sent nothing"
            ahead = (datetime.now(UTC) + timedelta(days=1)).isoformat()
            tick = run_cli(env, "tick", "--at", ahead)
            assert tick.returncode == 0, tick.stderr
            deadline = time.monotonic() + 120
            while unsent(database_url) and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            output = stop(worker)
        sent_by_tick = int(tick.stdout.split("deliveries: ")[1].split()[0])
        assert unsent(database_url) == 0, output
    subjects = Counter(message["Subject"] for message in sink.messages)
    assert len(subjects) == MESSAGES
    assert [subject for subject, count in subjects.items() if count > 1] == []
    assert sink.count() == MESSAGES
    # Both did part of the work: the tick really ran beside the worker.
    assert 0 < sent_by_tick < MESSAGES
