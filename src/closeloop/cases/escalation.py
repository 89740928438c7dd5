"""The escalation step of the worker: fire the due steps of cases whose `next_escalation_at` has come.

Which steps are due is decided by closeloop.core.escalation; this module loads the cases, notifies the
step's selectors through the outbox, writes the `escalated` event and stores the next instant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from closeloop.cases.escalation_messages import EscalationFacts, escalation_email, escalation_facts, escalation_sms
from closeloop.cases.models import Case, CaseEvent, EscalationNotice
from closeloop.cases.templates import business_calendar, steps_from_snapshot
from closeloop.cases.webhooks import publish_case_event
from closeloop.core.escalation import CaseClock, Step, due_steps, next_due_at
from closeloop.core.routing import OrgTree, Recipient, channels_for, resolve
from closeloop.notify.models import Delivery
from closeloop.notify.outbox import enqueue_all, planned
from closeloop.org.directory import directory
from closeloop.org.models import Person

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
        # The case's calendar makes `after` count working time, as its closure goal does.
        calendar=business_calendar(case.calendar, case.unit) if case.calendar else None,
        satisfied_at=case.satisfied_at,
    )


def refresh_next_escalation(case: Case) -> None:
    """Store when the next pending step fires; viewing, contacting, closing and firing all change it."""
    case.next_escalation_at = next_due_at(steps_from_snapshot(case.escalation_steps), case_clock(case))


def step_level(step: Step) -> int:
    """The highest level a step reaches: `{level: N}` is N units up; the unit's own leads are level 0."""
    levels = [int(s["level"]) for s in step.notify if isinstance(s, Mapping) and "level" in s]
    return max(levels, default=0)


def recipient_level(recipient: Recipient) -> int | None:
    """The level of the selector that chose this person: `{level: N}` is N, the unit's own people 0, and a
    person named by `{person: ID}` has no level of their own (None)."""
    if recipient.because.startswith("level "):
        return int(recipient.because.removeprefix("level "))
    return None if recipient.because == "person" else 0


def _messages(
    case: Case,
    step: Step,
    facts: EscalationFacts,
    chosen: Sequence[Recipient],
    people: Mapping[str, Person],
    now: datetime,
) -> tuple[list[Delivery], list[str]]:
    """Each recipient's own email (with their level) and, for a high or urgent case, their SMS when they have a
    phone, as alerts do; returns the deliveries and the keys of the people an email will reach."""
    channels = channels_for(case.severity, None)
    deliveries, reached = [], []
    for recipient in chosen:
        person = people.get(recipient.person)
        if person is None:
            continue
        mine = facts.for_level(recipient_level(recipient))
        common: dict[str, Any] = {"now": now, "topic": "escalation", "ref": f"case:{case.pk}", "person": person}
        key = f"case:{case.pk}:step:{step.index}:{person.key}"
        message = escalation_email(mine)
        if person.email:
            deliveries.append(
                planned(
                    channel="email",
                    address=person.email,
                    subject=message.subject,
                    text=message.text,
                    idempotency_key=f"{key}:email",
                    **common,
                )
            )
            reached.append(person.key)
        else:
            deliveries.append(
                planned(
                    channel="email",
                    subject=message.subject,
                    text=message.text,
                    idempotency_key=f"{key}:email",
                    skipped_because=f"no email address for {person.name}",
                    **common,
                )
            )
        if "sms" in channels and person.phone:
            deliveries.append(
                planned(
                    channel="sms",
                    address=person.phone,
                    subject=message.subject,
                    text=escalation_sms(mine),
                    idempotency_key=f"{key}:sms",
                    **common,
                )
            )
    return deliveries, reached


def escalate_case(case: Case, now: datetime, tree: OrgTree | None = None) -> list[CaseEvent]:
    """Fire every step of `case` that is due at `now`; the caller holds the case's row lock.

    Saves the case (level, fired steps, next instant) and returns the `escalated` events written.
    """
    steps = steps_from_snapshot(case.escalation_steps)
    clock = case_clock(case)
    due = due_steps(steps, clock, now)
    events = []
    if due:
        tree = tree or directory().tree
        fired = list(case.fired_steps or ())
        for step in due:
            chosen = resolve(list(step.notify), unit=case.unit.code, agent=None, tree=tree)
            people = directory().people_by_key({r.person for r in chosen})
            level = step_level(step)
            deliveries, reached = _messages(case, step, escalation_facts(case, step, clock, now), chosen, people, now)
            enqueue_all(deliveries)
            EscalationNotice.objects.bulk_create(
                [
                    EscalationNotice(
                        case=case,
                        person=people[r.person],
                        step=step.index,
                        when=step.when,
                        level=recipient_level(r),
                        at=now,
                    )
                    for r in chosen
                    if r.person in people
                ],
                ignore_conflicts=True,
            )
            fired.append(step.index)
            case.fired_steps = fired
            case.escalation_level = max(case.escalation_level, level)
            event = CaseEvent.objects.create(
                case=case,
                at=now,
                type=CaseEvent.Type.ESCALATED,
                data={
                    "step": step.index,
                    "when": step.when,
                    "after": int(step.after.total_seconds()) if step.after is not None else None,
                    "level": level,
                    "recipients": reached,
                    "selected": [
                        {"person": r.person, "because": r.because, "level": recipient_level(r)} for r in chosen
                    ],
                },
            )
            events.append(event)
            publish_case_event(case, event, now=now)
    refresh_next_escalation(case)
    case.save(update_fields=["fired_steps", "escalation_level", "next_escalation_at"])
    return events


def _lock(case_id: int, now: datetime) -> Case | None:
    """The case, locked, if it is still due; None when another worker holds it or already did the work."""
    cases = Case.objects.select_related("unit", "owner", "response__customer", "response__survey").filter(
        pk=case_id, next_escalation_at__lte=now
    )
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
