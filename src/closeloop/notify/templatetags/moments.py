"""`{{ instant|moment:unit }}`: an instant as people read it, in a unit's time zone ("Thu 3 Dec, 17:00 CET").

Every message and report writes times through this filter or `closeloop.core.moments` directly, never
as raw ISO timestamps.
"""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

from closeloop.core.moments import format_moment
from closeloop.org.directory import directory
from closeloop.org.models import Unit

register = template.Library()


def zone_for(where: Unit | str | None) -> str:
    """A unit's time zone (inherited up the tree), a zone given by name, or the organisation's."""
    if isinstance(where, str) and where:
        return where
    return directory().time_zone_of(where if isinstance(where, Unit) else None)


@register.filter
def moment(value: datetime | None, where: Unit | str | None = None) -> str:
    if value is None:
        return ""
    return format_moment(value, zone_for(where), now=timezone.now())
