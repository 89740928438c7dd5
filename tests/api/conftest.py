"""An organisation built with the ORM, and a typical response body."""

from __future__ import annotations

from typing import Any

import pytest

from closeloop.feedback.models import Question, Survey
from closeloop.org.models import Organization, Person, Role, Segment, Unit
from tests import factories
from tests.helpers import ApiClient, create_token

__all__ = ["ApiClient", "create_token"]


def make_unit(code: str, parent: Unit | None = None) -> Unit:
    path = f"{parent.path if parent else '/'}{code}/"
    return Unit.objects.create(code=code, name=code.title(), parent=parent, path=path, depth=path.count("/") - 2)


@pytest.fixture
def org(db: None) -> dict[str, Any]:
    """ACME > (SUP-EMEA > SUP-UK, SUP-AMER); people: erin leads SUP-EMEA, amy is an admin, nora has no role."""
    Organization.objects.create(
        pk=1, name="Acme", time_zone="America/New_York", ticket_url="https://support.example/t/{ticket}"
    )
    acme = make_unit("ACME")
    emea = make_unit("SUP-EMEA", acme)
    uk = make_unit("SUP-UK", emea)
    amer = make_unit("SUP-AMER", acme)
    for position, code in enumerate(["SMB", "ENT"]):
        Segment.objects.create(code=code, position=position)
    erin = Person.objects.create(key="erin", name="Erin Diaz", email="erin@example.com")
    amy = Person.objects.create(key="amy", name="Amy Admin", email="amy@example.com")
    nora = Person.objects.create(key="nora", name="Nora None")
    Role.objects.create(person=erin, unit=emea, role=Role.Kind.LEAD)
    Role.objects.create(person=amy, unit=amer, role=Role.Kind.ADMIN)
    survey = Survey.objects.create(key="upgrade-install", name="Upgrade installation", overall="ease")
    Question.objects.create(survey=survey, key="ease", type="scale", min=1, max=10, position=0)
    Question.objects.create(survey=survey, key="completed", type="yes_no", position=1)
    Question.objects.create(survey=survey, key="comment", type="text", position=2)
    return {
        "units": {"ACME": acme, "SUP-EMEA": emea, "SUP-UK": uk, "SUP-AMER": amer},
        "people": {"erin": erin, "amy": amy, "nora": nora},
        "survey": survey,
    }


def response_body(**overrides: Any) -> dict[str, Any]:
    """One known response, as a survey tool posts it with everything the contract allows (`overrides` replace
    top-level fields)."""
    fields: dict[str, Any] = {
        "answers": {"ease": 3, "completed": False, "comment": "It failed twice."},
        "external_id": "sm-88213",
        "submitted_at": "2026-11-23T10:04:00Z",
        "agent": "erin",
        "ticket": "T-1001",
        "customer": {
            "id": "C-77",
            "name": "Pat Lee",
            "email": "pat@example.com",
            "phone": "+15555550123",
            "tier": "Gold",
            "contact_ok": True,
        },
        "interviewer_notes": "Sounded close to cancelling.",
        "interviewer_flag": True,
        "audio_url": "https://recordings.example.com/88213.mp3",
    }
    return factories.response_body(**(fields | overrides))
