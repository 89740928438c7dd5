"""Read queries over cases, shared by the API, the response serializer and the UI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from closeloop.cases.models import Case, CaseEvent
from closeloop.feedback.models import Response
from closeloop.feedback.queries import visible_units
from closeloop.org.models import Person, Unit


def cases_for_api() -> QuerySet[Case]:
    """Cases with what their serialisation reads, newest first."""
    return (
        Case.objects.select_related("unit", "owner", "response")
        .prefetch_related("managers", "members")
        .order_by("-opened_at", "-id")
    )


def restrict_to_visible(queryset: QuerySet[Case], person: Person | None) -> QuerySet[Case]:
    """Only the cases of units `person` may see (their subtree); everything for a service token or an admin."""
    units = visible_units(person)
    return queryset if units is None else queryset.filter(unit__in=units)


def in_unit_subtree(queryset: QuerySet[Case], unit: Unit) -> QuerySet[Case]:
    return queryset.filter(unit__path__startswith=unit.path)


def overdue_filter(now: datetime) -> Q:
    """Open past the closure goal, computed at read time (nothing stores an `overdue` flag that could go stale)."""
    return Q(state=Case.State.OPEN, due_at__lt=now)


def is_overdue(case: Case, now: datetime) -> bool:
    return case.state == Case.State.OPEN and case.due_at < now


def case_of_response(response: Response) -> Case | None:
    # .all() uses a prefetch of `cases` when the caller made one.
    cases = list(response.cases.all())
    return cases[0] if cases else None


def response_case_id(response: Response) -> int | None:
    case = case_of_response(response)
    return case.pk if case else None


def note_to_dict(event: CaseEvent) -> dict[str, Any]:
    data = event.data or {}
    return {
        "id": event.pk,
        "at": event.at,
        "text": data.get("text", ""),
        "spoke_to_customer": bool(data.get("spoke_to_customer")),
        "author": data.get("author") or event.actor_name,
        "by": event.actor.key if event.actor_id else None,
    }


def response_notes(response: Response) -> list[dict[str, Any]]:
    """The notes of the response's case, oldest first (a resubmitted response brings its case's notes along)."""
    case = case_of_response(response)
    if case is None:
        return []
    notes = getattr(case, "note_events", None)  # prefetched by closeloop.feedback.queries.responses_for_api
    if notes is None:
        notes = (
            CaseEvent.objects.filter(case=case, type=CaseEvent.Type.NOTE).select_related("actor").order_by("at", "id")
        )
    return [note_to_dict(note) for note in notes]
