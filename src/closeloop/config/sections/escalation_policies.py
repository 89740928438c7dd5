"""The `escalation_policies` section."""

from __future__ import annotations

from typing import Any

from closeloop.cases.models import EscalationPolicy
from closeloop.config.sections.base import Section, duration_out, keyed, seconds
from closeloop.config.validate import Config


def section(config: Config) -> Section:
    return keyed(
        "escalation_policies",
        EscalationPolicy,
        {
            policy.key: {
                "steps": [
                    {"when": step.when, "notify": list(step.notify)}
                    | ({"after": seconds(step.after)} if step.after is not None else {})
                    for step in policy.steps
                ]
            }
            for policy in config.escalation_policies
        },
    )


def export() -> list[dict[str, Any]]:
    policies = []
    for policy in EscalationPolicy.objects.order_by("pk"):
        steps = []
        for step in policy.steps:
            entry: dict[str, Any] = {"when": step["when"]}
            if step.get("after") is not None:
                entry["after"] = duration_out(step["after"])
            entry["notify"] = step["notify"]
            steps.append(entry)
        policies.append({"key": policy.key, "steps": steps})
    return policies
