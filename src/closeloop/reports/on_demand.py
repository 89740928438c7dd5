"""The Service Recovery Report of one unit for one date, outside the schedule (the PDF URL and
`closeloop digest`).

With a digest for the unit, `date` names a digest run: the report covers that run's window (the 24 hours
before that date's `at`). A run that already happened is shown exactly as it was sent; a future or
missed one shows what it would report now. A unit without a digest gets its local calendar day.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from closeloop.core.schedule import digest_window, run_instant
from closeloop.feedback.models import Response
from closeloop.feedback.queries import local_day_bounds
from closeloop.org.directory import current_organization, directory
from closeloop.org.models import Unit
from closeloop.reports.digests import responses_for_run
from closeloop.reports.models import Digest, DigestRun
from closeloop.reports.service_report import ServiceRecoveryReport, build_report


def digest_for_unit(unit: Unit) -> Digest | None:
    """The unit's digest (the first by key when several name it)."""
    return next((d for d in Digest.objects.order_by("key") if unit.code in (d.units or [])), None)


def report_for_day(unit: Unit, day: date, *, recipient: str = "", with_notes: bool = True) -> ServiceRecoveryReport:
    time_zone = directory().time_zone_of(unit)
    digest = digest_for_unit(unit)
    if digest is None:
        window = local_day_bounds(day, time_zone)
        responses = list(
            Response.objects.filter(
                unit__path__startswith=unit.path,
                status=Response.Status.VALID,
                superseded_by__isnull=True,
                needs_recovery=True,
                submitted_at__gte=window[0],
                submitted_at__lt=window[1],
            )
            .select_related("survey", "unit", "agent", "customer")
            .order_by("submitted_at", "id")
        )
        return build_report(
            unit,
            responses,
            window=window,
            time_zone=time_zone,
            recipient=recipient,
            notes_day=day,
            with_notes=with_notes,
        )
    run_at = run_instant(day, digest.at, time_zone)
    run = DigestRun.objects.filter(digest=digest, unit=unit, run_at=run_at).first()
    if run is not None:
        window = (run.window_start, run.window_end)
        responses = list(
            Response.objects.filter(digest_items__run=run)
            .select_related("survey", "unit", "agent", "customer")
            .order_by("submitted_at", "id")
        )
    else:
        window = digest_window(run_at, digest.window, time_zone)
        responses = list(responses_for_run(digest, unit, window))
    notes_day = window[0].astimezone(ZoneInfo(current_organization().time_zone)).date()
    return build_report(
        unit,
        responses,
        window=window,
        time_zone=time_zone,
        recipient=recipient,
        notes_day=notes_day,
        with_notes=with_notes,
    )
