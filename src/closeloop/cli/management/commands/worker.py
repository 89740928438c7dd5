"""`closeloop worker`: the background worker on its own; any number may run against PostgreSQL."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from closeloop.worker.runner import Worker
from closeloop.worker.steps import STEPS


class Command(BaseCommand):
    help = "Send due deliveries and run escalations, digests and follow-ups until stopped (SIGTERM or Ctrl-C)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"worker running: {', '.join(step.name for step in STEPS)}; stop with Ctrl-C or SIGTERM")
        Worker().run()
        self.stdout.write("worker stopped")
