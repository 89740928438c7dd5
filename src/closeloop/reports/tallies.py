"""The loop report's figures per unit and local day, added up ahead of time so that a report over a quarter
reads a few hundred small rows instead of every case of the quarter.

A *tally* is what the report needs of one unit's responses (of a day, or of any selection): counts that add
up (responses, alerts per category, cases closed, resolved, within their goal...) and the three kinds of
timestamps whose figures depend on the instant the report is read at, kept as microseconds since the
epoch: each contacted case's delay to first contact (for the medians), the opening of each case not yet
contacted (it counts against a contact window once it has waited that long) and the due time of each open
case (it counts against the closure goal once due). A stored tally is therefore right at any `now`, and a
report adds stored tallies of the clean days to tallies counted live for the others.

A day is clean when it was built on the current basis (the organisation's time zone and follow-up survey)
and no change was noted in any of its hours since: database triggers note the hour of every response whose
figures change (reports migration 0006). The worker step `refresh_tallies` builds changed days again and
deletes exactly the change rows it read, so a change that lands while it builds waits for the next round.

Which rows a tally counts, and what the figures mean, are reports.selection's and closeloop.core.metrics';
tests/reports/test_report_tallies.py holds the report read from stored tallies equal to the report counted
from the cases, after every kind of change.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet

from closeloop.alerts.models import Alert
from closeloop.cases.models import Case
from closeloop.core.metrics import (
    CONTACT_WINDOWS,
    MICROSECONDS_PER_HOUR,
    CaseTally,
    ContactTally,
    LoopSummary,
    UnitActivity,
    contact_delay,
    loop_summary_from_tallies,
)
from closeloop.feedback.models import Response
from closeloop.feedback.queries import local_day_bounds
from closeloop.org.directory import current_organization, directory
from closeloop.org.models import Unit
from closeloop.reports.models import TallyChange, TallyDay, UnitDayTally
from closeloop.reports.selection import case_answers, cases_of, selected_responses

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_HOUR = timedelta(hours=1)
# A day is built again at most once a minute: while responses keep arriving, today changes all the time, and
# a report counts one day from its cases quickly (what a build would cost each time).
REBUILD_AFTER = timedelta(minutes=1)
# The worker step builds one day (two at most) per transaction: on SQLite the transaction holds the write
# lock, so it stays short (a day of 10,000 responses takes some 50 ms); it goes on until its time is up,
# short too, so that a backlog of days (after an import) never holds up the deliveries of the next round.
STEP_SECONDS = 0.2
CHECK_EVERY = timedelta(seconds=5)
_idle_since: datetime | None = None  # when this process last found nothing to build
# Change rows are deleted by id (exactly those read), this many a statement.
_DELETE_CHUNK = 500
# Only one worker builds at a time (PostgreSQL); a second one finds the lock taken and does other work.
_ADVISORY_LOCK = 0x7A11_7A11


def microseconds(at: datetime) -> int:
    """An aware instant as microseconds since the epoch: how tallies keep instants (exact, and JSON)."""
    return (at - _EPOCH) // _MICROSECOND


def basis() -> str:
    """What the stored tallies depend on besides the rows the triggers watch."""
    organization = current_organization()
    return f"{organization.time_zone}|{organization.follow_up_survey}"


def hour_days(hour: int, time_zone: str) -> set[date]:
    """The local days that the UTC hour `hour` (hours since the epoch) overlaps: one, or two where the
    zone's offset is not whole hours."""
    zone = ZoneInfo(time_zone)
    start = _EPOCH + hour * _HOUR
    return {start.astimezone(zone).date(), (start + _HOUR - _MICROSECOND).astimezone(zone).date()}


def day_hours(date_from: date, date_to: date, time_zone: str) -> tuple[int, int]:
    """The first and last UTC hour that overlap the local days `date_from`..`date_to`."""
    start = local_day_bounds(date_from, time_zone)[0]
    end = local_day_bounds(date_to, time_zone)[1]
    return microseconds(start) // MICROSECONDS_PER_HOUR, (microseconds(end) - 1) // MICROSECONDS_PER_HOUR


# --- counting a selection of responses into tallies


def count_tallies(responses: QuerySet[Response]) -> dict[str, dict[str, Any]]:
    """The tally of each unit's responses among `responses` (by the unit each response belongs to), in the
    stored form: see `_empty` for its keys. Cases count under the unit they belong to, which a handover may
    have changed, as the report counts them."""
    tallies: dict[str, dict[str, Any]] = defaultdict(_empty)
    rows = (
        responses.order_by()
        .values_list("unit__code")
        .annotate(total=Count("id"), needing=Count("id", filter=Q(needs_recovery=True)))
    )
    for code, total, needing in rows:
        tallies[code]["responses"] += total
        tallies[code]["needing"] += needing
    alerts = (
        Alert.objects.filter(response__in=responses)
        .order_by()
        .values_list("response__unit__code", "kind", "category")
        .annotate(n=Count("id"))
    )
    for code, kind, category, n in alerts:
        tallies[code]["alerts"].append([kind, category, n])
    cases = cases_of(responses)
    # One narrow row per case gives both the counts and the instants: grouping in the database as well
    # would read the same cases twice.
    case_counts: dict[str, dict[tuple[str, str | None, str], list[int]]] = defaultdict(lambda: defaultdict(_no_counts))
    times: dict[str, dict[tuple[str, str | None, str], list[int]]] = defaultdict(lambda: defaultdict(list))
    case_rows = cases.values_list(
        "response__unit__code",
        "unit__code",
        "owner__key",
        "opened_at",
        "due_at",
        "contacted_at",
        "closed_at",
        "resolution",
        "root_cause",
    )
    for code, unit, owner, opened_at, due_at, contacted_at, closed_at, resolution, root_cause in case_rows:
        # Closed cases are grouped by their root cause too (open ones under "").
        group = case_counts[code][(unit, owner, root_cause if closed_at is not None else "")]
        group[0] += 1
        if closed_at is not None:
            group[1] += 1
            group[2] += resolution == Case.Resolution.RESOLVED
            if due_at is not None:
                group[3] += 1
                group[4] += closed_at <= due_at
        if contacted_at is not None:
            times[code][(unit, owner, "delays")].append(contact_delay(opened_at, contacted_at))
        else:
            times[code][(unit, owner, "waiting")].append(microseconds(opened_at))
        if closed_at is None and due_at is not None:
            times[code][(unit, None, "open_due")].append(microseconds(due_at))
    for code, by_group in case_counts.items():
        for (case_unit, case_owner, cause), values in by_group.items():
            tallies[code]["cases"].append([case_unit, case_owner, cause, *values])
    for code, lists in times.items():
        for (case_unit, case_owner, name), values in lists.items():
            tallies[code][name].append([case_unit, case_owner, sorted(values)])
    answered: dict[str, Counter[tuple[str, bool]]] = defaultdict(Counter)
    for answer, unit, code in case_answers(cases).values():
        if answer is not None:
            answered[code][(unit, answer)] += 1
    for code, counts in answered.items():
        units = sorted({unit for unit, _ in counts})
        tallies[code]["answers"] = [
            [unit, counts[(unit, True)] + counts[(unit, False)], counts[(unit, True)]] for unit in units
        ]
    return dict(tallies)


def _no_counts() -> list[int]:
    return [0, 0, 0, 0, 0]  # cases, closed, resolved, closed with a due time, closed by it


def _empty() -> dict[str, Any]:
    return {
        "responses": 0,
        "needing": 0,
        "alerts": [],  # [kind, category, n]
        "cases": [],  # [case unit, owner, root cause, n, closed, resolved, closed with a due time, goal met]
        "delays": [],  # [case unit, owner, [microseconds to first contact, ...]]
        "waiting": [],  # [case unit, owner, [opened at of each case not contacted, ...]]
        "open_due": [],  # [case unit, None, [due at of each open case, ...]]
        "answers": [],  # [case unit, follow-ups answered, answered yes]
    }


# --- adding tallies up into the report


@dataclass
class TallySums:
    """Tallies added up: per response unit what UnitActivity holds, per case unit what CaseTally holds, per
    (case unit, owner) what ContactTally holds. Lists are extended, never copied, however many are added."""

    responses: Counter[str] = field(default_factory=Counter)
    needing: Counter[str] = field(default_factory=Counter)
    alerts: dict[str, Counter[tuple[str, str]]] = field(default_factory=lambda: defaultdict(Counter))
    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    root_causes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    open_due: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    contact_cases: Counter[tuple[str, str | None]] = field(default_factory=Counter)
    delays: dict[tuple[str, str | None], list[int]] = field(default_factory=lambda: defaultdict(list))
    waiting: dict[tuple[str, str | None], list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, code: str, tally: Mapping[str, Any]) -> None:
        self.responses[code] += tally["responses"]
        self.needing[code] += tally["needing"]
        for kind, category, n in tally["alerts"]:
            self.alerts[code][(kind, category)] += n
        for unit, owner, root_cause, n, closed, resolved, closed_with_due, goal_met in tally["cases"]:
            self.counts[unit].update(
                {
                    "n": n,
                    "closed": closed,
                    "resolved": resolved,
                    "closed_with_due": closed_with_due,
                    "goal_met": goal_met,
                }
            )
            if root_cause:
                self.root_causes[unit][root_cause] += closed
            self.contact_cases[(unit, owner)] += n
        for unit, owner, values in tally["delays"]:
            self.delays[(unit, owner)].extend(values)
        for unit, owner, values in tally["waiting"]:
            self.waiting[(unit, owner)].extend(values)
        for unit, _, values in tally["open_due"]:
            self.open_due[unit].extend(values)
        for unit, answered, recovered in tally["answers"]:
            self.counts[unit].update({"answered": answered, "recovered": recovered})

    def activity(self, kind: str) -> list[UnitActivity]:
        """Response counts per unit; `alert_categories` are those of the alerts of `kind`."""
        result = []
        for code in sorted(self.responses.keys() | self.alerts.keys()):
            alerts = self.alerts.get(code, Counter())

            def categories(of: str, alerts: Counter[tuple[str, str]] = alerts) -> tuple[str, ...]:
                return tuple(category for (k, category), n in sorted(alerts.items()) if k == of for _ in range(n))

            praise = categories("praise")
            result.append(
                UnitActivity(
                    unit=code,
                    responses=self.responses[code],
                    needing_recovery=self.needing[code],
                    alert_categories=categories(kind),
                    praise_count=len(praise),
                    praise_categories=praise,
                    watch_categories=categories("watch"),
                )
            )
        return result

    def contact(self, key: tuple[str, str | None], now_us: int) -> ContactTally:
        waiting = sorted(self.waiting.get(key, ()))
        return ContactTally(
            cases=self.contact_cases[key],
            delays=tuple(self.delays.get(key, ())),
            waited={hours: bisect_right(waiting, now_us - hours * MICROSECONDS_PER_HOUR) for hours in CONTACT_WINDOWS},
        )

    def case_tallies(self, now: datetime) -> tuple[dict[str, CaseTally], dict[str, ContactTally]]:
        """Case tallies per case unit, contact tallies per responsible person (the owner, else the unit's
        lead, as the directory says now)."""
        now_us = microseconds(now)
        tree = directory().tree
        contacts: dict[str, list[ContactTally]] = defaultdict(list)
        by_person: dict[str, list[ContactTally]] = defaultdict(list)
        for key in self.contact_cases.keys() | self.delays.keys() | self.waiting.keys():
            contact = self.contact(key, now_us)
            unit, owner = key
            contacts[unit].append(contact)
            person = responsible(tree, unit, owner)
            if person:
                by_person[person].append(contact)
        by_unit = {}
        for unit in self.counts.keys() | contacts.keys():
            counts = self.counts.get(unit, Counter())
            by_unit[unit] = CaseTally(
                contact=_joined(contacts.get(unit, [])),
                closed=counts["closed"],
                resolved=counts["resolved"],
                # An open case counts against its goal once due; a closed one with a due time always does.
                goal_judged=counts["closed_with_due"] + sum(1 for due in self.open_due.get(unit, ()) if due <= now_us),
                goal_met=counts["goal_met"],
                answered=counts["answered"],
                recovered=counts["recovered"],
                root_causes=dict(self.root_causes.get(unit, {})),
            )
        return by_unit, {person: _joined(tallies) for person, tallies in by_person.items()}


def responsible(tree: Any, unit_code: str, owner_key: str | None) -> str | None:
    """Who answers for a case: its owner, else its unit's lead."""
    return owner_key if owner_key is not None else next(iter(tree.leads_of(unit_code)), None)


def _joined(tallies: list[ContactTally]) -> ContactTally:
    """Contact tallies added up in one pass (ContactTally's `+` copies the delays each time)."""
    delays: list[int] = []
    for tally in tallies:
        delays.extend(tally.delays)
    return ContactTally(
        cases=sum(tally.cases for tally in tallies),
        delays=tuple(delays),
        waited={hours: sum(tally.waited.get(hours, 0) for tally in tallies) for hours in CONTACT_WINDOWS},
    )


def summary_of(tallies: Iterable[tuple[str, Mapping[str, Any]]], now: datetime, kind: str = "recovery") -> LoopSummary:
    """The loop summary of (response unit code, tally) pairs, read at `now`."""
    sums = sum_tallies(tallies)
    by_unit, by_person = sums.case_tallies(now)
    return loop_summary_from_tallies(sums.activity(kind), by_unit, by_person)


def sum_tallies(tallies: Iterable[tuple[str, Mapping[str, Any]]]) -> TallySums:
    """(response unit code, tally) pairs added up, to be read at any instant (`TallySums.case_tallies`)."""
    sums = TallySums()
    for code, tally in tallies:
        sums.add(code, tally)
    return sums


# --- reading a report's tallies: stored where clean, counted where not


def report_tallies(
    date_from: date, date_to: date, unit: Unit | None = None, *, units: QuerySet[Unit] | None = None
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The (response unit code, tally) pairs of the report's selection (reports.selection.selected_responses):
    stored tallies of its clean days, and the other days' responses counted from the cases."""
    zone = current_organization().time_zone
    for first, last, clean in day_runs(date_from, date_to, zone):
        if clean:
            stored = stored_tallies(first, last, unit, units=units)
            yield from stored.values_list("unit__code", "data").iterator(chunk_size=500)
        else:
            yield from count_tallies(selected_responses(first, last, unit, units=units)).items()


def stored_tallies(
    first: date, last: date, unit: Unit | None = None, *, units: QuerySet[Unit] | None = None
) -> QuerySet[UnitDayTally]:
    """The stored rows of the days `first`..`last`, for a unit's subtree and what a viewer may see, as
    reports.selection.selected_responses selects the responses."""
    stored = UnitDayTally.objects.filter(day__gte=first, day__lte=last)
    if unit is not None:
        stored = stored.filter(unit__path__startswith=unit.path)
    if units is not None:
        stored = stored.filter(unit__in=units)
    return stored


def day_runs(date_from: date, date_to: date, time_zone: str) -> list[tuple[date, date, bool]]:
    """`date_from`..`date_to` cut into runs of consecutive days, each clean (stored tallies are right) or
    not: (first day, last day, clean)."""
    built = set(
        TallyDay.objects.filter(day__gte=date_from, day__lte=date_to, basis=basis()).values_list("day", flat=True)
    )
    first_hour, last_hour = day_hours(date_from, date_to, time_zone)
    changed_hours = (
        TallyChange.objects.filter(hour__gte=first_hour, hour__lte=last_hour)
        .order_by()
        .values_list("hour", flat=True)
        .distinct()
    )
    changed = {day for hour in changed_hours for day in hour_days(hour, time_zone)}
    runs: list[tuple[date, date, bool]] = []
    day = date_from
    while day <= date_to:
        clean = day in built and day not in changed
        if runs and runs[-1][2] == clean and runs[-1][1] == day - timedelta(days=1):
            runs[-1] = (runs[-1][0], day, clean)
        else:
            runs.append((day, day, clean))
        day += timedelta(days=1)
    return runs


# --- building: the worker step


def refresh_tallies(now: datetime) -> int:
    """The `tallies` worker step: build the tallies of days changed since they were built (or built on
    another basis) for up to STEP_SECONDS; returns how many days it built. Having found nothing to build,
    it does not look again for CHECK_EVERY: the worker runs its steps on every wake, dozens of times a
    second under load, and the look is a few queries."""
    global _idle_since
    if _idle_since is not None and _idle_since <= now < _idle_since + CHECK_EVERY:
        return 0
    deadline = time.monotonic() + STEP_SECONDS
    built = 0
    while time.monotonic() < deadline:
        done = build_next_days(now)
        if not done:
            _idle_since = now
            break
        built += done
    else:
        _idle_since = None  # out of time with more to build: go on at the next round
    return built


def hours_to_build() -> int:
    """How many hours of responses wait for their days to be built again (the worker's backlog here)."""
    return TallyChange.objects.order_by().values("hour").distinct().count()


def forget_idle() -> None:
    """Look for days to build at the next call, whatever the last one found (tests that move the clock)."""
    global _idle_since
    _idle_since = None


def build_next_days(now: datetime) -> int:
    """Build the next days that need it in one transaction; returns how many (0: none needs it, or another
    worker is building). The days are those of the earliest changed hour (two where it overlaps two local
    days) of a day not built in the last REBUILD_AFTER, else the earliest day built on another basis."""
    zone = current_organization().time_zone
    current = basis()
    # Looked for first without a transaction: the worker runs this step on every wake, and on SQLite a
    # transaction takes the write lock that the posts being answered need.
    if not _days_to_build(now, zone, current)[0]:
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_ADVISORY_LOCK])
                if not cursor.fetchone()[0]:
                    return 0
        days, by_change = _days_to_build(now, zone, current)
        if not days:
            return 0  # another worker built them in the meantime
        changes: list[tuple[int, int]] = []
        if by_change:
            low, high = day_hours(min(days), max(days), zone)
            changes = list(TallyChange.objects.filter(hour__gte=low, hour__lte=high).values_list("id", "hour"))
        build_days(days, now, current)
        # A change row is done with once every day its hour overlaps is built.
        consumed = [change_id for change_id, hour in changes if hour_days(hour, zone) <= days]
        for start in range(0, len(consumed), _DELETE_CHUNK):
            TallyChange.objects.filter(id__in=consumed[start : start + _DELETE_CHUNK]).delete()
        return len(days)


def _days_to_build(now: datetime, zone: str, current: str) -> tuple[set[date], bool]:
    """The days to build next, and whether a change chose them (else a basis they were not built on)."""
    waiting = TallyChange.objects.all()
    recent = TallyDay.objects.filter(basis=current, built_at__gt=now - REBUILD_AFTER).values_list("day", flat=True)
    for day in recent:
        low, high = day_hours(day, day, zone)
        waiting = waiting.exclude(hour__gte=low, hour__lte=high)
    first_hour = waiting.order_by("hour").values_list("hour", flat=True).first()
    if first_hour is not None:
        return hour_days(first_hour, zone), True
    return set(TallyDay.objects.exclude(basis=current).order_by("day").values_list("day", flat=True)[:1]), False


def build_days(days: Iterable[date], now: datetime, on_basis: str) -> None:
    """Count and store the tallies of `days`, replacing what was stored for them (in the caller's
    transaction)."""
    days = sorted(days)
    codes = dict(Unit.objects.values_list("code", "id"))
    rows = [
        UnitDayTally(day=day, unit_id=codes[code], needing=tally["needing"], data=tally)
        for day in days
        for code, tally in count_tallies(selected_responses(day, day)).items()
    ]
    UnitDayTally.objects.filter(day__in=days).delete()
    UnitDayTally.objects.bulk_create(rows)
    TallyDay.objects.filter(day__in=days).delete()
    TallyDay.objects.bulk_create([TallyDay(day=day, basis=on_basis, built_at=now) for day in days])
