"""`closeloop digest --unit CODE [--date YYYY-MM-DD] [--out FILE]`: the Service Recovery Report as a PDF file.

Without `--date` it reports yesterday's feedback: for a unit with a digest, today's run (whose window ends
at today's `at`); for a unit without one, yesterday's calendar day.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from closeloop.org.directory import directory
from closeloop.org.models import Unit
from closeloop.reports.on_demand import digest_for_unit, report_for_day
from closeloop.reports.service_report import render_pdf


class Command(BaseCommand):
    help = "Write a unit's Service Recovery Report for one day as a PDF file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--unit", required=True, help="The unit's code; its whole subtree is reported")
        parser.add_argument("--date", help="YYYY-MM-DD: the digest run's date (default: yesterday's feedback)")
        parser.add_argument("--out", help="Where to write the PDF (default: service-recovery-CODE-DATE.pdf)")

    def handle(self, *args: Any, **options: Any) -> None:
        unit = Unit.objects.filter(code=options["unit"]).first()
        if unit is None:
            raise CommandError(f"--unit: unknown unit {options['unit']!r}", returncode=2)
        if options["date"]:
            try:
                day = date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(
                    f"--date: {options['date']!r} is not a date; write YYYY-MM-DD", returncode=2
                ) from None
        else:
            today = timezone.now().astimezone(ZoneInfo(directory().time_zone_of(unit))).date()
            day = today if digest_for_unit(unit) else today - timedelta(days=1)
        report = report_for_day(unit, day)
        out = Path(options["out"] or f"service-recovery-{unit.code}-{day.isoformat()}.pdf")
        out.write_bytes(render_pdf(report))
        self.stdout.write(f"{report.count} unhappy customer(s), {report.period}: wrote {out.resolve()}")
