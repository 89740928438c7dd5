"""The responses list and one response's page: the customer's words first, then everything around them."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from closeloop.actions import fix_response as fixing
from closeloop.cases.models import Case, CaseEvent
from closeloop.cases.queries import responses_for_srn
from closeloop.core.vocabulary import shows_notes
from closeloop.feedback.models import Question, Response
from closeloop.feedback.queries import in_unit_subtree
from closeloop.feedback.store import RejectedInput
from closeloop.org.directory import current_organization
from closeloop.web.forms import FixResponseForm, MoveResponseForm, ResponseFilterForm
from closeloop.web.lists import in_date_range, page_of, sort_order
from closeloop.web.permissions import Viewer, admin_view, web_view
from closeloop.web.views.cases import case_panel_context, record_view
from closeloop.web.views.common import log_customer_view, page
from closeloop.web.views.detail import response_context, visible_response

RESPONSE_ORDERS = {
    "date": ("submitted_at", "id"),
    "unit": ("unit__code", "-submitted_at", "-id"),
    "overall": ("overall", "-submitted_at", "-id"),
}


@web_view
def response_list(request: HttpRequest) -> HttpResponse:
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    form = ResponseFilterForm(request.GET or None, units=list(viewer.unit_choices()))
    responses = viewer.responses(
        Response.objects.select_related("survey", "unit", "customer", "agent")
        .prefetch_related("alerts")
        .filter(superseded_by__isnull=True)
    )
    sort, fields = sort_order(request.GET.get("sort", ""), RESPONSE_ORDERS, "-date")
    srn = "y"
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        unit = form.chosen_unit()
        if unit is not None:
            responses = in_unit_subtree(responses, unit)
        if data["survey"]:
            responses = responses.filter(survey__key=data["survey"])
        if data["status"]:
            responses = responses.filter(status=data["status"])
        responses = in_date_range(
            responses, "submitted_at", data["date_from"], data["date_to"], current_organization().time_zone
        )
        srn = data["srn"] or "y"
    elif form.is_bound:
        responses = responses.none()
    responses = responses_for_srn(responses, srn).order_by(*fields)
    listing = page_of(request, responses)
    cases = dict(Case.objects.filter(response__in=[r.pk for r in listing.rows]).values_list("response_id", "id"))
    text_keys = _text_questions()
    notes = _latest_notes(list(cases.values())) if shows_notes(srn) else {}
    rows = [
        {
            "response": r,
            "comment": _comment(r, text_keys.get(r.survey_id, ())),
            "case_id": cases.get(r.pk),
            "note": notes.get(cases[r.pk]) if r.pk in cases else None,
        }
        for r in listing.rows
    ]
    context = {"form": form, "page": listing, "rows": rows, "sort": sort, "show_notes": shows_notes(srn)}
    return page(request, "web/responses.html", context)


def _latest_notes(case_ids: list[int]) -> dict[int, CaseEvent]:
    """The newest note of each case: shown under the customer's words, as the recovery notes report does."""
    latest: dict[int, CaseEvent] = {}
    for note in CaseEvent.objects.filter(case_id__in=case_ids, type=CaseEvent.Type.NOTE).order_by("case_id", "-at"):
        latest.setdefault(note.case_id, note)
    return latest


def _text_questions() -> dict[int, list[str]]:
    keys: dict[int, list[str]] = {}
    for survey_id, key in Question.objects.filter(type=Question.Type.TEXT).values_list("survey_id", "key"):
        keys.setdefault(survey_id, []).append(key)
    return keys


def _comment(response: Response, text_keys: Sequence[str]) -> str:
    """The first free-text answer: the customer's own words, for a list row."""
    return next((str(response.answers[k]) for k in text_keys if response.answers.get(k)), "")


@web_view
def response_detail(request: HttpRequest, response_id: int) -> HttpResponse:
    response = visible_response(request, response_id)
    log_customer_view(request, f"response:{response.pk}")
    return _detail(request, response)


def _detail(
    request: HttpRequest,
    response: Response,
    fix_form: FixResponseForm | None = None,
    move_form: MoveResponseForm | None = None,
) -> HttpResponse:
    context = response_context(response) | {"alerts": list(response.alerts.all())}
    case = Case.objects.filter(response=response).select_related("unit", "owner").first()
    if case is not None:
        case = record_view(request, case)
        context |= case_panel_context(request, case)
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    if response.status == Response.Status.INVALID and viewer.is_admin:
        context["fix_form"] = fix_form or FixResponseForm(response=response)
    elif viewer.is_admin and response.superseded_by_id is None:
        context["move_form"] = move_form or MoveResponseForm(response=response)
    return page(request, "web/response.html", context, status=422 if fix_form or move_form else 200)


@require_POST
@admin_view
def fix_response(request: HttpRequest, response_id: int) -> HttpResponse:
    """Give a quarantined response its unit and segment; once valid it raises its alerts and case."""
    response = visible_response(request, response_id)
    form = FixResponseForm(request.POST, response=response)
    if form.is_valid():
        changes = {"unit": form.cleaned_data["unit"]}
        if form.cleaned_data["segment"] or form.fields["segment"].required:
            changes["segment"] = form.cleaned_data["segment"]
        viewer: Viewer = request.viewer  # type: ignore[attr-defined]
        try:
            fixed = fixing.fix_response(response, changes, now=timezone.now(), actor=viewer.person)
        except RejectedInput as exc:
            for error in exc.errors:
                form.add_error(str(error.loc[0]) if error.loc and error.loc[0] in form.fields else None, error.msg)
        else:
            messages.success(request, "The response is valid now." if fixed.status == "valid" else "Saved.")
            return redirect(f"/responses/{fixed.pk}")
    return _detail(request, response, fix_form=form)


@require_POST
@admin_view
def move_response(request: HttpRequest, response_id: int) -> HttpResponse:
    """Reassign a valid response to another unit; its alerts and its case follow (a `moved` event)."""
    response = visible_response(request, response_id)
    if response.status != Response.Status.VALID or response.superseded_by_id is not None:
        messages.error(request, "Only a current, valid response can be moved; fix a quarantined one instead.")
        return redirect(f"/responses/{response.pk}")
    form = MoveResponseForm(request.POST, response=response)
    if form.is_valid():
        viewer: Viewer = request.viewer  # type: ignore[attr-defined]
        before = response.unit.code if response.unit is not None else ""
        try:
            moved = fixing.fix_response(
                response, {"unit": form.cleaned_data["unit"]}, now=timezone.now(), actor=viewer.person
            )
        except RejectedInput as exc:
            for error in exc.errors:
                form.add_error("unit" if error.loc and error.loc[0] == "unit" else None, error.msg)
        else:
            case = Case.objects.filter(response=moved).first()
            where = f"{moved.unit.name} ({moved.unit.code})" if moved.unit is not None else form.cleaned_data["unit"]
            followed = f"; case #{case.pk} moved with it" if case is not None else ""
            messages.success(request, f"Moved from {before} to {where}{followed}.")
            return redirect(f"/responses/{moved.pk}")
    return _detail(request, response, move_form=form)
