"""The `organization` section (with its calendars) and `follow_up`, which the organisation row stores."""

from __future__ import annotations

from typing import Any

from closeloop.config.sections.base import Rows, Section, clock, clock_out, duration_out, keyed, number_out
from closeloop.config.validate import Config
from closeloop.core.durations import parse_duration
from closeloop.org.models import Calendar, Organization

ORGANIZATION_KEY = "organization"


def section(config: Config) -> Section:
    spec = config.organization
    follow_up = config.follow_up
    desired = {
        ORGANIZATION_KEY: {
            "name": spec.name,
            "time_zone": spec.time_zone,
            "ticket_url": spec.ticket_url,
            "recovery_threshold": spec.recovery_threshold,
            "repeat_window": parse_duration(spec.repeat_window),
            "alert_max_age": parse_duration(spec.alert_max_age),
            "alert_max_age_for": spec.alert_max_age_for,
            "segment_required": spec.segment_required,
            "threshold_unless": spec.threshold_unless,
            "audio_hosts": list(dict.fromkeys(spec.audio_hosts)),
            "follow_up_after": parse_duration(follow_up.after_close) if follow_up else None,
            "follow_up_survey": follow_up.survey if follow_up else "",
        }
    }
    fields = list(desired[ORGANIZATION_KEY])

    def read() -> Rows:
        row = Organization.objects.filter(pk=1).values(*fields).first()
        return {ORGANIZATION_KEY: row} if row else {}

    def save(keys: list[str], added: set[str]) -> None:
        Organization.objects.update_or_create(pk=1, defaults=desired[ORGANIZATION_KEY])

    # The organisation is always in the file, so there is never anything to remove.
    return Section("organization", desired, read, save, lambda keys: [], lambda changes: None)


def calendars_section(config: Config) -> Section:
    return keyed(
        "calendars",
        Calendar,
        {
            name: {
                "days": list(spec.days),
                "start": clock(spec.start),
                "end": clock(spec.end),
                "holidays": spec.holidays or "",
            }
            for name, spec in config.organization.calendars.items()
        },
    )


def export() -> dict[str, Any]:
    org = Organization.load()
    data: dict[str, Any] = {"name": org.name, "time_zone": org.time_zone}
    if org.ticket_url:
        data["ticket_url"] = org.ticket_url
    data["recovery_threshold"] = number_out(org.recovery_threshold)
    data["repeat_window"] = duration_out(org.repeat_window)
    data["alert_max_age"] = duration_out(org.alert_max_age)
    if org.alert_max_age_for != "files":
        data["alert_max_age_for"] = org.alert_max_age_for
    if org.segment_required:
        data["segment_required"] = True
    if org.threshold_unless != "any_rule":
        data["threshold_unless"] = org.threshold_unless
    if org.audio_hosts:
        data["audio_hosts"] = list(org.audio_hosts)
    calendars = {}
    for calendar in Calendar.objects.order_by("pk"):
        entry: dict[str, Any] = {
            "days": list(calendar.days),
            "start": clock_out(calendar.start),
            "end": clock_out(calendar.end),
        }
        if calendar.holidays:
            entry["holidays"] = calendar.holidays
        calendars[calendar.key] = entry
    if calendars:
        data["calendars"] = calendars
    return data


def export_follow_up() -> dict[str, Any] | None:
    org = Organization.load()
    if not org.follow_up_survey or org.follow_up_after is None:
        return None
    return {"after_close": duration_out(org.follow_up_after), "survey": org.follow_up_survey}
