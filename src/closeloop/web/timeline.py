"""Case events in words, for the timeline on the case page."""

from __future__ import annotations

from dataclasses import dataclass

from closeloop.cases.models import CaseEvent
from closeloop.cases.notifications import HEADLINES

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


@dataclass(frozen=True)
class TimelineEntry:
    event: CaseEvent
    icon: str
    who: str
    text: str


def describe(event: CaseEvent) -> str:
    data = event.data or {}
    kind = event.type
    if kind == CaseEvent.Type.OPENED:
        return f"Case opened ({data.get('severity', '')} severity" + (
            f", {data['tier']} customer)" if data.get("tier") else ")"
        )
    if kind == CaseEvent.Type.VIEWED:
        return "Opened the case" + ("" if data.get("team") else " (not in the team)")
    if kind == CaseEvent.Type.NOTE:
        return str(data.get("text", ""))
    if kind == CaseEvent.Type.STATUS:
        return f"Status {data.get('from')} → {data.get('to')}"
    if kind == CaseEvent.Type.CLOSED:
        return f"Closed as {data.get('resolution')}"
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
        people = ", ".join(data.get("recipients") or []) or "nobody reachable"
        about = str(data.get("about", ""))
        return f"Emailed {people}: {HEADLINES.get(about, about).lower()}"
    return kind


def timeline(events: list[CaseEvent]) -> list[TimelineEntry]:
    entries = []
    for event in events:
        who = (event.data or {}).get("author") if event.type == CaseEvent.Type.NOTE else ""
        who = who or event.actor_name or (event.actor.name if event.actor is not None else "") or "closeloop"
        entries.append(
            TimelineEntry(event=event, icon=ICONS.get(event.type, "i-circle"), who=who, text=describe(event))
        )
    return entries
