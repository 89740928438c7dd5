"""Which escalation steps of a case are due, and when the next one could be.

A case copies its policy's steps when it opens; the worker asks `due_steps` at a given instant and stores
`next_due_at` in an indexed column, so it only ever looks at cases that have something to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from closeloop.core.sla import BusinessCalendar, add_working_time, require_aware

StepCondition = Literal["not_viewed", "not_contacted", "overdue", "closed_unresolved"]
STEP_CONDITIONS: tuple[str, ...] = get_args(StepCondition)
# These two measure a delay from the case's opening; the other two fire at an instant the case itself has.
_NEEDS_AFTER = frozenset({"not_viewed", "not_contacted"})


@dataclass(frozen=True)
class Step:
    """One step of an escalation policy; `index` identifies it within the policy, `notify` is opaque here."""

    index: int
    when: StepCondition
    after: timedelta | None = None
    notify: tuple[object, ...] = ()

    def __post_init__(self) -> None:
        if self.when not in STEP_CONDITIONS:
            raise ValueError(f"unknown escalation condition {self.when!r}; use one of {', '.join(STEP_CONDITIONS)}")
        if self.when in _NEEDS_AFTER:
            if self.after is None:
                raise ValueError(f"a {self.when} step needs `after`")
            if self.after < timedelta(0):
                raise ValueError(f"`after` must not be negative, got {self.after}")
        elif self.after is not None:
            raise ValueError(f"a {self.when} step fires at its own instant and takes no `after`")


@dataclass(frozen=True)
class CaseClock:
    """The instants of a case that escalation depends on, and the indexes of steps that already fired.

    `calendar`: the case's business calendar; with one, a step's `after` counts working time only.
    `satisfied_at`: when a resubmission showed the customer no longer needs recovery; like closing, it
    stops every step still pending (except `closed_unresolved`, which only closing can cause).
    """

    opened_at: datetime
    due_at: datetime | None = None
    viewed_at: datetime | None = None
    contacted_at: datetime | None = None
    closed_at: datetime | None = None
    resolution: str | None = None
    fired: frozenset[int] = frozenset()
    calendar: BusinessCalendar | None = None
    satisfied_at: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("opened_at", "due_at", "viewed_at", "contacted_at", "closed_at", "satisfied_at"):
            value = getattr(self, name)
            if value is not None:
                require_aware(value, name)


def fires_at(step: Step, clock: CaseClock) -> datetime | None:
    """The instant (UTC) `step` fires for this case as far as it is known now, or None when it never will.

    Whether it already fired is not considered here. Acting exactly at a deadline counts as in time.
    """
    closed_at = _utc(clock.closed_at)
    if step.when == "closed_unresolved":
        return step_deadline(step, clock)
    deadline = step_deadline(step, clock)
    if deadline is None:
        return None
    acted_at = None
    if step.when != "overdue":
        acted_at = _utc(clock.viewed_at if step.when == "not_viewed" else clock.contacted_at)
    if acted_at is not None and acted_at <= deadline:
        return None
    if closed_at is not None and closed_at <= deadline:
        return None
    satisfied_at = _utc(clock.satisfied_at)
    if satisfied_at is not None and satisfied_at <= deadline:
        return None
    return deadline


def step_deadline(step: Step, clock: CaseClock) -> datetime | None:
    """The instant (UTC) by which the responsible people had to act for `step` not to fire: the closure
    deadline for `overdue`, `after` past the opening for the delayed steps (working time when the case has a
    calendar), the closing for `closed_unresolved` (None while the case is not closed as unresolved)."""
    if step.when == "closed_unresolved":
        return _utc(clock.closed_at) if clock.resolution == "unresolved" else None
    if step.when == "overdue":
        return _utc(clock.due_at)
    # Added in UTC: adding hours to a local time would count wall-clock hours across a DST change.
    return add_working_time(clock.opened_at.astimezone(UTC), step.after or timedelta(0), clock.calendar).astimezone(UTC)


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def due_steps(steps: Sequence[Step], clock: CaseClock, now: datetime) -> list[Step]:
    """Steps that have not fired yet and whose instant has come, in the order they became due."""
    require_aware(now, "now")
    due = []
    for step in steps:
        if step.index in clock.fired:
            continue
        instant = fires_at(step, clock)
        if instant is not None and instant <= now:
            due.append((instant, step.index, step))
    return [step for _, _, step in sorted(due, key=lambda item: (item[0], item[1]))]


def next_due_at(steps: Sequence[Step], clock: CaseClock) -> datetime | None:
    """The earliest instant a pending step fires (possibly already past), in UTC; None when none ever will.

    Viewing, contacting or closing the case changes the answer, so it is recomputed after each of them.
    """
    instants = [
        instant for step in steps if step.index not in clock.fired and (instant := fires_at(step, clock)) is not None
    ]
    return min(instants, default=None)
