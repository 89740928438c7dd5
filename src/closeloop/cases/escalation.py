"""The escalation step of the worker: fire the due steps of cases whose `next_escalation_at` has come.

Which steps are due is decided by closeloop.core.escalation; this module loads the cases, notifies the
step's selectors through the outbox, writes the `escalated` event and stores the next instant.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import connection, transaction

from closeloop.cases.models import Case, CaseEvent
from closeloop.cases.notifications import escalation_email, send_emails
from closeloop.cases.templates import steps_from_snapshot
from closeloop.core.escalation import CaseClock, Step, due_steps, next_due_at
from closeloop.core.routing import OrgTree, resolve
from closeloop.org.directory import directory

# Cases handled per call; the worker calls again while a call reports work.
BATCH = 100


def case_clock(case: Case) -> CaseClock:
    return CaseClock(
        opened_at=case.opened_at,
        due_at=case.due_at,
        viewed_at=case.viewed_at,
        contacted_at=case.contacted_at,
        closed_at=case.closed_at,
        resolution=case.resolution,
        fired=frozenset(case.fired_steps or ()),
    )


def refresh_next_escalation(case: Case) -> None:
    """Store when the next pending step fires; viewing, contacting, closing and firing all change it."""
    case.next_escalation_at = next_due_at(steps_from_snapshot(case.escalation_steps), case_clock(case))


def step_level(step: Step) -> int:
    """The highest level a step reaches: `{level: N}` is N units up; the unit's own leads are level 0."""
    levels = [int(s["level"]) for s in step.notify if isinstance(s, Mapping) and "level" in s]
    return max(levels, default=0)


def escalate_case(case: Case, now: datetime, tree: OrgTree | None = None) -> list[CaseEvent]:
    """Fire every step of `case` that is due at `now`; the caller holds the case's row lock.

    Saves the case (level, fired steps, next instant) and returns the `escalated` events written.
    """
    steps = steps_from_snapshot(case.escalation_steps)
    due = due_steps(steps, case_clock(case), now)
    events = []
    if due:
        tree = tree or directory().tree
        fired = list(case.fired_steps or ())
        for step in due:
            chosen = resolve(list(step.notify), unit=case.unit.code, agent=None, tree=tree)
            people = directory().people_by_key({r.person for r in chosen})
            recipients = [people[r.person] for r in chosen if r.person in people]
            level = step_level(step)
            subject, text = escalation_email(case, when=step.when, level=level)
            reached = send_emails(
                case,
                recipients,
                subject=subject,
                text=text,
                key=f"case:{case.pk}:step:{step.index}",
                now=now,
                topic="escalation",
            )
            fired.append(step.index)
            case.fired_steps = fired
            case.escalation_level = max(case.escalation_level, level)
            events.append(
                CaseEvent.objects.create(
                    case=case,
                    at=now,
                    type=CaseEvent.Type.ESCALATED,
                    data={
                        "step": step.index,
                        "when": step.when,
                        "after": int(step.after.total_seconds()) if step.after is not None else None,
                        "level": level,
                        "recipients": reached,
                        "selected": [{"person": r.person, "because": r.because} for r in chosen],
                    },
                )
            )
    refresh_next_escalation(case)
    case.save(update_fields=["fired_steps", "escalation_level", "next_escalation_at"])
    return events


def _lock(case_id: int, now: datetime) -> Case | None:
    """The case, locked, if it is still due; None when another worker holds it or already did the work."""
    cases = Case.objects.select_related("unit").filter(pk=case_id, next_escalation_at__lte=now)
    if connection.vendor == "postgresql":
        # Another worker escalating this case right now: skip it rather than wait and fire twice.
        cases = cases.select_for_update(skip_locked=True, of=("self",))
    return cases.first()


def escalate_due(now: datetime) -> int:
    """The worker step: handle one batch of cases whose next escalation is due; returns how many."""
    due_ids = list(
        Case.objects.filter(next_escalation_at__lte=now)
        .order_by("next_escalation_at", "id")
        .values_list("id", flat=True)[:BATCH]
    )
    if not due_ids:
        return 0
    tree = directory().tree
    handled = 0
    for case_id in due_ids:
        # One transaction per case: a failure on one case does not undo the escalations of the others.
        with transaction.atomic():
            case = _lock(case_id, now)
            if case is None:
                continue
            escalate_case(case, now, tree)
            handled += 1
    return handled
