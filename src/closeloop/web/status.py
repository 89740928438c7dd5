"""How a case's urgency is shown: a colour, a text label and an icon shape, never colour alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from closeloop.cases.models import Case

# An open case due within this time is "due soon": the one to call next after the overdue ones.
DUE_SOON = timedelta(hours=24)


@dataclass(frozen=True)
class Standing:
    key: str
    label: str
    icon: str


OVERDUE = Standing("overdue", "Overdue", "i-overdue")
DUE_SOON_STANDING = Standing("due-soon", "Due soon", "i-clock")
ON_TRACK = Standing("on-track", "On track", "i-circle")
CLOSED_RESOLVED = Standing("closed", "Closed: resolved", "i-check")
CLOSED_UNRESOLVED = Standing("unresolved", "Closed: unresolved", "i-cross")


def standing(case: Case, now: datetime) -> Standing:
    if case.state == Case.State.CLOSED:
        return CLOSED_UNRESOLVED if case.resolution == Case.Resolution.UNRESOLVED else CLOSED_RESOLVED
    if case.due_at <= now:
        return OVERDUE
    if case.due_at - now <= DUE_SOON:
        return DUE_SOON_STANDING
    return ON_TRACK
