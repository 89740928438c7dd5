"""The `digests` section: daily SMS counts and PDF reports per unit."""

from __future__ import annotations

from typing import Any

from closeloop.config.sections.base import Section, clock, clock_out, duration_out, keyed
from closeloop.config.validate import Config
from closeloop.core.durations import parse_duration
from closeloop.reports.models import Digest


def section(config: Config) -> Section:
    return keyed(
        "digests",
        Digest,
        {
            digest.key: {
                "units": list(digest.units),
                "at": clock(digest.at),
                "window": parse_duration(digest.window),
                "to": list(digest.to),
                "sms": digest.sms,
                "email_pdf": digest.email_pdf,
                "weekend_sms": digest.weekend_sms,
                "when_empty": digest.when_empty,
                "report_per": digest.report_per,
            }
            for digest in config.digests
        },
    )


def export() -> list[dict[str, Any]]:
    return [
        {
            "key": digest.key,
            "units": list(digest.units),
            "at": clock_out(digest.at),
            "window": duration_out(digest.window),
            "to": list(digest.to),
            "sms": digest.sms,
            "email_pdf": digest.email_pdf,
            "weekend_sms": digest.weekend_sms,
            "when_empty": digest.when_empty,
            **({"report_per": digest.report_per} if digest.report_per != Digest.ReportPer.PERSON else {}),
        }
        for digest in Digest.objects.order_by("pk")
    ]
