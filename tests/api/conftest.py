"""An organisation built with the ORM, tokens for each scope, and a client that sends them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from closeloop.api.models import ApiToken, hash_token
from closeloop.feedback.models import Question, Survey
from closeloop.org.models import Organization, Person, Role, Segment, Unit


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


def create_token(scopes: list[str], person: Person | None = None, name: str | None = None) -> str:
    secret = ApiToken.generate()
    ApiToken.objects.create(
        name=name or f"test-{'-'.join(scopes)}-{secret[3:9]}",
        token_hash=hash_token(secret),
        hint=secret[:8],
        scopes=scopes,
        person=person,
    )
    return secret


class ApiClient:
    """Django's test client with a bearer token and JSON bodies."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.token = token

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, **query: Any) -> Any:
        return self.client.get(path, query, headers=self._headers())

    def send(self, method: str, path: str, body: Any = None, raw: bytes | None = None) -> Any:
        data = raw if raw is not None else json.dumps(body).encode()
        return self.client.generic(method, path, data, content_type="application/json", headers=self._headers())

    def post(self, path: str, body: Any = None, raw: bytes | None = None) -> Any:
        return self.send("POST", path, body, raw)

    def patch(self, path: str, body: Any = None, raw: bytes | None = None) -> Any:
        return self.send("PATCH", path, body, raw)


@pytest.fixture
def api_as(db: None) -> Callable[..., ApiClient]:
    """`api_as("read", "write", person=p)` -> a client whose token has those scopes."""

    def make(*scopes: str, person: Person | None = None) -> ApiClient:
        return ApiClient(create_token(list(scopes), person))

    return make


def response_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "survey": "upgrade-install",
        "external_id": "sm-88213",
        "submitted_at": "2026-11-23T10:04:00Z",
        "unit": "SUP-EMEA",
        "segment": "SMB",
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
        "answers": {"ease": 3, "completed": False, "comment": "It failed twice."},
        "interviewer_notes": "Sounded close to cancelling.",
        "interviewer_flag": True,
        "audio_url": "https://recordings.example.com/88213.mp3",
    }
    body.update(overrides)
    return body
