"""Read queries over responses, shared by the API, the UI and reports.

Visibility: a person sees the units where they hold any role, with everything below
them; an `admin` role anywhere shows everything. `None` from `visible_units` means
"no restriction", which is also what a service token (no person) gets.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import reduce
from operator import or_
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet

from closeloop.feedback.models import Response
from closeloop.org.models import Person, Role, Unit

# Service-recovery-needed filters of the contract: all, needing recovery, needing recovery
# without any note, with notes, with notes none of which spoke to the customer, with a note that did.


def visible_units(person: Person | None) -> QuerySet[Unit] | None:
    """The units `person` may see, or None when nothing is hidden (no person, or an admin)."""
    if person is None:
        return None
    roles = list(Role.objects.filter(person=person).select_related("unit"))
    if any(role.role == Role.Kind.ADMIN for role in roles):
        return None
    paths = sorted({role.unit.path for role in roles})
    if not paths:
        return Unit.objects.none()
    return Unit.objects.filter(reduce(or_, (Q(path__startswith=path) for path in paths)))


def restrict_to_visible(queryset: QuerySet[Response], person: Person | None) -> QuerySet[Response]:
    """Only the responses of units `person` may see; a response without a unit is seen by unrestricted callers only."""
    units = visible_units(person)
    if units is None:
        return queryset
    return queryset.filter(unit__in=units)


def in_unit_subtree(queryset: QuerySet[Response], unit: Unit) -> QuerySet[Response]:
    return queryset.filter(unit__path__startswith=unit.path)


def local_day_bounds(day: date, time_zone: str) -> tuple[datetime, datetime]:
    """Start (inclusive) and end (exclusive) of a calendar day in a time zone, as aware datetimes.

    Computed from both midnights rather than start + 24 h, so days with a DST change are 23 or 25 hours.
    """
    zone = ZoneInfo(time_zone)
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def submitted_on(queryset: QuerySet[Response], day: date, time_zone: str) -> QuerySet[Response]:
    start, end = local_day_bounds(day, time_zone)
    return queryset.filter(submitted_at__gte=start, submitted_at__lt=end)


def count_by_status() -> dict[str, int]:
    """Every stored response by status (valid, invalid): the ingestion counter of /metrics."""
    return dict(Response.objects.order_by().values_list("status").annotate(count=Count("id")))
