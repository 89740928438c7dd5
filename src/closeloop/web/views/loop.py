"""Pages of the loop app: the customer's follow-up answer (no login) and the retention report."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from closeloop.actions.follow_up import answer_follow_up
from closeloop.core.metrics import NEVER_CONTACTED, NOT_RECOVERED, RECOVERED, RECOVERED_DEFINITION
from closeloop.core.periods import default_range
from closeloop.loop.retention import DEFAULT_DAYS, retention_report
from closeloop.loop.services import ANSWERS, LinkProblem, answer_path, follow_up_from_token
from closeloop.org.directory import current_organization
from closeloop.web.forms import ReportFilterForm
from closeloop.web.permissions import Viewer, web_view
from closeloop.web.views.common import org_today, page

# A bad link is the customer's problem to read about, not a server error.
PROBLEM_STATUS = {"invalid": 400, "expired": 410, "used": 200, "unavailable": 410}
GROUP_LABELS = {
    RECOVERED: "Recovered",
    NOT_RECOVERED: "Not recovered (or not confirmed)",
    NEVER_CONTACTED: "Never contacted",
}


def _follow_up_page(request: HttpRequest, context: dict[str, object], status: int = 200) -> HttpResponse:
    return render(request, "loop/follow_up.html", {"organization": current_organization(), **context}, status=status)


# The signed token in the address is the credential, and there is no session to ride on, so CSRF
# protection would only stop customers whose browsers block cookies.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def follow_up_answer(request: HttpRequest, token: str, answer: str) -> HttpResponse:
    """GET shows what will be recorded and a confirm button (mail scanners only GET); POST records it."""
    now = timezone.now()
    try:
        if answer not in ANSWERS:
            raise LinkProblem("invalid")
        if request.method == "POST":
            answered = answer_follow_up(token, answer, now=now)
            return _follow_up_page(request, {"state": "thanks", "resolved": answered.follow_up.answer})
        follow_up = follow_up_from_token(token, answer, now)
    except LinkProblem as problem:
        return _follow_up_page(request, {"state": problem.reason}, PROBLEM_STATUS[problem.reason])
    other = "no" if answer == "yes" else "yes"
    return _follow_up_page(
        request, {"state": "confirm", "resolved": ANSWERS[answer], "other_link": answer_path(follow_up, other)}
    )


class RetentionForm(ReportFilterForm):
    days = forms.IntegerField(
        required=False, min_value=1, max_value=3650, label="Days after opening", initial=DEFAULT_DAYS
    )


@web_view
def retention_page(request: HttpRequest) -> HttpResponse:
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    date_from, date_to = default_range(org_today())
    form = RetentionForm(
        request.GET or None,
        units=list(viewer.unit_choices()),
        initial={"date_from": date_from, "date_to": date_to, "days": DEFAULT_DAYS},
    )
    unit, days = None, DEFAULT_DAYS
    if form.is_bound and form.is_valid():
        date_from = form.cleaned_data["date_from"] or date_from
        date_to = form.cleaned_data["date_to"] or date_to
        days = form.cleaned_data["days"] or DEFAULT_DAYS
        unit = form.chosen_unit()
    report = retention_report(date_from, date_to, days=days, unit=unit, units=viewer.units)
    rows = [(GROUP_LABELS[row.group], row) for row in report.groups]
    context = {"form": form, "report": report, "rows": rows, "unit": unit, "recovered_definition": RECOVERED_DEFINITION}
    return page(request, "loop/retention.html", context)
