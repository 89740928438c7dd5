"""The `surveys` section with their questions; surveys with responses are deactivated, not deleted."""

from __future__ import annotations

from typing import Any

from closeloop.config.sections.base import Change, Rows, Section, number_out, rows_with_history
from closeloop.config.validate import Config
from closeloop.feedback.models import Question, Survey


def section(config: Config) -> Section:
    desired: Rows = {
        entry.spec.key: {
            "name": entry.spec.name,
            "overall": entry.spec.overall or "",
            "recovery_threshold": entry.spec.recovery_threshold,
            "position": position,
            "active": True,
            "questions": [
                {
                    "key": q.key,
                    "type": q.type,
                    "label": q.label,
                    "min": q.min,
                    "max": q.max,
                    "options": list(q.options),
                }
                for q in entry.questions
            ],
        }
        for position, entry in enumerate(config.surveys)
    }
    question_fields = ("key", "type", "label", "min", "max", "options")

    def read() -> Rows:
        questions: dict[int, list[dict[str, Any]]] = {}
        for row in Question.objects.order_by("survey_id", "position", "pk").values("survey_id", *question_fields):
            questions.setdefault(row.pop("survey_id"), []).append(row)
        return {
            survey.key: {
                "name": survey.name,
                "overall": survey.overall,
                "recovery_threshold": survey.recovery_threshold,
                "position": survey.position,
                "active": survey.active,
                "questions": questions.get(survey.pk, []),
            }
            for survey in Survey.objects.order_by("pk")
        }

    def remove(keys: list[str]) -> list[Change]:
        rows = {key: (pk, active) for key, pk, active in Survey.objects.values_list("key", "pk", "active")}
        history = rows_with_history(Survey, [rows[key][0] for key in keys])
        changes = []
        for key in keys:
            pk, active = rows[key]
            if pk not in history:
                changes.append(Change("surveys", key, "removed"))
            elif active:
                changes.append(Change("surveys", key, "deactivated", reason=f"has {history[pk]}"))
        return changes

    def save(keys: list[str], added: set[str]) -> None:
        # Surveys are few and small: one at a time, questions upserted by key.
        for key in keys:
            values = desired[key]
            survey, _ = Survey.objects.update_or_create(
                key=key,
                defaults={
                    name: values[name] for name in ("name", "overall", "recovery_threshold", "position", "active")
                },
            )
            survey.questions.exclude(key__in=[q["key"] for q in values["questions"]]).delete()
            for position, question in enumerate(values["questions"]):
                Question.objects.update_or_create(
                    survey=survey, key=question["key"], defaults={**question, "position": position}
                )

    def delete(changes: list[Change]) -> None:
        for change in changes:
            surveys = Survey.objects.filter(key=change.key)
            if change.action == "deactivated":
                surveys.update(active=False)
            else:
                surveys.delete()

    return Section("surveys", desired, read, save, remove, delete)


def export() -> list[dict[str, Any]]:
    surveys = []
    for survey in Survey.objects.filter(active=True).prefetch_related("questions").order_by("position", "key"):
        data: dict[str, Any] = {"key": survey.key, "name": survey.name}
        if survey.overall:
            data["overall"] = survey.overall
        if survey.recovery_threshold is not None:
            data["recovery_threshold"] = number_out(survey.recovery_threshold)
        data["questions"] = []
        for question in survey.questions.all():
            entry: dict[str, Any] = {"key": question.key, "type": question.type}
            if question.type == "scale" and question.min is not None and question.max is not None:
                entry["min"] = number_out(question.min)
                entry["max"] = number_out(question.max)
            if question.options:
                entry["options"] = list(question.options)
            if question.label:
                entry["label"] = question.label
            data["questions"].append(entry)
        surveys.append(data)
    return surveys
