"""The Acme organisation with logins and a few responses, for the web UI tests."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from closeloop.actions.ingest import ingest_response
from closeloop.cases.models import Case
from closeloop.feedback.models import Response
from closeloop.org.models import Person

PASSWORD = "correct-horse-battery"
_numbers = itertools.count(1)


def ingest(
    answers: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
    unit: str = "SUP-EMEA",
    tier: str = "Gold",
    contact_ok: bool = True,
    name: str = "Pat Lee",
    **extra: Any,
) -> Response:
    """A failed installation (unless `answers` says otherwise), posted the way a survey tool does."""
    n = next(_numbers)
    at = at or timezone.now()
    item: dict[str, Any] = {
        "survey": "upgrade-install",
        "external_id": f"web-{n}",
        "submitted_at": at.isoformat(),
        "unit": unit,
        "segment": "SMB",
        "agent": "dave",
        "ticket": f"T-{n}",
        "customer": {
            "id": f"C-{n}",
            "name": name,
            "email": "pat@example.com",
            "phone": "+15555550123",
            "tier": tier,
            "contact_ok": contact_ok,
        },
        "answers": answers if answers is not None else {"ease": 2, "completed": False, "comment": "It failed twice."},
    }
    item.update(extra)
    return ingest_response(item, source="test", now=at).response


def login_as(key: str) -> Client:
    """A client signed in as the configured person `key` (given a login if the config has none)."""
    person = Person.objects.get(key=key)
    user_model = get_user_model()
    if person.user is None:
        person.user = user_model.objects.create_user(username=key, email=person.email)
        person.save(update_fields=["user"])
    person.user.set_password(PASSWORD)
    person.user.save()
    client = Client()
    assert client.login(username=key, password=PASSWORD)
    return client


@pytest.fixture
def erin(acme: None) -> Client:
    """The lead of SUP-EMEA (sees SUP-EMEA only)."""
    return login_as("erin")


@pytest.fixture
def admin_client_acme(acme: None) -> Client:
    """Ada, with the `admin` role on the root: sees everything."""
    return login_as("admin")


@pytest.fixture
def ursula(acme: None) -> Client:
    """The lead of SUP-US: sees nothing of EMEA."""
    return login_as("ursula")


@pytest.fixture
def failed_install(acme: None) -> Case:
    """An open case in SUP-EMEA, a Gold customer, received an hour ago."""
    response = ingest(at=timezone.now() - timedelta(hours=1))
    return Case.objects.get(response=response)


@pytest.fixture
def overdue_case(acme: None) -> Case:
    """A Gold customer's case (24 h goal) opened three days ago: overdue."""
    response = ingest(at=timezone.now() - timedelta(days=3), name="Olive Overdue")
    return Case.objects.get(response=response)
