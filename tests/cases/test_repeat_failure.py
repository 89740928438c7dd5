"""A second failure of the same customer within the repeat window: the new case names the earlier one, is one
severity step above its tier's, and says so; the alert says so too."""

from __future__ import annotations

from datetime import timedelta

import pytest

from closeloop.alerts.models import Alert
from closeloop.notify.models import Delivery
from tests.helpers import ApiClient, create_token

from .conftest import NOW, case_of, ingest

pytestmark = pytest.mark.usefixtures("acme")

PAT = {"id": "C-REPEAT", "name": "Pat Lee", "email": "pat@example.com", "tier": "Silver", "contact_ok": True}


def test_the_second_case_links_the_first_and_is_one_step_more_severe() -> None:
    first = case_of(ingest(customer=PAT))
    assert first.severity == "high"  # Silver
    second = case_of(ingest(customer=PAT, at=NOW + timedelta(days=10)))
    assert (second.previous_case_id, second.severity) == (first.pk, "urgent")
    opened = second.events.get(type="opened").data
    assert (opened["repeat"], opened["repeat_of"], opened["severity_raised_from"]) == (True, first.pk, "high")
    body = ApiClient(create_token(["read"])).get(f"/api/v1/cases/{second.pk}").json()
    assert (body["previous_case"], body["severity"]) == (first.pk, "urgent")


def test_the_new_case_email_names_the_earlier_case() -> None:
    first = case_of(ingest(customer=PAT))
    second = case_of(ingest(customer=PAT, at=NOW + timedelta(days=10)))
    mail = Delivery.objects.get(ref=f"case:{second.pk}", person__key="erin", subject__startswith="New case")
    assert (
        f"Repeat failure: this customer's earlier case is #{first.pk} (http://127.0.0.1:8000/cases/{first.pk}); "
        "the severity is one step above the tier's." in mail.text
    )


def test_the_repeat_alert_names_the_earlier_feedback() -> None:
    earlier = ingest(customer=PAT)
    later = ingest(customer=PAT, at=NOW + timedelta(days=10))
    alert = Alert.objects.get(response=later)
    assert (alert.repeat, alert.repeat_of_id) == (True, earlier.pk)
    mail = Delivery.objects.get(alert=alert, person__key="erin", channel="email")
    assert (
        "Repeat: this customer had another recovery alert in the last 90 days (feedback of Mon 23 Nov 2026: "
        f"http://127.0.0.1:8000/responses/{earlier.pk}). The severity is raised one step, and the case will name "
        "the earlier one." in mail.text
    )
    listed = ApiClient(create_token(["read"])).get("/api/v1/alerts", kind="recovery").json()["items"]
    assert [(a["repeat"], a["repeat_of"]) for a in listed] == [(True, earlier.pk), (False, None)]


def test_outside_the_window_it_is_a_first_failure_again() -> None:
    case_of(ingest(customer=PAT))
    later = case_of(ingest(customer=PAT, at=NOW + timedelta(days=91)))
    assert (later.previous_case_id, later.severity) == (None, "high")


def test_urgent_stays_urgent() -> None:
    gold = PAT | {"tier": "Gold"}
    case_of(ingest(customer=gold))
    assert case_of(ingest(customer=gold, at=NOW + timedelta(days=1))).severity == "urgent"
