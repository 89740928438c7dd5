"""`closeloop worker`: the background worker on its own; any number may run against PostgreSQL."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from closeloop.cli.text_model import announce_text_model
from closeloop.worker.runner import POLL_SECONDS, Worker
from closeloop.worker.steps import STEPS


def poll_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--poll must be a number of seconds, not {value!r}") from None
    if not 0 < seconds <= 3600:
        raise argparse.ArgumentTypeError(f"--poll must be more than 0 and at most 3600 seconds, not {value}")
    return seconds


class Command(BaseCommand):
    help = "Send due deliveries and run escalations, digests and follow-ups until stopped (SIGTERM or Ctrl-C)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--poll",
            type=poll_seconds,
            default=POLL_SECONDS,
            metavar="SECONDS",
            help=(
                f"look for due work at least this often (default {POLL_SECONDS}); on PostgreSQL new deliveries "
                "wake the worker at once whatever this says"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"worker running: {', '.join(step.name for step in STEPS)}; stop with Ctrl-C or SIGTERM")
        self.stdout.write(announce_text_model())
        Worker(poll_seconds=options["poll"]).run()
        self.stdout.write("worker stopped")
