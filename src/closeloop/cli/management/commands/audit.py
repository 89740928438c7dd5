"""`closeloop audit export [--since DAY] [--until DAY]`: the audit log as JSON Lines, for an admin."""

from __future__ import annotations

import json
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError, CommandParser

from closeloop.audit.log import entries
from closeloop.core.limits import parse_day
from closeloop.org.directory import current_organization


class Command(BaseCommand):
    help = "Print the audit log (who viewed, exported, erased or changed customers' data) as JSON Lines."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser("export", help="print the log, oldest first, one JSON object a line")
        export.add_argument("--since", help="YYYY-MM-DD: from the start of that day (organisation's time zone)")
        export.add_argument("--until", help="YYYY-MM-DD: up to the start of that day")

    def handle(self, *args: Any, **options: Any) -> None:
        zone = ZoneInfo(current_organization().time_zone)
        bounds = {name: self._start_of(options[name], name, zone) for name in ("since", "until")}
        for entry in entries(bounds["since"], bounds["until"]):
            self.stdout.write(json.dumps(entry, ensure_ascii=False))

    @staticmethod
    def _start_of(value: str | None, name: str, zone: ZoneInfo) -> datetime | None:
        if not value:
            return None
        try:
            return datetime.combine(parse_day(value), time.min, tzinfo=zone)
        except ValueError as exc:
            raise CommandError(f"--{name}: {exc}", returncode=2) from None
