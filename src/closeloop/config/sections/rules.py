"""The `rules` section: detection rules, in file order."""

from __future__ import annotations

from typing import Any

from closeloop.alerts.models import Rule
from closeloop.config.sections.base import Change, Rows, Section
from closeloop.config.validate import Config
from closeloop.feedback.models import Survey


def section(config: Config) -> Section:
    desired = {
        rule.key: {
            "name": rule.name,
            "kind": rule.kind,
            "survey": rule.survey,
            "when": rule.when,
            "category": rule.category,
            "severity": rule.severity,
            "notify": rule.notify.stored(),
            "open_case": rule.open_case or "",
            "position": position,
        }
        for position, rule in enumerate(config.rules)
    }
    fields = ("name", "kind", "when", "category", "severity", "notify", "open_case", "position")

    def read() -> Rows:
        return {
            row.pop("key"): {**row, "survey": row.pop("survey__key")}
            for row in Rule.objects.order_by("pk").values("key", "survey__key", *fields)
        }

    def save(keys: list[str], added: set[str]) -> None:
        surveys = dict(Survey.objects.values_list("key", "pk"))
        for key in keys:
            values = dict(desired[key])
            survey = values.pop("survey")
            Rule.objects.update_or_create(key=key, defaults={**values, "survey_id": surveys.get(survey)})

    def remove(keys: list[str]) -> list[Change]:
        return [Change("rules", key, "removed") for key in keys]

    def delete(changes: list[Change]) -> None:
        # Alerts keep the rule's key, so deleting the rule loses no history.
        Rule.objects.filter(key__in=[change.key for change in changes]).delete()

    return Section("rules", desired, read, save, remove, delete)


def export() -> list[dict[str, Any]]:
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
