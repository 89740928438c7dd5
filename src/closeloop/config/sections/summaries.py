"""The `summaries` section: the weekly programme summary emails per unit."""

from __future__ import annotations

from typing import Any

from closeloop.config.sections.base import Section, clock, clock_out, keyed
from closeloop.config.validate import Config
from closeloop.core.schedule import WEEKDAY_NAMES
from closeloop.reports.models import Summary

DEFAULT_THEMES = 5


def section(config: Config) -> Section:
    return keyed(
        "summaries",
        Summary,
        {
            summary.key: {
                "units": list(summary.units),
                "day": summary.weekday,
                "at": clock(summary.at),
                "to": list(summary.to),
                "themes": summary.themes,
            }
            for summary in config.summaries
        },
    )


def export() -> list[dict[str, Any]]:
    return [
        {
            "key": summary.key,
            "units": list(summary.units),
            "day": WEEKDAY_NAMES[summary.day],
            "at": clock_out(summary.at),
            "to": list(summary.to),
            **({"themes": summary.themes} if summary.themes != DEFAULT_THEMES else {}),
        }
        for summary in Summary.objects.order_by("pk")
    ]
