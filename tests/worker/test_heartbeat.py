"""A running worker keeps a heartbeat row fresh, and removes it when it stops cleanly."""

from __future__ import annotations

import threading
import time

import pytest

from closeloop.worker.heartbeat import last_beat
from closeloop.worker.models import WorkerHeartbeat
from closeloop.worker.runner import Worker


@pytest.mark.django_db(transaction=True)
def test_a_running_worker_beats_and_a_stopped_one_leaves_no_heartbeat() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=Worker(stop, poll_seconds=0.05).run, name="beating-worker")
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while last_beat() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        names = list(WorkerHeartbeat.objects.values_list("name", flat=True))
    finally:
        stop.set()
        thread.join(timeout=30)
    assert len(names) == 1 and names[0].endswith(":beating-worker")
    assert WorkerHeartbeat.objects.count() == 0
