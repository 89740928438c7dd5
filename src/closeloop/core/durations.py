"""Durations as the configuration file writes them: "90s", "30m", "24h", "3d", "2w"."""

from __future__ import annotations

import re
from datetime import timedelta

UNIT_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PATTERN = re.compile(r"^\s*(\d+)\s*([wdhms])\s*$")


class BadDuration(ValueError):
    """The text is not a duration like 30m, 24h, 3d or 2w."""


def duration_problem(text: object) -> str:
    """The message shown for a value that is not a duration."""
    return f"{text!r} is not a duration like 30m, 24h, 3d or 2w"


def parse_duration(text: str) -> timedelta:
    """Read one number and one unit (s, m, h, d, w) into a timedelta."""
    if not isinstance(text, str):
        raise BadDuration(duration_problem(text))
    match = _PATTERN.match(text)
    if match is None:
        raise BadDuration(duration_problem(text))
    return timedelta(seconds=int(match.group(1)) * UNIT_SECONDS[match.group(2)])


def format_duration(value: timedelta | int) -> str:
    """The shortest exact form: the largest unit that divides the duration (seconds as a last resort)."""
    seconds = int(value.total_seconds()) if isinstance(value, timedelta) else int(value)
    if seconds < 0:
        raise BadDuration(f"negative duration {seconds}s cannot be written")
    if isinstance(value, timedelta) and value.total_seconds() != seconds:
        raise BadDuration(f"{value} has fractions of a second and cannot be written")
    if seconds == 0:
        return "0s"
    for unit, size in UNIT_SECONDS.items():
        if size > 1 and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
