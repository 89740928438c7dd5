"""Emails about a case: to its team when something happens (per the template's `notify_on`), and escalations.

Everything goes through the outbox inside the caller's transaction, so a case change and the messages
about it are committed together; the worker sends them afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from closeloop.cases.models import Case, CaseEvent
from closeloop.notify.links import absolute_url
from closeloop.notify.models import Delivery
from closeloop.notify.outbox import enqueue_all, planned
from closeloop.notify.render import make_message
from closeloop.org.models import Person

# What each event type looks like in a subject line.
HEADLINES: dict[str, str] = {
    CaseEvent.Type.OPENED: "New case",
    CaseEvent.Type.STATUS: "Status changed",
    CaseEvent.Type.CLOSED: "Case closed",
    CaseEvent.Type.REOPENED: "Case reopened",
    CaseEvent.Type.NOTE: "New note",
    CaseEvent.Type.ASSIGNED: "Case assigned",
    CaseEvent.Type.MOVED: "Case moved",
    CaseEvent.Type.VIEWED: "Case viewed",
    CaseEvent.Type.SATISFIED: "Customer now satisfied",
    CaseEvent.Type.TEAM_CHANGED: "New team",
}


def case_link(case: Case) -> str:
    return absolute_url("case", case.pk)


def team_of(case: Case) -> list[Person]:
    """Managers, members and the owner, each once, active people only, in a stable order."""
    people: dict[int, Person] = {}
    for person in [*case.managers.all(), *case.members.all(), *([case.owner] if case.owner is not None else [])]:
        if person.active:
            people.setdefault(person.pk, person)
    return sorted(people.values(), key=lambda p: p.key)


def _describe(event: CaseEvent) -> str:
    data = event.data or {}
    if event.type == CaseEvent.Type.NOTE:
        spoke = "yes" if data.get("spoke_to_customer") else "no"
        return f"{event.byline or 'Someone'} wrote (spoke to the customer: {spoke}):\n{data.get('text', '')}"
    if event.type in (CaseEvent.Type.STATUS, CaseEvent.Type.REOPENED):
        return f"Status: {data.get('from')} -> {data.get('to')}"
    if event.type == CaseEvent.Type.CLOSED:
        return f"Closed as {data.get('resolution')} (status {data.get('to')})"
    if event.type == CaseEvent.Type.ASSIGNED:
        return f"Owner: {data.get('owner_name') or data.get('owner')}"
    if event.type == CaseEvent.Type.MOVED:
        return f"Moved from {data.get('from_unit')} to {data.get('to_unit')}"
    if event.type == CaseEvent.Type.SATISFIED:
        text = str(data.get("text") or "customer now satisfied")
        return (
            f"The customer answered again for this ticket: {text}. Pending escalations have stopped; "
            "a manager can close the case."
        )
    return ""


def planned_emails(
    case: Case, people: Sequence[Person], *, subject: str, text: str, key: str, now: datetime, topic: str = "case"
) -> tuple[list[Delivery], list[str]]:
    """One unsaved email per person (skipped, with the reason, for one without an address), and the keys of
    the people they will reach. `key` makes them idempotent: the same key and person never give a second."""
    deliveries, reached = [], []
    for person in people:
        common: dict[str, Any] = {
            "channel": "email",
            "subject": subject,
            "text": text,
            "idempotency_key": f"{key}:{person.key}:email",
        }
        # Messages about a case are as pressing as the case: they queue by its severity.
        common |= {"now": now, "topic": topic, "ref": f"case:{case.pk}", "person": person, "severity": case.severity}
        if person.email:
            deliveries.append(planned(address=person.email, **common))
            reached.append(person.key)
        else:
            deliveries.append(planned(skipped_because=f"no email address for {person.name}", **common))
    return deliveries, reached


def send_emails(
    case: Case, people: Sequence[Person], *, subject: str, text: str, key: str, now: datetime, topic: str = "case"
) -> list[str]:
    """One email per person through the outbox; returns the keys of the people it will reach."""
    deliveries, reached = planned_emails(case, people, subject=subject, text=text, key=key, now=now, topic=topic)
    enqueue_all(deliveries)
    return reached


def notify_team(
    case: Case, event: CaseEvent, *, actor: Person | None, now: datetime, team: Sequence[Person] | None = None
) -> CaseEvent | None:
    """Email the team about `event` when the template asks for it; the actor does not hear about their own act.

    `team` saves reading the team back when the caller has just chosen it (a case being opened).
    Returns the `notified` event naming the recipients, or None when nobody was to be told.
    """
    # Reopening is a change of status, so `status` in notify_on covers it too.
    wanted = {event.type, "status"} if event.type == CaseEvent.Type.REOPENED else {event.type}
    if not wanted & set(case.notify_on or ()):
        return None
    return tell_team(case, event, actor=actor, now=now, team=team)


def tell_team(
    case: Case, event: CaseEvent, *, now: datetime, actor: Person | None = None, team: Sequence[Person] | None = None
) -> CaseEvent | None:
    """Email the team about `event` whatever the template's `notify_on` says (news they must not miss, such
    as the customer being satisfied now); the actor is not told. Returns the `notified` event or None."""
    members = team_of(case) if team is None else sorted(team, key=lambda p: p.key)
    people = [person for person in members if actor is None or person.pk != actor.pk]
    if not people:
        return None
    (notified,) = tell_teams([(case, event, people)], now=now)
    return notified


def tell_teams(news: Sequence[tuple[Case, CaseEvent, Sequence[Person]]], *, now: datetime) -> list[CaseEvent]:
    """Email each case's people about its event: every message in one insert, every `notified` event in
    another (a batch of cases opened together costs two statements, not two per case)."""
    deliveries: list[Delivery] = []
    notified: list[CaseEvent] = []
    for case, event, people in news:
        if not people:
            continue
        message = make_message(
            "case_event",
            {
                "case": case,
                "case_url": case_link(case),
                "previous_case_url": absolute_url("case", case.previous_case_id) if case.previous_case_id else "",
                "headline": HEADLINES.get(event.type, event.type.capitalize()),
                "description": _describe(event),
            },
        )
        planned_here, reached = planned_emails(
            case, people, subject=message.subject, text=message.text, key=f"case-event:{event.pk}", now=now
        )
        deliveries.extend(planned_here)
        notified.append(
            CaseEvent(
                case=case,
                at=now,
                type=CaseEvent.Type.NOTIFIED,
                data={"about": event.type, "event": event.pk, "recipients": reached, "channel": "email"},
            )
        )
    enqueue_all(deliveries)
    return CaseEvent.objects.bulk_create(notified) if notified else []
