"""A case: its page, the panel shown with its response, and the actions on it (note, status, assign)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from closeloop.actions.close_case import change_case_status
from closeloop.cases.models import Case, CaseEvent
from closeloop.cases.queries import escalations_to
from closeloop.cases.services import (
    CaseInputError,
    CasePermissionDenied,
    do_add_note,
    do_assign,
    do_view_case,
    is_manager,
)
from closeloop.cases.templates import root_causes_of
from closeloop.web.forms import AssignForm, NoteForm, StatusForm, choice_field
from closeloop.web.permissions import Viewer, web_view
from closeloop.web.timeline import escalation_words, timeline
from closeloop.web.views.common import back_to, log_customer_view, page, return_path
from closeloop.web.views.detail import response_context, visible_response


def visible_case(request: HttpRequest, case_id: int) -> Case:
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    case = viewer.cases(Case.objects.select_related("unit", "owner", "response")).filter(pk=case_id).first()
    if case is None:
        raise Http404("No such case")
    return case


def record_view(request: HttpRequest, case: Case) -> Case:
    """Opening a case counts as viewing it (only the team's views stop the `not_viewed` escalations)."""
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    # An operator account without a person is named by its user name, so its views are still told apart.
    actor_name = "" if viewer.person else request.user.get_username()
    seen = CaseEvent.objects.filter(case=case, type=CaseEvent.Type.VIEWED, actor=viewer.person)
    if viewer.person is None:
        seen = seen.filter(actor_name=actor_name)
    if seen.exists():
        # Only a person's first view is recorded; skipping the service spares a write lock on every page view.
        return case
    return do_view_case(case, actor=viewer.person, now=timezone.now(), actor_name=actor_name)


def may_manage(request: HttpRequest, case: Case) -> bool:
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    return viewer.is_admin or (viewer.person is not None and is_manager(case, viewer.person))


def default_author(request: HttpRequest, case: Case) -> str:
    """The signed-in writer's name: their person's, else (an operator account) the account's own."""
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    if viewer.name:
        return viewer.name
    if isinstance(request.user, User):
        return request.user.get_full_name() or request.user.get_username()
    return ""


def note_form(request: HttpRequest, case: Case, data: Any = None) -> NoteForm:
    """The author is pre-filled with the writer's name (see `default_author`) and stays editable: another
    name is kept as "on behalf of", shown next to the writer's."""
    return NoteForm(data, initial={"author": default_author(request, case)})


def case_panel_context(request: HttpRequest, case: Case, **forms: Any) -> dict[str, Any]:
    manager = may_manage(request, case)
    status_form = forms.get("status_form") or status_form_for(case)
    if not manager:
        # Only case managers may close: others do not get the closed status to pick.
        choice_field(status_form, "status").choices = [(s, s) for s in case.statuses if s != case.closed_status]
    events = list(CaseEvent.objects.filter(case=case).select_related("actor").order_by("-at", "-id"))
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    notice = escalations_to(viewer.person, [case.pk]).get(case.pk) if viewer.person else None
    # A repeat failure links to the customer's earlier case, and back; only cases this person may open.
    related = viewer.cases(Case.objects.all())
    return {
        "escalated_to_you": escalation_words(notice) if notice else "",
        "previous_case": related.filter(pk=case.previous_case_id).first() if case.previous_case_id else None,
        "repeat_cases": list(related.filter(previous_case=case).order_by("opened_at", "id")),
        "case": case,
        "timeline": timeline(events),
        "notes": [e for e in events if e.type == CaseEvent.Type.NOTE],
        "note_form": forms.get("note_form") or note_form(request, case),
        "status_form": status_form,
        "assign_form": forms.get("assign_form") or AssignForm(case=case),
        "may_manage": manager,
        "return_to": return_path(request, f"/cases/{case.pk}"),
        "managers": list(case.managers.all()),
        "members": list(case.members.all()),
    }


@web_view
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = record_view(request, visible_case(request, case_id))
    response = visible_response(request, case.response_id)
    log_customer_view(request, f"case:{case.pk}")
    context = response_context(response) | {"alerts": list(response.alerts.all())} | case_panel_context(request, case)
    return page(request, "web/case.html", context)


def _redisplay(request: HttpRequest, case: Case, **forms: Any) -> HttpResponse:
    """The case page again with the form that failed, its errors and what was typed (HTTP 422)."""
    for form in forms.values():
        focus_first_error(form)
    response = visible_response(request, case.response_id)
    context = response_context(response) | {"alerts": list(response.alerts.all())}
    return page(request, "web/case.html", context | case_panel_context(request, case, **forms), status=422)


def focus_first_error(form: Form) -> None:
    """Focus the first field in error when the page loads: the browser scrolls to it, a screen reader reads it."""
    # The note form is written out by hand and does this in its template.
    if isinstance(form, NoteForm):
        return
    name = next((name for name in form.fields if name in form.errors), None)
    if name is not None:
        form.fields[name].widget.attrs["autofocus"] = True


@require_POST
@web_view
def case_note(request: HttpRequest, case_id: int) -> HttpResponse:
    case = visible_case(request, case_id)
    form = note_form(request, case, request.POST)
    if not form.is_valid():
        return _redisplay(request, case, note_form=form)
    save_note(request, case, form)
    return back_to(request, f"/cases/{case.pk}")


def save_note(request: HttpRequest, case: Case, form: NoteForm) -> None:
    """Append the valid note `form` holds, written by the signed-in person, and say so."""
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    do_add_note(
        case,
        text=form.cleaned_data["text"],
        spoke_to_customer=form.cleaned_data["spoke_to_customer"],
        author_name=form.cleaned_data["author"],
        actor=viewer.person,
        actor_name="" if viewer.person else default_author(request, case),
        now=timezone.now(),
    )
    messages.success(request, "Note saved.")


def status_form_for(case: Case, data: Any = None) -> StatusForm:
    return StatusForm(data, case=case, root_causes=root_causes_of(case.template_key))


@require_POST
@web_view
def case_status(request: HttpRequest, case_id: int) -> HttpResponse:
    case = visible_case(request, case_id)
    if request.POST.get("status") == case.closed_status != case.status and not may_manage(request, case):
        messages.error(request, "Only the case's managers and admins may close it.")
        return back_to(request, f"/cases/{case.pk}")
    form = status_form_for(case, request.POST)
    if not form.is_valid():
        return _redisplay(request, case, status_form=form)
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    data = form.cleaned_data
    try:
        case = change_case_status(
            case,
            status=data["status"],
            resolution=data["resolution"] or None,
            note=data["note"] or None,
            actor=viewer.person,
            now=timezone.now(),
            root_cause=data["root_cause"] or None,
            action_taken=data["action_taken"] or None,
            spoke_to_customer=data["spoke"],
        )
    except CaseInputError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _redisplay(request, case, status_form=form)
    except CasePermissionDenied as exc:
        messages.error(request, str(exc))
        return back_to(request, f"/cases/{case.pk}")
    messages.success(request, f"Status is now {case.status}.")
    return back_to(request, f"/cases/{case.pk}")


@require_POST
@web_view
def case_assign(request: HttpRequest, case_id: int) -> HttpResponse:
    case = visible_case(request, case_id)
    if not may_manage(request, case):
        messages.error(request, "Only the case's managers and admins may assign it.")
        return back_to(request, f"/cases/{case.pk}")
    form = AssignForm(request.POST, case=case)
    if not form.is_valid():
        return _redisplay(request, case, assign_form=form)
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    try:
        do_assign(case, owner=form.cleaned_data["owner"], actor=viewer.person, now=timezone.now())
    except CaseInputError as exc:
        form.add_error("owner", exc.message)
        return _redisplay(request, case, assign_form=form)
    messages.success(request, f"Assigned to {form.cleaned_data['owner'].name}.")
    return back_to(request, f"/cases/{case.pk}")
