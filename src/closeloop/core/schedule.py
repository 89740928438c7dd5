"""Digest and summary schedules: when a daily digest or a weekly summary runs, what it covers, and when a
digest's SMS may go out.

A digest runs once per local day at the unit's local time `at`; a summary once a week, on its weekday at `at`.
Their run instants are stored as an indexed `next_run_at`, so they are computed here as exact instants (in UTC)
rather than as local clock readings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from closeloop.core.sla import local_to_instant, require_aware, zone_named

SATURDAY = 5
MONDAY = 0
SUNDAY = 6
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# A summary's `day` as the configuration file writes it: monday..sunday (or mon..sun, as calendars do).
WEEKDAY_NAMES = tuple(name.lower() for name in DAY_NAMES)


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


def next_weekly_run_at(weekday: int, at: time, time_zone: str, after: datetime) -> datetime:
    """The first run on local weekday `weekday` (0 = Monday) at local `at` strictly after `after`, in UTC.

    Each local week has exactly one run, also in weeks when `at` is skipped or repeated by a DST change.
    """
    require_aware(after, "after")
    if not 0 <= weekday <= SUNDAY:
        raise ValueError(f"a weekday is 0 (Monday) to 6 (Sunday), got {weekday}")
    if at.tzinfo is not None:
        raise ValueError("`at` is a local time of day and must not carry a time zone")
    after = after.astimezone(UTC)
    today = after.astimezone(zone_named(time_zone)).date()
    day = today + timedelta(days=(weekday - today.weekday()) % 7)
    candidate = run_instant(day, at, time_zone)
    if candidate > after:
        return candidate
    # Only when `day` is today and its `at` has passed: a later local day's run is always later.
    return run_instant(day + timedelta(days=7), at, time_zone)


@dataclass(frozen=True)
class Week:
    """Seven local days, both ends included, and the seven days before them."""

    date_from: date
    date_to: date

    @property
    def previous(self) -> Week:
        return Week(self.date_from - timedelta(days=7), self.date_from - timedelta(days=1))


def summary_week(run_at: datetime, time_zone: str) -> Week:
    """The week a summary running at `run_at` reports: the seven local days that ended before the run's local
    day (Monday..Sunday for a Monday summary). Whole days, so a week of a DST change has 167 or 169 hours."""
    require_aware(run_at, "run_at")
    run_day = run_at.astimezone(zone_named(time_zone)).date()
    return Week(run_day - timedelta(days=7), run_day - timedelta(days=1))


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
