"""What an ingest batch needs to know about the configuration: surveys with their questions, segments,
and the organisation's units and people, from the per-process configuration views."""

from __future__ import annotations

from dataclasses import dataclass

from closeloop.core.answers import QuestionSpec
from closeloop.core.detection import survey_threshold
from closeloop.feedback.models import Survey
from closeloop.org.directory import directory
from closeloop.org.models import Organization, Person, Segment, Unit
from closeloop.org.stamp import cached_view, stored_token


@dataclass(frozen=True)
class SurveyInfo:
    survey: Survey
    questions: dict[str, QuestionSpec]

    def recovery_threshold(self, organization_threshold: float) -> float:
        """The threshold in this survey's own scale: its own, or the organisation's converted onto it."""
        overall = self.questions.get(self.survey.overall) if self.survey.overall else None
        low, high = (
            (None, None) if overall is None else ((0.0, 10.0) if overall.type == "nps" else (overall.min, overall.max))
        )
        return survey_threshold(
            organization_threshold, own_threshold=self.survey.recovery_threshold, scale_min=low, scale_max=high
        )


@dataclass(frozen=True)
class Catalog:
    organization: Organization
    surveys: dict[str, SurveyInfo]
    segments: frozenset[str]
    units: dict[str, Unit]
    people: dict[str, Person]

    @classmethod
    def load(cls, token: str | None = None) -> Catalog:
        """The catalog for the configuration as stored now (shared and read-only)."""
        token = stored_token() if token is None else token
        org = directory(token)
        surveys, segments = cached_view("feedback.surveys", _build_surveys, token)
        return cls(
            organization=org.organization, surveys=surveys, segments=segments, units=org.units, people=org.people
        )

    def placement_problems(self, unit: str | None, segment: str | None) -> list[str]:
        """Why a response with this unit and segment cannot be routed (it is then quarantined)."""
        problems = []
        if not unit:
            problems.append("unit: missing; the response cannot be routed until a unit is set")
        elif unit not in self.units:
            problems.append(f"unit: unknown unit {unit!r}")
        if self.segments:
            # The contract makes only an unknown segment invalid; a missing one is fine unless
            # the organisation asked for it (organization.segment_required).
            if not segment:
                if self.organization.segment_required:
                    problems.append("segment: missing; one of " + ", ".join(sorted(self.segments)) + " is required")
            elif segment not in self.segments:
                problems.append(f"segment: unknown segment {segment!r}")
        return problems


def _build_surveys() -> tuple[dict[str, SurveyInfo], frozenset[str]]:
    surveys = {}
    for survey in Survey.objects.filter(active=True).prefetch_related("questions"):
        specs = {
            q.key: QuestionSpec(
                key=q.key, type=q.type, min=q.min, max=q.max, options=tuple(q.options or ()), label=q.label
            )
            for q in survey.questions.all()
        }
        surveys[survey.key] = SurveyInfo(survey, specs)
    return surveys, frozenset(Segment.objects.values_list("code", flat=True))
