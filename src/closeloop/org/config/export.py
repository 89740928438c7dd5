"""Write the stored configuration back out as YAML that `config apply` accepts unchanged.

Only what the file can say is written: deactivated people and surveys are left out (they
are history, not configuration), and optional keys at their default are omitted so the
output reads like a hand-written file.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Any

import yaml

from closeloop.alerts.models import Rule
from closeloop.cases.models import CaseTemplate, EscalationPolicy
from closeloop.core.durations import format_duration
from closeloop.feedback.models import Survey
from closeloop.notify.models import WebhookEndpoint
from closeloop.org.models import Calendar, Organization, Person, Role, Segment, Unit
from closeloop.reports.models import Digest


def export_config() -> str:
    """The current configuration as YAML, sections in the contract's order."""
    document: dict[str, Any] = {
        "organization": _organization(),
        "units": _units(),
        "segments": list(Segment.objects.order_by("position", "code").values_list("code", flat=True)),
        "people": _people(),
        "surveys": _surveys(),
        "rules": _rules(),
        "case_templates": _case_templates(),
        "escalation_policies": _escalation_policies(),
        "digests": _digests(),
        "follow_up": _follow_up(),
        "webhooks": _webhooks(),
    }
    document = {name: value for name, value in document.items() if value or name in ("organization", "units")}
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


class _Dumper(yaml.SafeDumper):
    """Short lists of words on one line, and clock times in quotes, as a person would write them."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flat = all(isinstance(item, str | int | float | bool) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flat and bool(data))


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    # "08:30" unquoted is a base-60 number to YAML 1.1 readers; quoting keeps it a time everywhere.
    style = '"' if re.fullmatch(r"\d{1,2}:\d{2}", data) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(str, _represent_str)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _clock(value: time) -> str:
    return value.strftime("%H:%M")


def _duration(value: timedelta | int) -> str:
    return format_duration(value)


def _organization() -> dict[str, Any]:
    org = Organization.load()
    data: dict[str, Any] = {"name": org.name, "time_zone": org.time_zone}
    if org.ticket_url:
        data["ticket_url"] = org.ticket_url
    data["recovery_threshold"] = _number(org.recovery_threshold)
    data["repeat_window"] = _duration(org.repeat_window)
    if org.segment_required:
        data["segment_required"] = True
    if org.threshold_unless != "any_rule":
        data["threshold_unless"] = org.threshold_unless
    calendars = {}
    for calendar in Calendar.objects.order_by("pk"):
        entry: dict[str, Any] = {
            "days": list(calendar.days),
            "start": _clock(calendar.start),
            "end": _clock(calendar.end),
        }
        if calendar.holidays:
            entry["holidays"] = calendar.holidays
        calendars[calendar.key] = entry
    if calendars:
        data["calendars"] = calendars
    return data


def _units() -> list[dict[str, Any]]:
    units = list(Unit.objects.select_related("calendar").order_by("depth", "position", "code"))
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)

    def node(unit: Unit) -> dict[str, Any]:
        data: dict[str, Any] = {"code": unit.code, "name": unit.name}
        if unit.time_zone:
            data["time_zone"] = unit.time_zone
        if unit.calendar is not None:
            data["calendar"] = unit.calendar.key
        below = children.get(unit.pk, [])
        if below:
            data["children"] = [node(child) for child in below]
        return data

    return [node(root) for root in children.get(None, [])]


def _people() -> list[dict[str, Any]]:
    # One query for every role rather than a prefetch: SQLite refuses an IN list of thousands of ids.
    roles: dict[int, list[tuple[str, str, str]]] = {}
    for person_id, path, code, role in Role.objects.values_list("person_id", "unit__path", "unit__code", "role"):
        roles.setdefault(person_id, []).append((path, role, code))
    people = []
    for person in Person.objects.filter(active=True).order_by("pk"):
        data: dict[str, Any] = {"id": person.key, "name": person.name}
        for key, value in (("email", person.email), ("phone", person.phone), ("chat", person.chat_url)):
            if value:
                data[key] = value
        if person.login:
            data["login"] = True
        if person.pk in roles:
            data["roles"] = [{"unit": code, "role": role} for _, role, code in sorted(roles[person.pk])]
        people.append(data)
    return people


def _surveys() -> list[dict[str, Any]]:
    surveys = []
    for survey in Survey.objects.filter(active=True).prefetch_related("questions").order_by("position", "key"):
        data: dict[str, Any] = {"key": survey.key, "name": survey.name}
        if survey.overall:
            data["overall"] = survey.overall
        data["questions"] = []
        for question in survey.questions.all():
            entry: dict[str, Any] = {"key": question.key, "type": question.type}
            if question.type == "scale" and question.min is not None and question.max is not None:
                entry["min"] = _number(question.min)
                entry["max"] = _number(question.max)
            if question.options:
                entry["options"] = list(question.options)
            if question.label:
                entry["label"] = question.label
            data["questions"].append(entry)
        surveys.append(data)
    return surveys


def _rules() -> list[dict[str, Any]]:
    rules = []
    for rule in Rule.objects.select_related("survey").order_by("position", "key"):
        data: dict[str, Any] = {"key": rule.key, "name": rule.name, "kind": rule.kind}
        if rule.survey is not None:
            data["survey"] = rule.survey.key
        data |= {"when": rule.when, "category": rule.category, "severity": rule.severity, "notify": rule.notify}
        if rule.open_case:
            data["open_case"] = rule.open_case
        rules.append(data)
    return rules


def _case_templates() -> list[dict[str, Any]]:
    templates = []
    for template in CaseTemplate.objects.order_by("pk"):
        data: dict[str, Any] = {
            "key": template.key,
            "category": template.category,
            "statuses": list(template.statuses),
            "team": template.team,
        }
        if template.sla:
            data["sla"] = {
                tier: {"severity": goal["severity"], "closure_goal": _duration(goal["closure_goal"])}
                for tier, goal in template.sla.items()
            }
        if template.calendar:
            data["calendar"] = template.calendar
        if template.notify_on:
            data["notify_on"] = list(template.notify_on)
        if template.escalation:
            data["escalation"] = template.escalation
        templates.append(data)
    return templates


def _escalation_policies() -> list[dict[str, Any]]:
    policies = []
    for policy in EscalationPolicy.objects.order_by("pk"):
        steps = []
        for step in policy.steps:
            entry: dict[str, Any] = {"when": step["when"]}
            if step.get("after") is not None:
                entry["after"] = _duration(step["after"])
            entry["notify"] = step["notify"]
            steps.append(entry)
        policies.append({"key": policy.key, "steps": steps})
    return policies


def _digests() -> list[dict[str, Any]]:
    return [
        {
            "key": digest.key,
            "units": list(digest.units),
            "at": _clock(digest.at),
            "window": _duration(digest.window),
            "to": list(digest.to),
            "sms": digest.sms,
            "email_pdf": digest.email_pdf,
            "weekend_sms": digest.weekend_sms,
            "when_empty": digest.when_empty,
        }
        for digest in Digest.objects.order_by("pk")
    ]


def _follow_up() -> dict[str, Any] | None:
    org = Organization.load()
    if not org.follow_up_survey or org.follow_up_after is None:
        return None
    return {"after_close": _duration(org.follow_up_after), "survey": org.follow_up_survey}


def _webhooks() -> list[dict[str, Any]]:
    hooks = []
    for hook in WebhookEndpoint.objects.order_by("pk"):
        data: dict[str, Any] = {"key": hook.key, "url": hook.url, "secret": hook.secret}
        if hook.kinds:
            data["kinds"] = list(hook.kinds)
        if hook.units:
            data["units"] = list(hook.units)
        hooks.append(data)
    return hooks
