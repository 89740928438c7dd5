"""A read-only snapshot of the configuration an ingest batch needs, loaded once per batch."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from closeloop.core.answers import QuestionSpec
from closeloop.feedback.models import Survey
from closeloop.org.models import Organization, Person, Segment, Unit


@dataclass
class SurveyInfo:
    survey: Survey
    questions: dict[str, QuestionSpec]


@dataclass
class Catalog:
    organization: Organization
    surveys: dict[str, SurveyInfo]
    segments: frozenset[str]
    units: dict[str, Unit] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Catalog:
        surveys: dict[str, SurveyInfo] = {}
        for survey in Survey.objects.filter(active=True).prefetch_related("questions"):
            specs = {
                q.key: QuestionSpec(
                    key=q.key, type=q.type, min=q.min, max=q.max, options=tuple(q.options or ()), label=q.label
                )
                for q in survey.questions.all()
            }
            surveys[survey.key] = SurveyInfo(survey, specs)
        return cls(
            organization=Organization.current(),
            surveys=surveys,
            segments=frozenset(Segment.objects.values_list("code", flat=True)),
        )

    def load_units(self, codes: Iterable[str]) -> None:
        missing = {c for c in codes if c and c not in self.units}
        if missing:
            self.units.update({u.code: u for u in Unit.objects.filter(code__in=missing)})

    def load_people(self, keys: Iterable[str]) -> None:
        missing = {k for k in keys if k and k not in self.people}
        if missing:
            self.people.update({p.key: p for p in Person.objects.filter(key__in=missing)})

    def placement_problems(self, unit: str | None, segment: str | None) -> list[str]:
        """Why a response with this unit and segment cannot be routed (it is then quarantined)."""
        problems = []
        if not unit:
            problems.append("unit: missing; the response cannot be routed until a unit is set")
        elif unit not in self.units:
            problems.append(f"unit: unknown unit {unit!r}")
        if self.segments:
            if not segment:
                problems.append("segment: missing; one of " + ", ".join(sorted(self.segments)) + " is required")
            elif segment not in self.segments:
                problems.append(f"segment: unknown segment {segment!r}")
        return problems
