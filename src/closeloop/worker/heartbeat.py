"""The worker's heartbeat: a row each running worker updates as it begins a round.

It is written on the real clock, at most every few seconds (on SQLite every write queues for the
one write lock the web requests also need), and read by `/readyz` and `/metrics`.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import datetime, timedelta

from django.utils import timezone

from closeloop.worker.models import WorkerHeartbeat

BEAT_EVERY = timedelta(seconds=5)
# A worker silent for this long is taken as stopped; rows older than a day are forgotten.
STALE_AFTER = timedelta(seconds=60)
FORGET_AFTER = timedelta(days=1)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"[:200]


class Heartbeat:
    def __init__(self, name: str | None = None) -> None:
        self.name = name or worker_name()
        self.started_at = timezone.now()
        self.last_beat: datetime | None = None

    def beat(self) -> None:
        clock = timezone.now()
        if self.last_beat is not None and clock - self.last_beat < BEAT_EVERY:
            return
        WorkerHeartbeat.objects.update_or_create(
            name=self.name, defaults={"beat_at": clock}, create_defaults={"beat_at": clock, "started_at": clock}
        )
        if self.last_beat is None:
            WorkerHeartbeat.objects.filter(beat_at__lt=clock - FORGET_AFTER).delete()
        self.last_beat = clock

    def stop(self) -> None:
        """A worker that stops cleanly says so at once instead of going stale."""
        WorkerHeartbeat.objects.filter(name=self.name).delete()


def last_beat() -> datetime | None:
    """When the most recently active worker last began a round; None when no worker ever ran."""
    return WorkerHeartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True).first()


def running_workers(now: datetime) -> int:
    return WorkerHeartbeat.objects.filter(beat_at__gte=now - STALE_AFTER).count()
