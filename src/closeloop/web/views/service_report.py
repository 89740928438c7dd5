"""`GET /reports/service-recovery.pdf?unit=CODE&date=YYYY-MM-DD[&srn=n]`: the Service Recovery Report as a PDF
(`srn=n`: without the notes written so far).

`unit` may be given more than once: one report with a section per unit, as a digest sends a person who is
responsible for several.

For a logged-in user who may see the unit, or for a bearer token with the `read` scope (integrators fetch
the same file the digest email attaches). Errors use the API's body: `{"detail", "errors": [{loc, msg}]}`.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from closeloop.audit.log import record_view
from closeloop.core.limits import parse_day
from closeloop.core.vocabulary import shows_notes
from closeloop.org.directory import directory
from closeloop.org.models import Unit
from closeloop.reports.on_demand import report_for_day
from closeloop.reports.service_report import combine_reports, render_pdf
from closeloop.web.permissions import Reader, reader_for


def _error(status: int, detail: str, field: str | None = None) -> JsonResponse:
    body: dict[str, Any] = {"detail": detail}
    if field:
        body["errors"] = [{"loc": ["query", field], "msg": detail}]
    return JsonResponse(body, status=status)


@require_GET
def service_recovery_pdf(request: HttpRequest) -> HttpResponse:
    reader = reader_for(request)
    if not isinstance(reader, Reader):
        return reader
    units, recipient = reader.units, reader.name

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
    raw_date = request.GET.get("date", "").strip()
    if raw_date:
        try:
            day = parse_day(raw_date)
        except ValueError as exc:
            return _error(400, f"date: {exc}", "date")
    else:
        day = timezone.now().astimezone(ZoneInfo(directory().time_zone_of(chosen[0]))).date()
    srn = request.GET.get("srn", "y").strip() or "y"
    if srn not in ("y", "n"):
        return _error(400, f"srn: {srn!r} is not y (with the notes written so far) or n (without them)", "srn")
    reports = [report_for_day(one, day, recipient=recipient, with_notes=shows_notes(srn)) for one in chosen]
    report = (
        reports[0] if len(reports) == 1 else combine_reports(reports, recipient=recipient, period=reports[0].period)
    )
    names = "+".join(one.code for one in chosen)
    pdf = render_pdf(report)
    record_view(
        f"report:{names}:{day.isoformat()}",
        now=timezone.now(),
        actor=reader.person,
        actor_name=reader.actor_name,
        surface="pdf",
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="service-recovery-{names}-{day.isoformat()}.pdf"'
    # Customer data: never kept by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response
