"""A misspelt agent id keeps the response valid, is listed as a problem, and the praise goes to the leads."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from closeloop.actions.fix_response import fix_response
from closeloop.feedback.models import Response
from closeloop.notify.models import Delivery
from tests.helpers import ApiClient, create_token
from tests.web.conftest import login_as

pytestmark = pytest.mark.usefixtures("acme")

PRAISE = {"ease": 10, "completed": True, "comment": "Dave was brilliant."}


def post(agent: str, *, unit: str | None = "SUP-EMEA", n: int = 1, answers: dict[str, Any] = PRAISE) -> dict[str, Any]:
    body: dict[str, Any] = {"survey": "upgrade-install", "external_id": f"ag-{n}", "agent": agent, "answers": answers}
    if unit:
        body["unit"] = unit
    response = ApiClient(create_token(["ingest"])).post("/api/v1/responses", body)
    assert response.status_code == 201, response.json()
    return response.json()


def praise_emails() -> list[Delivery]:
    return list(Delivery.objects.filter(topic="alert", channel="email").select_related("person").order_by("id"))


def test_an_unknown_agent_is_listed_in_problems_and_the_response_stays_valid():
    created = post("davee")
    assert created["status"] == "valid"
    assert created["problems"] == ["agent: unknown person 'davee'"]
    assert created["agent"] == "davee"
    assert [alert["rule"] for alert in created["alerts"]] == ["kudos"]


def test_the_praise_for_an_unknown_agent_goes_to_the_units_leads_with_the_id_to_pass_it_on():
    post("davee")
    [email] = praise_emails()
    assert email.person.key == "erin"
    assert email.subject == "Kudos for davee (not a known person): SUP-EMEA – 10/10 – Praise"
    assert "Agent: davee (not a known person: please pass this on)" in email.text
    assert "davee (not a known person: please pass this on)" in email.html


def test_the_praise_for_a_known_agent_reaches_the_agent_and_their_lead():
    created = post("dave")
    assert created["problems"] == []
    assert sorted(email.person.key for email in praise_emails()) == ["dave", "erin"]


def test_fixing_the_unit_of_a_quarantined_response_keeps_the_agent_problem():
    created = post("davee", unit=None)
    assert created["status"] == "invalid"
    assert created["problems"] == [
        "unit: missing; the response cannot be routed until a unit is set",
        "agent: unknown person 'davee'",
    ]
    fixed = fix_response(Response.objects.get(pk=created["id"]), {"unit": "SUP-EMEA"}, now=timezone.now())
    assert fixed.status == "valid"
    assert fixed.problems == ["agent: unknown person 'davee'"]


def test_the_admin_lists_and_filters_responses_with_problems(django_user_model):
    created = post("davee", n=1)
    fine = post("dave", n=2)
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("root", "root@acme.example", "not-used-here"))
    listing = client.get(reverse("admin:feedback_response_changelist"), {"problems": "yes"})
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "agent: unknown person &#x27;davee&#x27;" in page
    assert f"/admin/feedback/response/{created['id']}/change/" in page
    assert f"/admin/feedback/response/{fine['id']}/change/" not in page


def test_the_response_page_shows_the_problem_to_the_lead():
    created = post("davee")
    page = login_as("erin").get(f"/responses/{created['id']}").content.decode()
    assert "agent: unknown person &#x27;davee&#x27;" in page


def test_the_quarantine_card_gives_only_the_problems_that_keep_it_quarantined():
    created = post("davee", unit=None)
    page = login_as("admin").get(f"/responses/{created['id']}").content.decode()
    assert (
        "raised no alert and no case because unit: missing; the response cannot be routed until a unit is set. " in page
    )
    assert "agent: unknown person &#x27;davee&#x27;" in page, "still listed with the response's problems"
