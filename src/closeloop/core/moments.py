"""Instants as people read them in messages and reports: "Thu 3 Dec, 17:00 CET". Pure.

Emails, SMS and PDFs are read by people in a unit's time zone, on a phone, often in a hurry; an ISO
timestamp with microseconds and an offset is for machines (the API keeps those). The year is shown only
when it is not the current one, so a case opened last December does not read as this December's.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from closeloop.core.sla import require_aware, zone_named


def _zone(time_zone: str | ZoneInfo) -> ZoneInfo:
    return time_zone if isinstance(time_zone, ZoneInfo) else zone_named(time_zone)


def format_moment(instant: datetime, time_zone: str | ZoneInfo, *, now: datetime) -> str:
    """`instant` on the wall clock of `time_zone`: "Thu 3 Dec, 17:00 CET" ("Thu 3 Dec 2025, 17:00 CET" in
    another year than `now`'s)."""
    require_aware(instant, "instant")
    require_aware(now, "now")
    zone = _zone(time_zone)
    local = instant.astimezone(zone)
    day = f"{local:%a} {local.day} {local:%b}"
    if local.year != now.astimezone(zone).year:
        day += f" {local.year}"
    return f"{day}, {local:%H:%M} {local.tzname()}"


def format_span(start: datetime, end: datetime, time_zone: str | ZoneInfo, *, now: datetime) -> str:
    """A span such as a digest's window: "Wed 2 Dec, 09:00 GMT to Thu 3 Dec, 09:00 GMT"."""
    return f"{format_moment(start, time_zone, now=now)} to {format_moment(end, time_zone, now=now)}"
