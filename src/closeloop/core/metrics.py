"""Loop metrics: how well unhappy customers are contacted, helped and kept, overall and per unit.

Facts come in as plain dataclasses (the reports layer queries them), numbers come out. Percentages and
hours are rounded half-up to one decimal; a figure whose denominator is empty is None, never 0, so a
report can tell "nobody was contacted" from "there was nobody to contact".
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from closeloop.core.sla import require_aware

RECOVERED = "recovered"
NOT_RECOVERED = "not_recovered"
NEVER_CONTACTED = "never_contacted"
RETENTION_GROUPS = (RECOVERED, NOT_RECOVERED, NEVER_CONTACTED)

# The one meaning of "recovered" in every report, said in words where the figures are shown.
RECOVERED_DEFINITION = (
    "Recovered: the customer answered yes to the follow-up survey's question whether we resolved their "
    "concern. The recovered percentage is of the customers who answered; a follow-up not answered says nothing "
    "either way."
)
# Time to first contact is read against these windows, in hours: the first hour, the first day, two days.
CONTACT_WINDOWS: tuple[int, ...] = (1, 24, 48)

_ONE_DECIMAL = Decimal("0.1")
_MICROSECONDS_PER_HOUR = Decimal(3_600_000_000)
# Instants and delays kept as integers (contact delays, reports.tallies) count hours in these.
MICROSECONDS_PER_HOUR = 3_600_000_000
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class CaseFacts:
    """What the metrics need to know about one case; `followup_answer` None means not asked or no answer."""

    unit: str
    category: str
    opened_at: datetime
    due_at: datetime | None = None
    first_contact_at: datetime | None = None
    closed_at: datetime | None = None
    resolution: str | None = None
    followup_answer: bool | None = None
    followup_asked: bool = False
    status_times: Mapping[str, datetime] = field(default_factory=dict)
    root_cause: str | None = None
    # Who answers for the case: its owner, else its unit's lead (a person's key).
    responsible: str | None = None

    def __post_init__(self) -> None:
        for name in ("opened_at", "due_at", "first_contact_at", "closed_at"):
            value = getattr(self, name)
            if value is not None:
                require_aware(value, name)
        for status, value in self.status_times.items():
            require_aware(value, f"status_times[{status!r}]")


@dataclass(frozen=True)
class UnitActivity:
    """Response counts of one unit: all valid responses, those needing recovery, one category per action
    alert (recovery alerts, unless the report asks for another kind), the praise alerts and one category per
    watch alert, which are reported apart so that they do not dilute the shares of what needs action."""

    unit: str
    responses: int
    needing_recovery: int
    # One category per recovery alert: the "% of alerts by category" is about customers to win back.
    alert_categories: Sequence[str] = ()
    praise_count: int = 0
    praise_categories: Sequence[str] = ()
    watch_categories: Sequence[str] = ()

    def __post_init__(self) -> None:
        if self.responses < 0 or self.needing_recovery < 0 or self.praise_count < 0:
            raise ValueError(f"counts of unit {self.unit!r} must not be negative")


@dataclass(frozen=True)
class CategoryShare:
    category: str
    count: int
    percent: float | None


@dataclass(frozen=True)
class ContactTimes:
    """How soon unhappy customers were first spoken to.

    `within_hours` maps each window of CONTACT_WINDOWS to the percentage of cases contacted within it, of
    the cases already judged for that window: contacted, or open (or closed) longer than it by `now`.
    A case opened half an hour ago and not yet called does not count against the first hour yet.
    """

    cases: int
    contacted: int
    within_hours: Mapping[int, float | None]
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class PersonContact:
    """The time to first contact of the cases one person answers for."""

    person: str
    contact: ContactTimes


@dataclass(frozen=True)
class LoopSummary:
    """The contract's report summary; `unit` is None for the whole selection, which lists its units."""

    unit: str | None
    responses: int
    needing_recovery: int
    alerts_by_category: tuple[CategoryShare, ...]
    cases: int
    contacted_percent: float | None
    median_hours_to_contact: float | None
    p90_hours_to_contact: float | None
    closed_within_goal_percent: float | None
    resolved_percent: float | None
    recovered_percent: float | None
    praise_count: int = 0
    watch_by_category: tuple[CategoryShare, ...] = ()
    by_unit: tuple[LoopSummary, ...] = ()
    praise_by_category: tuple[CategoryShare, ...] = ()
    # Closed cases by the root cause given when closing, of those closed with one.
    root_causes: tuple[CategoryShare, ...] = ()
    contact: ContactTimes | None = None
    by_person: tuple[PersonContact, ...] = ()


@dataclass(frozen=True)
class ContactTally:
    """What the time-to-first-contact figures need from a group of cases; tallies of groups add up.

    `delays` holds the microseconds from opening to first contact of each contacted case (`contact_delay`):
    integers, so that a report over many thousand cases sorts and counts them cheaply;
    `waited` maps each window of CONTACT_WINDOWS to the cases not yet contacted that have been open at
    least that long by `now` (they count against the window; younger ones are not judged yet).
    A database can count `cases` and `waited` with GROUP BY and read only the two timestamps of the
    contacted cases; `contact_from_tally` turns either into the same figures.
    """

    cases: int = 0
    delays: tuple[int, ...] = ()
    waited: Mapping[int, int] = field(default_factory=dict)

    def __add__(self, other: ContactTally) -> ContactTally:
        return ContactTally(
            cases=self.cases + other.cases,
            delays=self.delays + other.delays,
            waited={hours: self.waited.get(hours, 0) + other.waited.get(hours, 0) for hours in CONTACT_WINDOWS},
        )


@dataclass(frozen=True)
class CaseTally:
    """Counts over a group of cases from which `summary_from_tally` derives the loop figures.

    `goal_judged`: cases whose closure goal is decided (closed, or due by `now`); `goal_met`: of those,
    closed by their due time. `answered`: cases whose customer answered the follow-up; `recovered`: of
    those, yes (`is_recovered`). `root_causes`: closed cases per root cause given.
    """

    contact: ContactTally = field(default_factory=ContactTally)
    closed: int = 0
    resolved: int = 0
    goal_judged: int = 0
    goal_met: int = 0
    answered: int = 0
    recovered: int = 0
    root_causes: Mapping[str, int] = field(default_factory=dict)

    def __add__(self, other: CaseTally) -> CaseTally:
        return CaseTally(
            contact=self.contact + other.contact,
            closed=self.closed + other.closed,
            resolved=self.resolved + other.resolved,
            goal_judged=self.goal_judged + other.goal_judged,
            goal_met=self.goal_met + other.goal_met,
            answered=self.answered + other.answered,
            recovered=self.recovered + other.recovered,
            root_causes=Counter(self.root_causes) + Counter(other.root_causes),
        )


def contact_delay(opened_at: datetime, first_contact_at: datetime) -> int:
    """Microseconds from a case's opening to its first contact. A note can predate the case when a replacing
    response took over an earlier case; that is no delay (0)."""
    return max((first_contact_at - opened_at) // _MICROSECOND, 0)


def contact_tally(cases: Sequence[CaseFacts], now: datetime) -> ContactTally:
    """The contact tally of `cases` (see ContactTally)."""
    require_aware(now, "now")
    delays = tuple(contact_delay(case.opened_at, case.first_contact_at) for case in cases if case.first_contact_at)
    waited = {
        hours: sum(
            1 for case in cases if case.first_contact_at is None and _hours(now - case.opened_at) >= Decimal(hours)
        )
        for hours in CONTACT_WINDOWS
    }
    return ContactTally(cases=len(cases), delays=delays, waited=waited)


def contact_from_tally(tally: ContactTally) -> ContactTimes:
    """The time-to-first-contact figures of a tally: within each window, of the cases judged for it."""
    ordered = sorted(tally.delays)
    within: dict[int, float | None] = {}
    for hours in CONTACT_WINDOWS:
        met = bisect_right(ordered, hours * MICROSECONDS_PER_HOUR)
        within[hours] = percent(met, len(ordered) + tally.waited.get(hours, 0))
    return ContactTimes(
        cases=tally.cases,
        contacted=len(ordered),
        within_hours=within,
        median_hours=_one_decimal(_sorted_quantile(ordered, 0.5)),
        p90_hours=_one_decimal(_sorted_quantile(ordered, 0.9)),
    )


def _sorted_quantile(ordered: Sequence[int], q: float) -> Decimal | None:
    """`quantile` in hours of microsecond delays already sorted: only the two ranks around it become Decimal."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * Decimal(str(q))
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    low = Decimal(ordered[below]) / _MICROSECONDS_PER_HOUR
    high = Decimal(ordered[above]) / _MICROSECONDS_PER_HOUR
    return low + (high - low) * (position - below)


def case_tally(cases: Sequence[CaseFacts], now: datetime) -> CaseTally:
    """The tally of `cases` (see CaseTally); `now` decides which open cases have already missed their goal."""
    closed = [case for case in cases if case.closed_at is not None]
    # An open case counts against the goal once its due time has passed; before that it is still undecided.
    judged = [case for case in cases if case.due_at is not None and (case.closed_at is not None or case.due_at <= now)]
    answered = [case for case in cases if case.followup_answer is not None]
    return CaseTally(
        contact=contact_tally(cases, now),
        closed=len(closed),
        resolved=sum(case.resolution == "resolved" for case in closed),
        goal_judged=len(judged),
        goal_met=sum(
            1
            for case in judged
            if case.closed_at is not None and case.due_at is not None and case.closed_at <= case.due_at
        ),
        answered=len(answered),
        recovered=sum(is_recovered(case) for case in answered),
        root_causes=Counter(case.root_cause for case in closed if case.root_cause),
    )


def summary_from_tally(unit: str | None, activity: Sequence[UnitActivity], tally: CaseTally) -> LoopSummary:
    """The loop summary of one group: response counts from `activity`, case figures from `tally`."""
    contact = contact_from_tally(tally.contact)
    return LoopSummary(
        unit=unit,
        responses=sum(counts.responses for counts in activity),
        needing_recovery=sum(counts.needing_recovery for counts in activity),
        alerts_by_category=_category_shares(category for counts in activity for category in counts.alert_categories),
        cases=tally.contact.cases,
        contacted_percent=percent(contact.contacted, tally.contact.cases),
        median_hours_to_contact=contact.median_hours,
        p90_hours_to_contact=contact.p90_hours,
        closed_within_goal_percent=percent(tally.goal_met, tally.goal_judged),
        resolved_percent=percent(tally.resolved, tally.closed),
        recovered_percent=percent(tally.recovered, tally.answered),
        praise_count=sum(counts.praise_count for counts in activity),
        praise_by_category=_category_shares(category for counts in activity for category in counts.praise_categories),
        watch_by_category=_category_shares(category for counts in activity for category in counts.watch_categories),
        root_causes=_shares(tally.root_causes),
        contact=contact,
    )


def loop_summary_from_tallies(
    activity: Sequence[UnitActivity], by_unit: Mapping[str, CaseTally], by_person: Mapping[str, ContactTally]
) -> LoopSummary:
    """The loop summary, overall and per unit (sorted by code), from case tallies per unit and contact tallies
    per responsible person: what `loop_summary` computes, for callers that count in the database."""
    activity_by_unit: dict[str, list[UnitActivity]] = defaultdict(list)
    for counts in activity:
        activity_by_unit[counts.unit].append(counts)
    units = sorted(activity_by_unit.keys() | by_unit.keys())
    overall = sum((by_unit[unit] for unit in sorted(by_unit)), CaseTally())
    return replace(
        summary_from_tally(None, activity, overall),
        by_unit=tuple(
            summary_from_tally(unit, activity_by_unit[unit], by_unit.get(unit, CaseTally())) for unit in units
        ),
        by_person=tuple(PersonContact(person, contact_from_tally(by_person[person])) for person in sorted(by_person)),
    )


def percent(part: int, whole: int) -> float | None:
    """`part` of `whole` in percent, one decimal rounded half-up; None when `whole` is 0."""
    if whole == 0:
        return None
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(_ONE_DECIMAL, ROUND_HALF_UP))


def quantile(values: Sequence[Decimal], q: float) -> Decimal | None:
    """The q-quantile with linear interpolation between the closest ranks (as spreadsheets' PERCENTILE.INC)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * Decimal(str(q))
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def loop_summary(activity: Sequence[UnitActivity], cases: Sequence[CaseFacts], now: datetime) -> LoopSummary:
    """Summarise the loop over all of `activity` and `cases`, and per unit (sorted by unit code).

    `now` decides which open cases have already missed their closure goal.
    """
    require_aware(now, "now")
    cases_by_unit: dict[str, list[CaseFacts]] = defaultdict(list)
    by_person: dict[str, list[CaseFacts]] = defaultdict(list)
    for case in cases:
        cases_by_unit[case.unit].append(case)
        if case.responsible:
            by_person[case.responsible].append(case)
    return loop_summary_from_tallies(
        activity,
        {unit: case_tally(unit_cases, now) for unit, unit_cases in cases_by_unit.items()},
        {person: contact_tally(person_cases, now) for person, person_cases in by_person.items()},
    )


def contact_by_person(cases: Sequence[CaseFacts], now: datetime) -> tuple[PersonContact, ...]:
    """Time to first contact per responsible person (sorted by key); cases nobody answers for are left out."""
    by_person: dict[str, list[CaseFacts]] = defaultdict(list)
    for case in cases:
        if case.responsible:
            by_person[case.responsible].append(case)
    return tuple(PersonContact(person, contact_times(by_person[person], now)) for person in sorted(by_person))


def contact_times(cases: Sequence[CaseFacts], now: datetime) -> ContactTimes:
    """The distribution of the time from a case's opening to the first note that spoke to the customer."""
    return contact_from_tally(contact_tally(cases, now))


def is_recovered(case: CaseFacts) -> bool:
    """The one definition of a recovered customer (RECOVERED_DEFINITION): they said so when asked afterwards."""
    return case.followup_answer is True


def _category_shares(categories: Iterable[str]) -> tuple[CategoryShare, ...]:
    return _shares(Counter(categories))


def _shares(counts: Mapping[str, int]) -> tuple[CategoryShare, ...]:
    total = sum(counts.values())
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(CategoryShare(category, count, percent(count, total)) for category, count in ordered)


def hours_between_statuses(cases: Iterable[CaseFacts], from_status: str, to_status: str) -> float | None:
    """Median hours from entering `from_status` to entering `to_status`, over cases that did both in order."""
    return hours_between_status_times((case.status_times for case in cases), from_status, to_status)


def hours_between_status_times(
    times: Iterable[Mapping[str, datetime]], from_status: str, to_status: str
) -> float | None:
    """`hours_between_statuses` over each case's first entry into each status (status -> when)."""
    durations = [
        _hours(entered[to_status] - entered[from_status])
        for entered in times
        if from_status in entered and to_status in entered and entered[to_status] >= entered[from_status]
    ]
    return _one_decimal(quantile(durations, 0.5))


def retention_group(case: CaseFacts) -> str:
    """Which retention group a case's customer belongs to: recovered as `is_recovered` says (the same
    definition as the loop report's), else contacted but not recovered, else never contacted."""
    if case.first_contact_at is None:
        return NEVER_CONTACTED
    return RECOVERED if is_recovered(case) else NOT_RECOVERED


def retention(customers: Iterable[tuple[str, bool]]) -> dict[str, float | None]:
    """Percent of customers retained per group; the three standard groups are always present."""
    totals: Counter[str] = Counter({group: 0 for group in RETENTION_GROUPS})
    retained: Counter[str] = Counter()
    for group, kept in customers:
        totals[group] += 1
        retained[group] += bool(kept)
    return {group: percent(retained[group], totals[group]) for group in totals}


def _hours(delta: timedelta) -> Decimal:
    return Decimal(delta // timedelta(microseconds=1)) / _MICROSECONDS_PER_HOUR


def _one_decimal(value: Decimal | None) -> float | None:
    return None if value is None else float(value.quantize(_ONE_DECIMAL, ROUND_HALF_UP))
