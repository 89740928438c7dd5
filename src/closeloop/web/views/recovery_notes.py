"""The Service Recovery Notes dialog, reached by URL: `/recovery-notes?unit=&date=&ticket=` (any two), or
`/recovery-notes?response=ID`.

With a unit and a date it walks, with Previous and Next, through that unit's responses needing recovery
submitted that day (in the organisation's time zone); `unit` may be given more than once (a report covering
several units). With a ticket it shows that ticket's response, narrowed to one survey by `survey=KEY`; a
ticket answered in two surveys walks through both. `response=ID` shows that one response.
"""

from __future__ import annotations

from datetime import date
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict

from closeloop.cases.models import Case, CaseEvent
from closeloop.cases.queries import responses_for_srn
from closeloop.core.limits import parse_day
from closeloop.feedback.models import Response
from closeloop.feedback.queries import submitted_on
from closeloop.org.directory import current_organization
from closeloop.org.models import Unit
from closeloop.web.forms import NoteForm
from closeloop.web.permissions import Viewer, web_view
from closeloop.web.views.cases import note_form, record_view, save_note
from closeloop.web.views.common import log_customer_view, page
from closeloop.web.views.detail import response_context, visible_response

NO_MATCH = "Your URL is formed correctly but we couldn't find any surveys that matched the criteria in your URL."
NO_MATCH_REASONS = [
    "The customer may have submitted another survey for the same ticket since the link was made: "
    "the newer response replaces the earlier one.",
    "The response may have been reassigned to another unit.",
]
BAD_COMBINATION = (
    "Use any two of these three parameters: unit (the unit's code), date (YYYY-MM-DD, the day the feedback "
    "was received) and ticket (the ticket ID), optionally with survey (the survey's key); or response (the "
    "response's id) alone. For example /recovery-notes?unit=SUP-EMEA&date=2026-11-23, "
    "/recovery-notes?unit=SUP-EMEA&survey=upgrade-install&ticket=T-1001 or /recovery-notes?response=42."
)


class NotesUrlError(ValueError):
    """The URL cannot be answered; the message says how to fix it."""

    def __init__(self, message: str, reasons: list[str] | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.reasons = reasons or []
        self.status = status


def matching_ids(viewer: Viewer, params: QueryDict) -> tuple[list[int], bool]:
    """The ids of the responses the URL names, in order, and whether Previous/Next apply."""
    unit_codes = [code.strip() for code in params.getlist("unit") if code.strip()]
    raw_date, ticket, survey, raw_response = (
        params.get(name, "").strip() for name in ("date", "ticket", "survey", "response")
    )
    responses = viewer.responses(Response.objects.filter(superseded_by__isnull=True, status=Response.Status.VALID))
    if raw_response:
        if not raw_response.isdigit():
            raise NotesUrlError(f"The response {raw_response!r} is not a response id: write it as a number, e.g. 42.")
        found = list(responses.filter(pk=int(raw_response)).values_list("id", flat=True))
        if not found:
            raise NotesUrlError(NO_MATCH, NO_MATCH_REASONS, status=404)
        return found, False
    if sum(bool(v) for v in (unit_codes, raw_date, ticket)) < 2:
        raise NotesUrlError(BAD_COMBINATION)
    day: date | None = None
    if raw_date:
        try:
            day = parse_day(raw_date)
        except ValueError as exc:
            raise NotesUrlError(f"The date is not usable: {exc}.") from None
    if unit_codes:
        units = list(Unit.objects.filter(code__in=unit_codes))
        # An unknown unit and one the viewer may not see read the same, so the URL reveals nothing.
        if len(units) != len(set(unit_codes)) or not all(viewer.sees_unit(unit) for unit in units):
            raise NotesUrlError(NO_MATCH, NO_MATCH_REASONS, status=404)
        responses = responses.filter(reduce(or_, (Q(unit__path__startswith=unit.path) for unit in units)))
    if day is not None:
        responses = submitted_on(responses, day, current_organization().time_zone)
    if survey:
        responses = responses.filter(survey__key=survey)
    if ticket:
        # The same ticket can be answered in two surveys: each is its own response, and both are shown.
        ids = list(responses.filter(ticket=ticket).order_by("submitted_at", "id").values_list("id", flat=True))
        browsing = len(ids) > 1
    else:
        ids = list(responses_for_srn(responses, "r").order_by("submitted_at", "id").values_list("id", flat=True))
        browsing = True
    if not ids:
        raise NotesUrlError(NO_MATCH, NO_MATCH_REASONS, status=404)
    return ids, browsing


def _position(params: QueryDict, count: int) -> int:
    try:
        position = int(params.get("pos", "1"))
    except ValueError:
        position = 1
    return min(max(position, 1), count)


def _url(params: QueryDict, position: int) -> str:
    query = params.copy()
    for name in ("csrfmiddlewaretoken", "author", "text", "spoke_to_customer", "action"):
        query.pop(name, None)
    query["pos"] = str(position)
    return f"/recovery-notes?{query.urlencode()}"


@web_view
def recovery_notes(request: HttpRequest) -> HttpResponse:
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    try:
        ids, browsing = matching_ids(viewer, request.GET)
    except NotesUrlError as exc:
        return page(
            request, "web/recovery_notes.html", {"problem": exc.message, "reasons": exc.reasons}, status=exc.status
        )
    position = _position(request.GET, len(ids))
    response = visible_response(request, ids[position - 1])
    log_customer_view(request, f"response:{response.pk}", surface="notes")
    case = Case.objects.filter(response=response).select_related("unit", "owner", "response").first()
    form: NoteForm | None = None
    if request.method == "POST" and case is not None:
        form = note_form(request, case, request.POST)
        action = request.POST.get("action", "save")
        step = {"previous": -1, "next": 1}.get(action, 0) if browsing else 0
        target = min(max(position + step, 1), len(ids))
        saved = _save_note(request, case, form, moving=step != 0, target_url=_url(request.GET, target))
        if saved is not None:
            return saved
    if case is not None:
        case = record_view(request, case)
    context: dict[str, Any] = response_context(response) | {
        "case": case,
        "notes": list(CaseEvent.objects.filter(case=case, type=CaseEvent.Type.NOTE).order_by("-at", "-id"))
        if case
        else [],
        "note_form": form or (note_form(request, case) if case else None),
        "browsing": browsing,
        "browse_what": f"for ticket {request.GET['ticket']}" if request.GET.get("ticket") else "needing recovery",
        "position": position,
        "count": len(ids),
        "previous_url": _url(request.GET, position - 1) if browsing and position > 1 else "",
        "next_url": _url(request.GET, position + 1) if browsing and position < len(ids) else "",
        "here_url": _url(request.GET, position),
    }
    return page(request, "web/recovery_notes.html", context, status=422 if form is not None else 200)


def _save_note(
    request: HttpRequest, case: Case, form: NoteForm, *, moving: bool, target_url: str
) -> HttpResponse | None:
    """Every button saves what is written; an empty note with Previous/Next just moves on.

    Returns the redirect after a save or a move, or None to show the form again with its errors.
    """
    if moving and not request.POST.get("text", "").strip():
        return HttpResponseRedirect(target_url)
    if not form.is_valid():
        return None
    save_note(request, case, form)
    return HttpResponseRedirect(target_url)
