"""Digest schedules: when a daily digest runs, which responses it covers, and when its SMS may go out.

A digest runs once per local day at the unit's local time `at`. Its run instants are stored as an indexed
`next_run_at`, so they are computed here as exact instants (in UTC) rather than as local clock readings.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from closeloop.core.sla import local_to_instant, require_aware, zone_named

SATURDAY = 5
MONDAY = 0
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def run_instant(day: date, at: time, time_zone: str) -> datetime:
    """The instant (UTC) of the local time `at` on `day`: skipped times move past the gap, repeated ones
    take their first occurrence."""
    return local_to_instant(datetime.combine(day, at), zone_named(time_zone))


def next_run_at(at: time, time_zone: str, after: datetime) -> datetime:
    """The first run at local `at` strictly after `after`, in UTC.

    Each local day has exactly one run, also on days when `at` is skipped or repeated by a DST change.
    """
    require_aware(after, "after")
    if at.tzinfo is not None:
        raise ValueError("`at` is a local time of day and must not carry a time zone")
    after = after.astimezone(UTC)
    day = after.astimezone(zone_named(time_zone)).date()
    candidate = run_instant(day, at, time_zone)
    if candidate > after:
        return candidate
    # The next local day's run is later than anything on the day of `after`: a gap only ever moves it forward.
    return run_instant(day + timedelta(days=1), at, time_zone)


def digest_window(run_at: datetime, window: timedelta, time_zone: str | None = None) -> tuple[datetime, datetime]:
    """The span [start, end) of submission times a digest running at `run_at` covers, in UTC.

    With `time_zone`, the window is measured on the local wall clock: a 24h window reaches back to the same
    local time the day before, so consecutive daily digests cover time without gap or overlap even on the
    23- and 25-hour days of a DST change. Without it the window is exactly `window` of real time.
    """
    require_aware(run_at, "run_at")
    if window <= timedelta(0):
        raise ValueError(f"a digest window must be positive, got {window}")
    end = run_at.astimezone(UTC)
    if time_zone is None:
        return end - window, end
    zone = zone_named(time_zone)
    local_end = end.astimezone(zone).replace(tzinfo=None)
    return local_to_instant(local_end - window, zone), end


def sms_time(run_at: datetime, time_zone: str, at: time, weekend_sms: bool) -> datetime:
    """When a digest's SMS goes out (UTC): with its run, unless weekend SMS are off and the run falls on a
    local Saturday or Sunday, in which case it waits for Monday's `at`. The email is never deferred."""
    require_aware(run_at, "run_at")
    run_at = run_at.astimezone(UTC)
    local_day = run_at.astimezone(zone_named(time_zone)).date()
    if weekend_sms or local_day.weekday() < SATURDAY:
        return run_at
    monday = local_day + timedelta(days=(MONDAY - local_day.weekday()) % 7)
    return run_instant(monday, at, time_zone)


def reported_day_words(run_at: datetime, time_zone: str, delivered_at: datetime) -> str:
    """How a digest message names the day it reports on (the local day before its run): "yesterday" when it
    is delivered on the day of the run, else that day's name ("on Saturday"), as for a weekend SMS that waits
    for Monday."""
    require_aware(run_at, "run_at")
    require_aware(delivered_at, "delivered_at")
    zone = zone_named(time_zone)
    run_day = run_at.astimezone(zone).date()
    if delivered_at.astimezone(zone).date() == run_day:
        return "yesterday"
    return f"on {DAY_NAMES[(run_day - timedelta(days=1)).weekday()]}"
