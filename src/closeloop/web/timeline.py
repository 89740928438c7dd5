"""Case events in words, for the timeline on the case page.

The emails sent about an event (its `notified` bookkeeping) are folded into that event's line, one
collapsible list per round, so the timeline reads as what people did rather than what the outbox did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from closeloop.cases.models import CaseEvent, EscalationNotice
from closeloop.cases.notifications import HEADLINES
from closeloop.org.directory import directory

ICONS = {
    "opened": "i-bell",
    "viewed": "i-eye",
    "note": "i-pencil",
    "status": "i-loop",
    "assigned": "i-person",
    "escalated": "i-up",
    "notified": "i-mail",
    "closed": "i-check",
    "reopened": "i-loop",
    "moved": "i-move",
    "satisfied": "i-star",
    "team_changed": "i-person",
}

WHEN_WORDS = {
    "not_viewed": "nobody in the team had opened it",
    "not_contacted": "the customer had not been spoken to",
    "overdue": "it passed its closure goal",
    "closed_unresolved": "it was closed unresolved",
}


def escalation_words(notice: EscalationNotice) -> str:
    """ "Escalated to you (level 1): nobody in the team had opened it"."""
    level = f" (level {notice.level})" if notice.level is not None else ""
    return f"Escalated to you{level}: {WHEN_WORDS.get(notice.when, notice.when)}"


@dataclass(frozen=True)
class Round:
    """One round of emails about an event: who was written to."""

    at: object
    recipients: tuple[str, ...]  # names

    @property
    def summary(self) -> str:
        count = len(self.recipients)
        if count == 0:
            return "Nobody could be emailed"
        return "Emailed 1 person" if count == 1 else f"Emailed {count} people"


@dataclass(frozen=True)
class TimelineEntry:
    event: CaseEvent
    icon: str
    who: str
    text: str
    rounds: list[Round] = field(default_factory=list)
    tone: str = ""  # "good" / "bad": how a closing ended, so an unresolved one never wears a green tick


def describe(event: CaseEvent) -> str:
    data = event.data or {}
    kind = event.type
    if kind == CaseEvent.Type.OPENED:
        return f"Case opened ({data.get('severity', '')} severity" + (
            f", {data['tier']} customer)" if data.get("tier") else ")"
        )
    if kind == CaseEvent.Type.VIEWED:
        return "Opened the case"
    if kind == CaseEvent.Type.NOTE:
        return str(data.get("text", ""))
    if kind == CaseEvent.Type.STATUS:
        return f"Status {data.get('from')} → {data.get('to')}"
    if kind == CaseEvent.Type.CLOSED:
        text = f"Closed as {data.get('resolution')}"
        if data.get("root_cause"):
            text += f" · root cause: {data['root_cause']}"
        if data.get("action_taken"):
            text += f"\nAction taken: {data['action_taken']}"
        return text
    if kind == CaseEvent.Type.REOPENED:
        return f"Reopened: {data.get('from')} → {data.get('to')}"
    if kind == CaseEvent.Type.ASSIGNED:
        return f"Assigned to {data.get('owner_name') or data.get('owner')}"
    if kind == CaseEvent.Type.ESCALATED:
        people = ", ".join(data.get("recipients") or []) or "nobody reachable"
        reason = WHEN_WORDS.get(str(data.get("when")), str(data.get("when", "")))
        return f"Escalated to level {data.get('level')} ({people}) because {reason}"
    if kind == CaseEvent.Type.MOVED:
        if data.get("to_unit"):
            return f"Moved from {data.get('from_unit')} to {data.get('to_unit')}"
        return "Moved to the customer's newer response for the same ticket"
    if kind == CaseEvent.Type.SATISFIED:
        return str(data.get("text") or "customer now satisfied").capitalize()
    if kind == CaseEvent.Type.TEAM_CHANGED:
        return "New team: managers " + (", ".join(data.get("managers") or []) or "none")
    if kind == CaseEvent.Type.NOTIFIED:
        about = str(data.get("about", ""))
        return f"The team was told: {HEADLINES.get(about, about).lower()}"
    return kind


def _round(event: CaseEvent, names: Mapping[str, str]) -> Round:
    keys = (event.data or {}).get("recipients") or []
    return Round(at=event.at, recipients=tuple(names.get(str(key), str(key)) for key in keys))


def _entry(event: CaseEvent) -> TimelineEntry:
    data = event.data or {}
    who = event.byline if event.type == CaseEvent.Type.NOTE else ""
    who = who or event.actor_name or (event.actor.name if event.actor is not None else "") or "closeloop"
    icon, tone = ICONS.get(event.type, "i-circle"), ""
    if event.type == CaseEvent.Type.CLOSED:
        unresolved = data.get("resolution") == "unresolved"
        icon, tone = ("i-cross", "bad") if unresolved else ("i-check", "good")
    return TimelineEntry(event=event, icon=icon, who=who, text=describe(event), tone=tone)


def timeline(events: Sequence[CaseEvent]) -> list[TimelineEntry]:
    """The entries of `events` (newest first), each `notified` event folded into the event it was about;
    bookkeeping whose event is not in the list stays a line of its own, rounds of the same moment together."""
    people = directory().people
    names = {key: person.name for key, person in people.items()}
    entries: list[TimelineEntry] = []
    by_event: dict[int, TimelineEntry] = {}
    for event in events:
        if event.type != CaseEvent.Type.NOTIFIED:
            entry = _entry(event)
            entries.append(entry)
            by_event[event.pk] = entry
    loose: dict[tuple[object, str], TimelineEntry] = {}
    for event in events:
        if event.type != CaseEvent.Type.NOTIFIED:
            continue
        about = (event.data or {}).get("event")
        target = by_event.get(about) if isinstance(about, int) else None
        if target is None:
            key = (event.at, str((event.data or {}).get("about", "")))
            target = loose.get(key)
            if target is None:
                target = _entry(event)
                loose[key] = target
                entries.append(target)
        target.rounds.append(_round(event, names))
    order = {id(entry): index for index, entry in enumerate(entries)}
    return sorted(entries, key=lambda entry: (-entry.event.at.timestamp(), -entry.event.pk, order[id(entry)]))
