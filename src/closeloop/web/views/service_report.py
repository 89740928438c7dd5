"""`GET /reports/service-recovery.pdf?unit=CODE&date=YYYY-MM-DD`: the Service Recovery Report as a PDF.

`unit` may be given more than once: one report with a section per unit, as a digest sends a person who is
responsible for several.

For a logged-in user who may see the unit, or for a bearer token with the `read` scope (integrators fetch
the same file the digest email attaches). Errors use the API's body: `{"detail", "errors": [{loc, msg}]}`.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from django.contrib.auth.views import redirect_to_login
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from closeloop.api.auth import find_active_token, note_token_use
from closeloop.feedback.queries import visible_units
from closeloop.org.directory import directory
from closeloop.org.models import Unit
from closeloop.reports.on_demand import report_for_day
from closeloop.reports.service_report import combine_reports, render_pdf
from closeloop.web.permissions import viewer_for


def _error(status: int, detail: str, field: str | None = None) -> JsonResponse:
    body: dict = {"detail": detail}
    if field:
        body["errors"] = [{"loc": ["query", field], "msg": detail}]
    return JsonResponse(body, status=status)


@require_GET
def service_recovery_pdf(request: HttpRequest) -> HttpResponse:
    header = request.headers.get("Authorization", "")
    units: QuerySet[Unit] | None
    if header:
        scheme, _, secret = header.partition(" ")
        token = find_active_token(secret.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            return _error(401, "Missing or unknown token.")
        note_token_use(token)
        if "read" not in token.scopes:
            return _error(403, "This token lacks the `read` scope needed here.")
        units, recipient = visible_units(token.person), token.person.name if token.person else ""
    elif request.user.is_authenticated:
        viewer = viewer_for(request)
        units, recipient = viewer.units, viewer.name
    else:
        return redirect_to_login(request.get_full_path())

    codes = list(dict.fromkeys(code.strip() for code in request.GET.getlist("unit") if code.strip()))
    if not codes:
        return _error(400, "unit: give the unit's code, e.g. ?unit=SUP-EMEA&date=2026-11-23", "unit")
    found = {unit.code: unit for unit in Unit.objects.filter(code__in=codes)}
    chosen: list[Unit] = []
    for code in codes:
        unit = found.get(code)
        # A unit the caller may not see reads as unknown, so the URL reveals nothing about it.
        if unit is None or (units is not None and not units.filter(pk=unit.pk).exists()):
            return _error(404, f"No unit {code!r}.")
        chosen.append(unit)
    unit = chosen[0]
    raw_date = request.GET.get("date", "").strip()
    if raw_date:
        try:
            day = date.fromisoformat(raw_date)
        except ValueError:
            return _error(400, f"date: {raw_date!r} is not a date; write it as YYYY-MM-DD", "date")
    else:
        day = timezone.now().astimezone(ZoneInfo(directory().time_zone_of(unit))).date()
    reports = [report_for_day(one, day, recipient=recipient) for one in chosen]
    report = (
        reports[0] if len(reports) == 1 else combine_reports(reports, recipient=recipient, period=reports[0].period)
    )
    response = HttpResponse(render_pdf(report), content_type="application/pdf")
    names = "+".join(one.code for one in chosen)
    response["Content-Disposition"] = f'inline; filename="service-recovery-{names}-{day.isoformat()}.pdf"'
    # Customer data: never kept by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response
