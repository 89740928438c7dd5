"""A customer cannot be rewritten across units: a response's customer details are that response's own, the
customer record takes them only from a sender allowed to write it, consent is granted per response and
withdrawn everywhere, and every change of a record's contact details is in the audit log."""

from __future__ import annotations

from typing import Any

import pytest

from closeloop.audit.models import AuditEvent
from closeloop.cases.models import Case
from closeloop.feedback.models import Customer, Response
from closeloop.notify.models import Delivery
from tests.helpers import ApiClient, create_token
from tests.web.conftest import login_as

pytestmark = pytest.mark.usefixtures("acme")

LIST = "/api/v1/responses"


def body(external_id: str, unit: str, **customer: Any) -> dict[str, Any]:
    return {
        "survey": "upgrade-install",
        "external_id": external_id,
        "unit": unit,
        "customer": {"id": "C-77", **customer},
        "answers": {"ease": 2, "completed": False, "comment": "It failed twice."},
    }


PAT = {"name": "Pat Lee", "email": "pat@example.com", "phone": "+15555550123", "tier": "Gold", "contact_ok": True}
MALLORY = {"name": "Pat Lee", "email": "mallory@evil.example", "phone": "+15550000000", "contact_ok": True}


def post(item: dict[str, Any], *, units: list[str] | None = None) -> dict[str, Any]:
    answer = ApiClient(create_token(["ingest"], units=units)).post(LIST, item)
    assert answer.status_code == 201, answer.json()
    result: dict[str, Any] = answer.json()
    return result


def shown(response_id: int) -> dict[str, Any]:
    customer: dict[str, Any] = ApiClient(create_token(["read"])).get(f"{LIST}/{response_id}").json()["customer"]
    return customer


def test_a_token_of_another_unit_cannot_rewrite_the_customer_record_nor_what_its_responses_show() -> None:
    us = post(body("us-1", "SUP-US", **PAT))
    emea = post(body("emea-1", "SUP-EMEA", **MALLORY), units=["SUP-EMEA"])
    record = Customer.objects.get(external_id="C-77")
    assert (record.email, record.phone, record.contact_ok) == ("pat@example.com", "+15555550123", True)
    assert shown(us["id"])["email"] == "pat@example.com"
    # What the new response was sent with is shown with it, and only with it.
    assert (emea["customer"]["email"], shown(emea["id"])["email"]) == ("mallory@evil.example", "mallory@evil.example")
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CONTACT_CHANGED).exists()


def test_the_case_page_and_the_alert_of_each_response_show_its_own_details() -> None:
    us = post(body("us-1", "SUP-US", **PAT))
    post(body("emea-1", "SUP-EMEA", **MALLORY), units=["SUP-EMEA"])
    case = Case.objects.get(response_id=us["id"])
    page = login_as("admin").get(f"/cases/{case.pk}").content.decode()
    assert "pat@example.com" in page and "mallory@evil.example" not in page
    us_mail = Delivery.objects.filter(channel="email", alert__response_id=us["id"]).first()
    assert us_mail is not None and "mallory" not in us_mail.text
    emea_mail = Delivery.objects.filter(channel="email", alert__response__external_id="emea-1").first()
    assert emea_mail is not None and "mallory@evil.example" in emea_mail.text


def test_details_left_out_are_not_read_from_a_record_the_sender_may_not_write() -> None:
    post(body("us-1", "SUP-US", **PAT))
    probe = post(body("emea-1", "SUP-EMEA", contact_ok=True), units=["SUP-EMEA"])
    assert probe["customer"] == {
        "id": "C-77",
        "name": "",
        "email": "",
        "phone": "",
        "tier": "Gold",
        "contact_ok": True,
    }


def test_consent_given_in_one_response_is_for_that_response_only() -> None:
    refused = post(body("us-1", "SUP-US", **{**PAT, "contact_ok": False}))
    agreed = post(body("us-2", "SUP-US", **PAT))
    assert shown(refused["id"])["email"] is None
    assert shown(agreed["id"])["email"] == "pat@example.com"
    # The record keeps the consent it was created with: no later response grants it.
    assert Customer.objects.get(external_id="C-77").contact_ok is False
    case = Case.objects.get(response_id=refused["id"])
    assert "pat@example.com" not in login_as("admin").get(f"/cases/{case.pk}").content.decode()


def test_any_response_withdraws_consent_from_every_earlier_response_in_every_unit() -> None:
    us = post(body("us-1", "SUP-US", **PAT))
    post(body("emea-1", "SUP-EMEA", contact_ok=False), units=["SUP-EMEA"])
    assert shown(us["id"])["email"] is None and shown(us["id"])["contact_ok"] is False
    assert Customer.objects.get(external_id="C-77").contact_ok is False
    (event,) = AuditEvent.objects.filter(action=AuditEvent.Action.CONTACT_CHANGED)
    assert event.detail["fields"] == ["contact_ok"]


def test_a_sender_allowed_everywhere_the_customer_answered_updates_the_record_and_it_is_audited() -> None:
    us = post(body("us-1", "SUP-US", **PAT))
    moved = post(body("us-2", "SUP-US", email="pat.lee@example.com", contact_ok=True), units=["AMER"])
    record = Customer.objects.get(external_id="C-77")
    assert (record.email, record.name) == ("pat.lee@example.com", "Pat Lee")
    # A field the response left out is what the record knows, since the sender may write it.
    assert (shown(moved["id"])["name"], shown(moved["id"])["email"]) == ("Pat Lee", "pat.lee@example.com")
    assert shown(us["id"])["email"] == "pat@example.com"
    (event,) = AuditEvent.objects.filter(action=AuditEvent.Action.CONTACT_CHANGED)
    assert (event.target, event.detail["fields"], event.detail["source"]) == (
        f"response:{moved['id']}",
        ["email"],
        "api",
    )
    assert event.actor_name.startswith("token ")
    assert "pat.lee@example.com" not in str(event.detail)


def test_a_token_without_units_still_updates_the_record_as_before() -> None:
    post(body("us-1", "SUP-US", **PAT))
    emea = post(body("emea-1", "SUP-EMEA", email="pat.lee@example.com", contact_ok=True))
    assert Customer.objects.get(external_id="C-77").email == "pat.lee@example.com"
    # Left-out details come from the record it may write, as they did before.
    assert (emea["customer"]["name"], emea["customer"]["phone"]) == ("Pat Lee", "+15555550123")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CONTACT_CHANGED).count() == 1


def test_a_customer_new_to_closeloop_is_recorded_as_its_first_response_says() -> None:
    post(body("emea-1", "SUP-EMEA", **PAT), units=["SUP-EMEA"])
    record = Customer.objects.get(external_id="C-77")
    assert (record.name, record.email, record.contact_ok) == ("Pat Lee", "pat@example.com", True)
    assert Response.objects.get().customer_email == "pat@example.com"
