"""What an ingest batch needs to know about the configuration, from the shared snapshot."""

from __future__ import annotations

from dataclasses import dataclass

from closeloop.core.answers import QuestionSpec
from closeloop.feedback.models import Survey
from closeloop.org.models import Organization, Person, Unit


@dataclass(frozen=True)
class SurveyInfo:
    survey: Survey
    questions: dict[str, QuestionSpec]


@dataclass(frozen=True)
class Catalog:
    organization: Organization
    surveys: dict[str, SurveyInfo]
    segments: frozenset[str]
    units: dict[str, Unit]
    people: dict[str, Person]

    @classmethod
    def load(cls) -> Catalog:
        from closeloop.org.snapshot import current

        snapshot = current()
        return cls(
            organization=snapshot.organization,
            surveys=snapshot.surveys,
            segments=snapshot.segments,
            units=snapshot.units,
            people=snapshot.people,
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
