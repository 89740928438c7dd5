"""Business-hours deadlines: adding working time to an instant and measuring working time between two.

All arithmetic happens on absolute instants; a calendar only decides which local spans of each day count.
Each working day contributes the span from its local opening to its local closing time, so a day that
contains a daylight-saving change still has its full local 09:00-17:00, whatever the UTC offsets are.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from closeloop.core.tiers import DEFAULT_SLA_ENTRY, tier_key

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# A calendar whose working days never come (say only Sundays, all of them holidays) must not loop forever;
# ten years without a single working day means the calendar cannot produce a deadline.
_MAX_DAYS_WITHOUT_WORK = 3653


def require_aware(value: datetime, name: str) -> None:
    """Reject naive datetimes: every instant in the core carries its offset."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


def zone_named(name: str) -> ZoneInfo:
    """The IANA time zone called `name`, with a ValueError naming it when it does not exist."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}") from error


def local_to_instant(local: datetime, zone: tzinfo) -> datetime:
    """The instant (in UTC) at which the wall clock in `zone` shows the naive `local`.

    The result is in UTC on purpose: Python subtracts and compares two datetimes that share a tzinfo by
    their wall clocks, which is wrong across a daylight-saving change; UTC values are always exact.

    An ambiguous wall time (the repeated hour when clocks go back) is its first occurrence. A wall time that
    does not exist (skipped when clocks go forward) becomes the first valid instant after the gap, which is
    the moment of the change itself.
    """
    if local.tzinfo is not None:
        raise ValueError("local_to_instant expects a naive wall-clock time")
    first = local.replace(tzinfo=zone, fold=0)
    if _wall_clock(first) == local:
        return first.astimezone(UTC)
    # Inside a gap: fold=1 reads the time with the offset from after the change and fold=0 with the one from
    # before, so the change lies between the two instants; find the second at which the offset flips.
    low = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = first.astimezone(UTC)
    if low > high:
        low, high = high, low
    offset_after = high.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def _wall_clock(instant: datetime) -> datetime:
    return instant.astimezone(UTC).astimezone(instant.tzinfo).replace(tzinfo=None)


@functools.lru_cache(maxsize=512)
def holiday_dates(country: str, year: int) -> frozenset[date]:
    """Public holidays of `country` ("US", or with a subdivision "US-CA") in `year`, cached per pair."""
    code, _, subdivision = country.partition("-")
    supported = _supported_countries()
    if code not in supported or (subdivision and subdivision not in supported[code]):
        raise ValueError(f"no public holidays are known for {country!r}")
    calendar = holidays.country_holidays(code, subdiv=subdivision or None, years=year)
    return frozenset(calendar.keys())


@functools.cache
def _supported_countries() -> dict[str, list[str]]:
    """Country codes the holidays package knows, with their subdivisions."""
    return holidays.list_supported_countries()


@dataclass(frozen=True)
class BusinessCalendar:
    """Working days (0 = Monday) with one opening span per day, in a named time zone."""

    days: frozenset[int]
    start: time
    end: time
    holidays_country: str | None
    time_zone: str

    def __post_init__(self) -> None:
        if not self.days:
            raise ValueError("a business calendar needs at least one working day")
        if not all(isinstance(day, int) and 0 <= day <= 6 for day in self.days):
            raise ValueError(f"working days are 0 (Monday) to 6 (Sunday), got {sorted(self.days)}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("opening and closing times are local times of day and must not carry a time zone")
        if self.start >= self.end:
            raise ValueError(f"opening time {self.start:%H:%M} must be before closing time {self.end:%H:%M}")
        zone_named(self.time_zone)
        if self.holidays_country is not None:
            holiday_dates(self.holidays_country, 2000)

    @classmethod
    def from_config(
        cls, days: Sequence[str], start: str, end: str, holidays: str | None, time_zone: str
    ) -> BusinessCalendar:
        """Build a calendar from the configuration file's words: days "mon".."sun", times "HH:MM"."""
        numbers = set()
        for name in days:
            key = str(name).strip().lower()
            if key not in WEEKDAY_NAMES:
                raise ValueError(f"unknown weekday {name!r}; use mon, tue, wed, thu, fri, sat or sun")
            numbers.add(WEEKDAY_NAMES.index(key))
        return cls(
            days=frozenset(numbers),
            start=_parse_clock(start),
            end=_parse_clock(end),
            holidays_country=holidays or None,
            time_zone=time_zone,
        )

    @property
    def zone(self) -> ZoneInfo:
        return zone_named(self.time_zone)

    def is_working_day(self, day: date) -> bool:
        if day.weekday() not in self.days:
            return False
        return self.holidays_country is None or day not in holiday_dates(self.holidays_country, day.year)

    def opening_span(self, day: date) -> tuple[datetime, datetime]:
        """The instants (UTC) of local opening and closing on `day`, whether or not it is a working day."""
        zone = self.zone
        return (
            local_to_instant(datetime.combine(day, self.start), zone),
            local_to_instant(datetime.combine(day, self.end), zone),
        )

    def working_spans(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Opening spans of working days, in order, from the local day that contains `since` onwards."""
        day = since.astimezone(self.zone).date()
        idle_days = 0
        while True:
            if self.is_working_day(day):
                idle_days = 0
                yield self.opening_span(day)
            else:
                idle_days += 1
                if idle_days > _MAX_DAYS_WITHOUT_WORK:
                    raise ValueError("the business calendar has no working day in ten years")
            day += timedelta(days=1)


def _parse_clock(text: str) -> time:
    match = _CLOCK.match(str(text).strip())
    if match is None:
        raise ValueError(f"{text!r} is not a time of day like 09:00")
    return time(int(match.group(1)), int(match.group(2)))


def add_working_time(start: datetime, goal: timedelta, calendar: BusinessCalendar | None) -> datetime:
    """The instant at which `goal` of working time has passed since `start`.

    Without a calendar every hour counts. With one, only opening hours of working days count, and a start
    outside them begins counting at the next opening (so a zero goal then lands on that opening). The
    result carries the same time zone as `start`.
    """
    require_aware(start, "start")
    if goal < timedelta(0):
        raise ValueError(f"goal must not be negative, got {goal}")
    if calendar is None:
        return (start.astimezone(UTC) + goal).astimezone(start.tzinfo)
    remaining = goal
    start_utc = start.astimezone(UTC)
    for opening, closing in calendar.working_spans(start_utc):
        begin = max(opening, start_utc)
        if begin >= closing:
            continue
        available = closing - begin
        if remaining <= available:
            return (begin + remaining).astimezone(start.tzinfo)
        remaining -= available
    raise AssertionError("working_spans never ends")


def working_time_between(a: datetime, b: datetime, calendar: BusinessCalendar | None) -> timedelta:
    """Working time from `a` to `b` (negative when `b` is earlier): all of it without a calendar."""
    require_aware(a, "a")
    require_aware(b, "b")
    if b < a:
        return -working_time_between(b, a, calendar)
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    if calendar is None:
        return b - a
    total = timedelta(0)
    for opening, closing in calendar.working_spans(a):
        if opening >= b:
            break
        overlap = min(closing, b) - max(opening, a)
        if overlap > timedelta(0):
            total += overlap
    return total


# --- which SLA a case gets ---------------------------------------------------------------------------


def calendar_for_case(unit_calendar: str | None, template_calendar: str | None) -> str | None:
    """The business calendar a case counts its closure goal and escalation delays in: the unit's own
    (inherited down the tree) when it has one, else the template's; None means wall-clock time.

    The unit decides first because opening hours and public holidays belong to the place: a French team
    does not work on the 14th of July, whichever template its cases come from.
    """
    return unit_calendar or template_calendar or None


# Used when neither the customer's tier nor a `default` entry is in the template's SLA.
FALLBACK_GOAL = timedelta(hours=72)


@dataclass(frozen=True)
class SlaChoice:
    severity: str
    goal: timedelta
    tier_entry: str | None  # which SLA entry applied: the tier, "default", or None for the fallback


def choose_sla(sla: Mapping[str, Mapping[str, Any]], tier: str, rule_severity: str) -> SlaChoice:
    """The customer's tier picks severity and closure goal; `default` covers unknown or missing tiers.

    Tiers match case-insensitively, as rules match them: `gold` finds the `Gold` entry.
    """
    entry = _sla_entry(sla, tier) if tier else None
    if entry is None and "default" in sla:
        entry = "default"
    if entry is not None:
        chosen = sla[entry]
        return SlaChoice(chosen.get("severity") or rule_severity, timedelta(seconds=chosen["closure_goal"]), entry)
    return SlaChoice(rule_severity, FALLBACK_GOAL, None)


def _sla_entry(sla: Mapping[str, Mapping[str, Any]], tier: str) -> str | None:
    if tier in sla:
        return tier
    wanted = tier_key(tier)
    return next((name for name in sla if name != DEFAULT_SLA_ENTRY and tier_key(name) == wanted), None)
