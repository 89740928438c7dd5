"""The case list: every case the viewer may see, filtered, searched and sorted, the whole view in the address;
and the bulk actions on a selection of them (assign, close), one service call and one timeline event per case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from closeloop.actions.close_case import change_case_status
from closeloop.alerts.models import Rule
from closeloop.cases.models import Case, CaseTemplate
from closeloop.cases.queries import in_category, in_unit_subtree, search, severity_rank, with_alert_category
from closeloop.cases.services import CaseInputError, CasePermissionDenied, do_assign, is_manager
from closeloop.core.rules import threshold_rule
from closeloop.core.vocabulary import DEFAULT_ROOT_CAUSES
from closeloop.feedback.queries import local_day_bounds
from closeloop.org.directory import current_organization
from closeloop.org.models import Person
from closeloop.web.forms import NOBODY, BulkAssignForm, BulkCloseForm, CaseFilterForm
from closeloop.web.keyset import KeysetPage, keyset_page
from closeloop.web.lists import in_date_range, sort_order
from closeloop.web.permissions import Viewer, web_view
from closeloop.web.status import DUE_SOON
from closeloop.web.views.common import back_to, org_today, page

CASE_PAGE_SIZE = 50
# Sort keys of the list; `-key` reverses. Each order ends with the id, which keyset paging needs.
CASE_ORDERS = {
    "due": ("due_at", "id"),
    "opened": ("opened_at", "id"),
    "severity": ("-severity_rank", "due_at", "id"),
}
DEFAULT_SORT = "due"
# The filters folded under "More filters" on a phone.
MORE_FILTERS = ("unit", "owner", "severity", "status", "category", "tier", "date_from", "date_to")


def case_rows(queryset: QuerySet[Case]) -> QuerySet[Case]:
    """What a case row shows, in one query: the customer, the alert's category, the owner."""
    related = queryset.select_related("unit", "owner", "response", "response__customer")
    return with_alert_category(related).annotate(severity_rank=severity_rank())


def people_choices(viewer: Viewer) -> QuerySet[Person]:
    """People who could own the viewer's cases: active, with a role in a unit the viewer sees."""
    people = Person.objects.filter(active=True, roles__isnull=False)
    if viewer.units is not None:
        people = people.filter(roles__unit__in=viewer.units)
    return people.distinct().order_by("name")


def _statuses() -> list[str]:
    seen: dict[str, None] = {}
    for statuses in CaseTemplate.objects.values_list("statuses", flat=True):
        for status in statuses or ():
            seen.setdefault(status, None)
    for status in ("Open", "Closed"):  # the built-in template's
        seen.setdefault(status, None)
    return list(seen)


def _categories() -> list[str]:
    recovery = set(Rule.objects.filter(kind="recovery").values_list("category", flat=True))
    templates = set(CaseTemplate.objects.values_list("category", flat=True))
    return sorted(recovery | templates | {threshold_rule(0).category})


def _tiers() -> list[str]:
    tiers: set[str] = set()
    for sla in CaseTemplate.objects.values_list("sla", flat=True):
        tiers |= {tier for tier in (sla or {}) if tier != "default"}
    return sorted(tiers)


def root_causes() -> list[str]:
    """Every root cause any template offers, in the order first listed: the bulk close chooses from these."""
    seen: dict[str, None] = {}
    for causes in CaseTemplate.objects.values_list("root_causes", flat=True):
        for cause in causes or DEFAULT_ROOT_CAUSES:
            seen.setdefault(cause, None)
    return list(seen) or list(DEFAULT_ROOT_CAUSES)


def _flag_filter(flag: str, now: datetime) -> Q:
    zone = current_organization().time_zone
    start, end = local_day_bounds(org_today(now), zone)
    return {
        "overdue": Q(state=Case.State.OPEN, due_at__lte=now),
        "due_soon": Q(state=Case.State.OPEN, due_at__gt=now, due_at__lte=now + DUE_SOON),
        "due_today": Q(state=Case.State.OPEN, due_at__gte=start, due_at__lt=end),
        "not_viewed": Q(viewed_at__isnull=True),
        "escalated": Q(escalation_level__gt=0),
        "contacted_today": Q(contacted_at__gte=start, contacted_at__lt=end),
    }[flag]


@dataclass(frozen=True)
class Selection:
    form: CaseFilterForm
    cases: QuerySet[Case]
    sort: str
    order: list[str]


def select_cases(request: HttpRequest, now: datetime) -> Selection:
    """The cases the address asks for, among those the viewer may see; a bad filter selects none and says why."""
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    form = CaseFilterForm(
        request.GET or None,
        units=list(viewer.unit_choices()),
        people=list(people_choices(viewer)),
        statuses=_statuses(),
        categories=_categories(),
        tiers=_tiers(),
        initial={"state": "open"},
    )
    cases = viewer.cases(Case.objects.all())
    state = "open"
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        state = data["state"] or "open"
        unit = form.chosen_unit()
        if unit is not None:
            cases = in_unit_subtree(cases, unit)
        if data["owner"] == NOBODY:
            cases = cases.filter(owner__isnull=True)
        elif data["owner"]:
            cases = cases.filter(owner__key=data["owner"])
        for name in ("severity", "status", "tier"):
            if data[name]:
                cases = cases.filter(**{name: data[name]})
        if data["category"]:
            cases = in_category(cases, data["category"])
        for flag in data["flag"]:
            cases = cases.filter(_flag_filter(flag, now))
        if data["mine"]:
            cases = viewer.team_cases(cases)
        cases = in_date_range(cases, "opened_at", data["date_from"], data["date_to"], current_organization().time_zone)
        cases = search(cases, data["q"])
    elif form.is_bound:
        cases = cases.none()
    if state != "all":
        cases = cases.filter(state=state)
    sort, order = sort_order(request.GET.get("sort", ""), CASE_ORDERS, DEFAULT_SORT)
    return Selection(form=form, cases=case_rows(cases), sort=sort, order=order)


def manages_any(viewer: Viewer) -> bool:
    """Whether the bulk actions are offered: admins, and people who manage at least one case."""
    if viewer.is_admin:
        return True
    return viewer.person is not None and Case.managers.through.objects.filter(person=viewer.person).exists()


@web_view
def case_list(request: HttpRequest) -> HttpResponse:
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    now = timezone.now()
    selection = select_cases(request, now)
    listing: KeysetPage = keyset_page(selection.cases, selection.order, request.GET, CASE_PAGE_SIZE)
    bulk = manages_any(viewer)
    context: dict[str, Any] = {
        "form": selection.form,
        "page": listing,
        "cases": listing.rows,
        "sort": selection.sort,
        "more_fields": [selection.form[name] for name in MORE_FILTERS],
        "more_filters_used": any(request.GET.get(name) for name in (*MORE_FILTERS, "flag", "mine"))
        or bool(selection.form.errors),
        "bulk": bulk,
        "here": request.get_full_path(),
    }
    if bulk:
        context["assign_form"] = BulkAssignForm(people=people_choices(viewer), prefix="assign")
        context["close_form"] = BulkCloseForm(root_causes=root_causes(), prefix="close")
    return page(request, "web/case_list.html", context)


def _chosen_cases(request: HttpRequest) -> list[Case]:
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    ids = [int(value) for value in request.POST.getlist("case") if value.isdigit()]
    cases = viewer.cases(Case.objects.select_related("unit", "owner", "response")).filter(pk__in=ids)
    return list(cases.order_by("id"))


def _report(request: HttpRequest, done: str, count: int, skipped: list[str]) -> None:
    if count:
        messages.success(request, done)
    for reason in skipped:
        messages.error(request, reason)
    if not count and not skipped:
        messages.info(request, "No cases were chosen: tick the cases first.")


@require_POST
@web_view
def bulk_cases(request: HttpRequest) -> HttpResponse:
    """Assign or close the ticked cases, each through the same service as on its own page."""
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    cases = _chosen_cases(request)
    action = request.POST.get("action")
    now = timezone.now()
    skipped: list[str] = []
    done = 0
    allowed = [case for case in cases if viewer.is_admin or is_manager(case, viewer.person)]
    skipped += [
        f"Case #{case.pk}: only its managers and admins may change it." for case in cases if case not in allowed
    ]
    if action == "assign":
        form = BulkAssignForm(request.POST, people=people_choices(viewer), prefix="assign")
        if not form.is_valid():
            messages.error(request, "Choose who to assign the cases to.")
            return back_to(request, "/cases/")
        owner = form.cleaned_data["owner"]
        for case in allowed:
            try:
                do_assign(case, owner=owner, actor=viewer.person, now=now)
            except CaseInputError as exc:
                skipped.append(f"Case #{case.pk}: {exc.message}")
            else:
                done += 1
        _report(request, f"Assigned {_cases(done)} to {owner.name}.", done, skipped)
    elif action == "close":
        close = BulkCloseForm(request.POST, root_causes=root_causes(), prefix="close")
        if not close.is_valid():
            problems = "; ".join(str(error) for errors in close.errors.values() for error in errors)
            messages.error(request, f"Nothing was closed: {problems}")
            return back_to(request, "/cases/")
        data = close.cleaned_data
        for case in allowed:
            if case.state == Case.State.CLOSED:
                skipped.append(f"Case #{case.pk} was already closed.")
                continue
            try:
                change_case_status(
                    case,
                    status=case.closed_status,
                    resolution=data["resolution"],
                    root_cause=data["root_cause"],
                    action_taken=data["action_taken"] or None,
                    actor=viewer.person,
                    now=now,
                )
            except (CaseInputError, CasePermissionDenied) as exc:
                skipped.append(f"Case #{case.pk}: {getattr(exc, 'message', exc)}")
            else:
                done += 1
        _report(request, f"Closed {_cases(done)} as {data['resolution']}.", done, skipped)
    else:
        messages.error(request, "Choose what to do with the ticked cases.")
    return back_to(request, "/cases/")


def _cases(count: int) -> str:
    return "1 case" if count == 1 else f"{count} cases"
