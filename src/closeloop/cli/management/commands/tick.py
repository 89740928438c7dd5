"""`closeloop tick [--at ISO-8601]`: do all work due at that instant, then exit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from closeloop.worker.runner import run_due_work


def parse_instant(value: str) -> datetime:
    """ISO-8601 with an offset; a time without one is taken as UTC."""
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--at: {value!r} is not an ISO-8601 date and time, e.g. 2026-11-23T09:00:00+00:00", returncode=2
        ) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Do all work due at an instant (deliveries, escalations, digests, follow-ups), until nothing is due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--at", help="ISO-8601 instant, e.g. 2026-11-23T09:00:00Z (default: now)")

    def handle(self, *args: Any, **options: Any) -> None:
        at = parse_instant(options["at"]) if options["at"] else timezone.now()
        done = run_due_work(at)
        self.stdout.write(f"tick at {at.isoformat()}")
        for name, count in done.items():
            self.stdout.write(f"  {name}: {count}")
