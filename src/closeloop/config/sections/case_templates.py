"""The `case_templates` section."""

from __future__ import annotations

from typing import Any

from closeloop.cases.models import CaseTemplate
from closeloop.config.sections.base import Section, duration_out, keyed, seconds
from closeloop.config.validate import Config
from closeloop.core.vocabulary import DEFAULT_ROOT_CAUSES


def section(config: Config) -> Section:
    return keyed(
        "case_templates",
        CaseTemplate,
        {
            template.key: {
                "category": template.category,
                "statuses": template.status_names,
                "contacted_statuses": template.contacted_statuses,
                "root_causes": list(template.root_causes),
                "team": {"managers": list(template.team.managers), "members": list(template.team.members)},
                "sla": {
                    tier: {"severity": goal.severity, "closure_goal": seconds(goal.closure_goal)}
                    for tier, goal in template.sla.items()
                },
                "calendar": template.calendar or "",
                "notify_on": list(template.notify_on),
                "escalation": template.escalation or "",
                "auto_close_on_recovered": template.auto_close_on_recovered,
            }
            for template in config.case_templates
        },
    )


def export() -> list[dict[str, Any]]:
    templates = []
    for template in CaseTemplate.objects.order_by("pk"):
        data: dict[str, Any] = {
            "key": template.key,
            "category": template.category,
            "statuses": [
                {"name": name, "contacted": True} if name in (template.contacted_statuses or ()) else name
                for name in template.statuses
            ],
            # Written out even at the default, so the list people choose from when closing is in view.
            "root_causes": list(template.root_causes or DEFAULT_ROOT_CAUSES),
            "team": template.team,
        }
        if template.sla:
            data["sla"] = {
                tier: {"severity": goal["severity"], "closure_goal": duration_out(goal["closure_goal"])}
                for tier, goal in template.sla.items()
            }
        if template.calendar:
            data["calendar"] = template.calendar
        if template.notify_on:
            data["notify_on"] = list(template.notify_on)
        if template.escalation:
            data["escalation"] = template.escalation
        if template.auto_close_on_recovered:
            data["auto_close_on_recovered"] = True
        templates.append(data)
    return templates
