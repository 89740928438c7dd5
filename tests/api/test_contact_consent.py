"""A customer who did not agree to be contacted: no surface shows their name, email or phone, to anyone.

An omitted `contact_ok` means no. The customer's id, tier and consent stay visible.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from closeloop.worker.runner import run_due_work
from tests.helpers import ApiClient, create_token
from tests.reports.conftest import pdf_text
from tests.web.conftest import login_as

pytestmark = pytest.mark.usefixtures("acme")

SECRETS = ("Pat Lee", "pat@example.com", "+15555550123", "555-0123")
WITHHELD = {"name": None, "email": None, "phone": None, "tier": "Gold", "contact_ok": False}


def body(n: int = 1, **customer: Any) -> dict[str, Any]:
    return {
        "survey": "upgrade-install",
        "external_id": f"cc-{n}",
        "unit": "SUP-EMEA",
        "segment": "SMB",
        "ticket": f"T-{n}",
        "customer": {"id": "C-77", "name": "Pat Lee", "email": "pat@example.com", "phone": "+15555550123"}
        | {"tier": "Gold"}
        | customer,
        "answers": {"ease": 2, "completed": False, "comment": "It failed twice."},
    }


@pytest.fixture
def client() -> ApiClient:
    return ApiClient(create_token(["ingest", "read"]))


def without_secrets(text: str) -> bool:
    return not any(secret in text for secret in SECRETS)


def customer_shown(found: dict[str, Any]) -> dict[str, Any]:
    return {key: found["customer"][key] for key in WITHHELD}


def test_an_omitted_flag_means_no_and_the_created_response_withholds_the_details(client):
    created = client.post("/api/v1/responses", body())
    assert created.status_code == 201
    assert created.json()["customer"] == {"id": "C-77"} | WITHHELD
    assert without_secrets(created.content.decode())


@pytest.mark.parametrize("flag", [{}, {"contact_ok": False}])
def test_get_list_and_replay_withhold_the_details(client, flag):
    created = client.post("/api/v1/responses", body(**flag)).json()
    replay = client.post("/api/v1/responses", body(**flag))
    assert replay.status_code == 200
    one = client.get(f"/api/v1/responses/{created['id']}")
    listing = client.get("/api/v1/responses")
    for answer in (replay, one):
        assert customer_shown(answer.json()) == WITHHELD
        assert without_secrets(answer.content.decode())
    assert customer_shown(listing.json()["items"][0]) == WITHHELD
    assert without_secrets(listing.content.decode())


def test_a_customer_who_agreed_is_shown_in_full(client):
    created = client.post("/api/v1/responses", body(contact_ok=True)).json()
    assert created["customer"] == {
        "id": "C-77",
        "name": "Pat Lee",
        "email": "pat@example.com",
        "phone": "+15555550123",
        "tier": "Gold",
        "contact_ok": True,
    }


def test_a_later_answer_without_consent_withdraws_it_from_the_earlier_response(client):
    first = client.post("/api/v1/responses", body(1, contact_ok=True)).json()
    client.post("/api/v1/responses", body(2))
    again = client.get(f"/api/v1/responses/{first['id']}").json()
    assert customer_shown(again) == WITHHELD


def test_the_case_detail_and_the_alerts_never_carry_the_details(client):
    created = client.post("/api/v1/responses", body()).json()
    case = client.get(f"/api/v1/cases/{created['case']}")
    assert case.status_code == 200
    assert without_secrets(case.content.decode())
    assert without_secrets(client.get("/api/v1/alerts").content.decode())


def test_no_planned_message_or_webhook_carries_the_details(client):
    from closeloop.notify.models import Delivery

    client.post("/api/v1/responses", body())
    for delivery in Delivery.objects.all():
        assert without_secrets(delivery.subject + delivery.text + delivery.html + str(delivery.payload))


def test_no_page_shows_the_details_to_the_lead(client):
    created = client.post("/api/v1/responses", body()).json()
    erin = login_as("erin")
    for url in ("/", "/responses/", f"/responses/{created['id']}", "/alerts/", f"/cases/{created['case']}"):
        page = erin.get(url)
        assert page.status_code == 200, url
        assert without_secrets(page.content.decode()), url
    assert "C-77" in erin.get(f"/responses/{created['id']}").content.decode()


def test_the_service_recovery_report_names_the_customer_by_id_only(client):
    morning = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=UTC), tick=False):
        client.post("/api/v1/responses", body())
    run_due_work(morning)
    pdf = login_as("erin").get("/reports/service-recovery.pdf", {"unit": "SUP-EMEA", "date": "2026-11-24"})
    text = pdf_text(pdf.content)
    assert "T-1" in text and "C-77" in text
    assert without_secrets(text)
