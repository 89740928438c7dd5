"""/api/v1/cases: list and read cases, and act on them (views, notes, status, assignment).

Reads need the `read` scope, changes `write`. A token with a person sees the cases of the units where
that person holds a role, with everything below; a token without a person sees everything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router
from ninja.responses import Status

from closeloop.actions.close_case import change_case_status
from closeloop.api.auth import TokenAuth, log_token_view, token_cases, token_of
from closeloop.api.errors import ApiError, invalid_field
from closeloop.api.pagination import paginate
from closeloop.api.schemas import ErrorOut
from closeloop.api.schemas.cases import (
    AssignIn,
    CaseFilters,
    CaseOut,
    CasePageOut,
    NoteIn,
    NoteOut,
    NotePageOut,
    StatusIn,
)
from closeloop.cases.models import Case, CaseEvent, EscalationNotice
from closeloop.cases.queries import (
    cases_for_api,
    escalations_to,
    in_unit_subtree,
    is_overdue,
    mine,
    names,
    note_to_dict,
    overdue_filter,
)
from closeloop.cases.services import (
    CaseInputError,
    CasePermissionDenied,
    do_add_note,
    do_assign,
    do_view_case,
)
from closeloop.cases.templates import root_causes_by_template, root_causes_of
from closeloop.core.vocabulary import DEFAULT_ROOT_CAUSES
from closeloop.notify.links import absolute_url
from closeloop.org.models import Person, Unit

router = Router(tags=["cases"])

ERRORS: dict[int, type[ErrorOut]] = {code: ErrorOut for code in (401, 403, 404, 413, 422)}
T = TypeVar("T")


WHY = {
    "not_viewed": "nobody in the team had opened it",
    "not_contacted": "nobody had spoken to the customer",
    "overdue": "it passed its closure goal",
    "closed_unresolved": "it was closed unresolved",
}


def escalation_to_dict(notice: EscalationNotice | None) -> dict[str, Any] | None:
    if notice is None:
        return None
    return {
        "level": notice.level,
        "when": notice.when,
        "reason": WHY.get(notice.when, notice.when),
        "at": notice.at,
        "step": notice.step,
    }


def case_to_dict(
    case: Case,
    *,
    now: Any = None,
    events: bool = False,
    notices: dict[int, EscalationNotice] | None = None,
    root_causes: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """The API's case; `root_causes` (template key -> list) and `notices` save queries per case in a list."""
    now = now or timezone.now()
    if root_causes is None:
        causes: Sequence[str] = root_causes_of(case.template_key)
    else:
        causes = root_causes.get(case.template_key, DEFAULT_ROOT_CAUSES)
    body: dict[str, Any] = {
        "id": case.pk,
        "response": case.response_id,
        "template": case.template_key,
        "unit": case.unit.code,
        "category": case.category,
        "severity": case.severity,
        "tier": case.tier or None,
        "status": case.status,
        "statuses": case.statuses,
        "state": case.state,
        "opened_at": case.opened_at,
        "due_at": case.due_at,
        "overdue": is_overdue(case, now),
        "owner": case.owner.key if case.owner is not None else None,
        "managers": sorted(p.key for p in case.managers.all()),
        "members": sorted(p.key for p in case.members.all()),
        "viewed_at": case.viewed_at,
        "contacted_at": case.contacted_at,
        "closed_at": case.closed_at,
        "resolution": case.resolution,
        "root_cause": case.root_cause or None,
        "action_taken": case.action_taken or None,
        "root_causes": list(causes),
        "escalation_level": case.escalation_level,
        "next_escalation_at": case.next_escalation_at,
        "satisfied_at": case.satisfied_at,
        "previous_case": case.previous_case_id,
        "escalated_to_you": escalation_to_dict((notices or {}).get(case.pk)),
        "url": absolute_url("case", case.pk),
    }
    if events:
        body["events"] = [
            {
                "id": event.pk,
                "at": event.at,
                "type": event.type,
                "actor": event.actor.key if event.actor is not None else None,
                "actor_name": event.actor_name,
                "data": event.data,
            }
            for event in case.events.select_related("actor").order_by("at", "id")
        ]
    return body


def _visible_case(request: HttpRequest, case_id: int) -> Case:
    """The case if the caller may see it; 404 otherwise, so hidden cases cannot be told from missing ones."""
    case = token_cases(token_of(request), cases_for_api()).filter(pk=case_id).first()
    if case is None:
        raise ApiError(404, f"No case {case_id}.")
    return case


def _notices(request: HttpRequest, case_ids: list[int]) -> dict[int, EscalationNotice]:
    person = token_of(request).person
    return escalations_to(person, case_ids) if person is not None else {}


def _detail(request: HttpRequest, case: Case) -> dict[str, Any]:
    return case_to_dict(cases_for_api().get(pk=case.pk), events=True, notices=_notices(request, [case.pk]))


def _act(action: Callable[[], T]) -> T:
    """Run a service, answering its refusals in the API's error shape."""
    try:
        return action()
    except CaseInputError as error:
        raise invalid_field((error.field,), error.message) from None
    except CasePermissionDenied as error:
        raise ApiError(403, str(error)) from None


@router.get("", auth=TokenAuth("read"), response={200: CasePageOut, **ERRORS}, summary="List cases")
def list_cases(request: HttpRequest, filters: Query[CaseFilters]) -> dict[str, Any]:
    """Newest first, 50 a page. `overdue` is computed at the moment of the request. `mine=true`: the cases
    that are the token person's to work on, including those escalated to them (`escalated_to_you` says at
    which level and why)."""
    now = timezone.now()
    person = token_of(request).person
    cases = token_cases(token_of(request), cases_for_api())
    if filters.mine is True:
        if person is None:
            raise invalid_field(("mine",), "a token without a person has no cases of its own")
        cases = mine(cases, person)
    elif filters.mine is False and person is not None:
        cases = cases.exclude(names(person))
    if filters.state is not None:
        cases = cases.filter(state=filters.state)
    if filters.overdue is True:
        cases = cases.filter(overdue_filter(now))
    elif filters.overdue is False:
        cases = cases.exclude(overdue_filter(now))
    if filters.unit is not None:
        unit = Unit.objects.filter(code=filters.unit).first()
        if unit is None:
            raise invalid_field(("unit",), f"unknown unit {filters.unit!r}")
        cases = in_unit_subtree(cases, unit)
    rows: list[Case] = []

    def keep(case: Case) -> dict[str, Any]:
        rows.append(case)
        return {}

    page = paginate(request, cases, keep)
    # The escalations and root causes of the whole page in one query each, rather than one per case.
    notices = _notices(request, [case.pk for case in rows])
    causes = root_causes_by_template({case.template_key for case in rows})
    page["items"] = [case_to_dict(case, now=now, notices=notices, root_causes=causes) for case in rows]
    return page


@router.get("/{int:case_id}", auth=TokenAuth("read"), response={200: CaseOut, **ERRORS}, summary="Get a case")
def get_case(request: HttpRequest, case_id: int) -> dict[str, Any]:
    case = _visible_case(request, case_id)
    log_token_view(request, f"case:{case.pk}")
    return case_to_dict(case, events=True, notices=_notices(request, [case_id]))


@router.post(
    "/{int:case_id}/views", auth=TokenAuth("write"), response={200: CaseOut, **ERRORS}, summary="Record a view"
)
def view_case(request: HttpRequest, case_id: int) -> dict[str, Any]:
    """Records that the token's person viewed the case; the first view by the team stops `not_viewed` escalations."""
    case = _visible_case(request, case_id)
    token = token_of(request)
    do_view_case(case, actor=token.person, now=timezone.now(), actor_name="" if token.person else f"token {token.name}")
    return _detail(request, case)


@router.get("/{int:case_id}/notes", auth=TokenAuth("read"), response={200: NotePageOut, **ERRORS}, summary="List notes")
def list_notes(request: HttpRequest, case_id: int) -> dict[str, Any]:
    """Oldest first. Notes can never be edited or deleted."""
    case = _visible_case(request, case_id)
    notes = CaseEvent.objects.filter(case=case, type=CaseEvent.Type.NOTE).select_related("actor").order_by("at", "id")
    return paginate(request, notes, note_to_dict)


@router.post("/{int:case_id}/notes", auth=TokenAuth("write"), response={201: NoteOut, **ERRORS}, summary="Add a note")
def add_note(request: HttpRequest, case_id: int, note: NoteIn) -> Status[dict[str, Any]]:
    """Appends a note; `spoke_to_customer: true` sets the case's `contacted_at` if unset. The author is the
    token's person (or the token); an `author` given is shown as `on_behalf_of`, next to them."""
    case = _visible_case(request, case_id)
    token = token_of(request)
    event = _act(
        lambda: do_add_note(
            case,
            text=note.text,
            spoke_to_customer=note.spoke_to_customer,
            author_name=note.author,
            actor=token.person,
            actor_name="" if token.person else f"token {token.name}",
            now=timezone.now(),
        )
    )
    return Status(201, note_to_dict(event))


@router.get(
    "/{int:case_id}/notes/{int:note_id}",
    auth=TokenAuth("read"),
    response={200: NoteOut, **ERRORS},
    summary="Get a note",
)
def get_note(request: HttpRequest, case_id: int, note_id: int) -> dict[str, Any]:
    """A single note; PUT, PATCH and DELETE are not allowed (405): notes are permanent."""
    case = _visible_case(request, case_id)
    event = CaseEvent.objects.filter(case=case, type=CaseEvent.Type.NOTE, pk=note_id).select_related("actor").first()
    if event is None:
        raise ApiError(404, f"No note {note_id} on case {case_id}.")
    return note_to_dict(event)


@router.post(
    "/{int:case_id}/status", auth=TokenAuth("write"), response={200: CaseOut, **ERRORS}, summary="Change the status"
)
def change_status(request: HttpRequest, case_id: int, change: StatusIn) -> dict[str, Any]:
    """A status of the case's template; the last one closes and needs `resolution` and a case manager or admin."""
    case = _visible_case(request, case_id)
    _act(
        lambda: change_case_status(
            case,
            status=change.status,
            resolution=change.resolution,
            note=change.note,
            actor=token_of(request).person,
            now=timezone.now(),
            root_cause=change.root_cause,
            action_taken=change.action_taken,
            spoke_to_customer=change.spoke_to_customer,
        )
    )
    return _detail(request, case)


@router.post(
    "/{int:case_id}/assign", auth=TokenAuth("write"), response={200: CaseOut, **ERRORS}, summary="Assign an owner"
)
def assign_case(request: HttpRequest, case_id: int, assignment: AssignIn) -> dict[str, Any]:
    case = _visible_case(request, case_id)
    owner = Person.objects.filter(key=assignment.owner, active=True).first()
    if owner is None:
        raise invalid_field(("owner",), f"unknown person {assignment.owner!r}")
    _act(lambda: do_assign(case, owner=owner, actor=token_of(request).person, now=timezone.now()))
    return _detail(request, case)
