"""Three rules fire for one response: each person gets one email listing them all, at most one SMS, and each
webhook endpoint one call; every alert still shows who was told about it."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import yaml
from django.utils import timezone

from closeloop.config.apply import apply_config
from closeloop.notify.models import Delivery
from closeloop.worker.runner import run_due_work
from tests.conftest import FIXTURES
from tests.helpers import ApiClient, create_token
from tests.notify.conftest import HttpSink, SmtpSink, http_sink, smtp, smtp_sink  # noqa: F401

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + base64.b64encode(b"a shared secret of 32 bytes!!!!!").decode()
THREE_RULES = {"ease": 2, "completed": False, "comment": "It failed twice and I want a refund."}


@pytest.fixture
def sinks(settings, smtp: SmtpSink, http_sink: HttpSink) -> tuple[SmtpSink, HttpSink]:  # noqa: F811
    settings.SMS_URL = f"json://127.0.0.1:{http_sink.port}/sms/{{phone}}"
    data = yaml.safe_load((FIXTURES / "acme.yaml").read_text())
    # A third rule for the same words: the product team watches repeated failures.
    data["rules"].append(
        {
            "key": "twice",
            "name": "Failed more than once",
            "kind": "watch",
            "when": {"keywords": ["twice"]},
            "category": "Product feedback",
            "severity": "normal",
            "notify": {"to": ["unit_leads"], "channels": {"normal": ["email"]}},
        }
    )
    data["webhooks"] = [{"key": "crm", "url": f"{http_sink.base_url}/hooks/closeloop", "secret": SECRET}]
    apply_config(yaml.safe_dump(data, sort_keys=False))
    return smtp, http_sink


def post(answers: dict[str, Any]) -> dict[str, Any]:
    body = {
        "survey": "upgrade-install",
        "external_id": "sm-1",
        "unit": "SUP-EMEA",
        "segment": "SMB",
        "agent": "dave",
        "customer": {"id": "C-1", "name": "Pat Lee", "phone": "+15555550123", "contact_ok": True},
        "answers": answers,
    }
    response = ApiClient(create_token(["ingest"])).post("/api/v1/responses", body)
    assert response.status_code == 201, response.json()
    return response.json()


def planned(person: str) -> list[tuple[str, str]]:
    rows = Delivery.objects.filter(topic="alert", person__key=person).order_by("channel")
    return [(d.channel, d.status) for d in rows]


def test_the_three_alerts_of_one_response_are_planned_as_one_message_per_person_and_channel(sinks):
    created = post(THREE_RULES)
    assert sorted(alert["rule"] for alert in created["alerts"]) == ["churn-words", "install-failed", "twice"]
    # erin leads SUP-EMEA: all three alerts, two of which ask for SMS.
    assert planned("erin") == [("email", "pending"), ("sms", "pending")]
    # rita is one level up (churn-words only); sam is an also-alert without a phone (install-failed only).
    assert planned("rita") == [("email", "pending"), ("sms", "pending")]
    assert planned("sam") == [("email", "pending"), ("sms", "skipped")]
    assert Delivery.objects.filter(topic="alert", channel="webhook").count() == 1


def test_the_lead_receives_one_email_listing_every_rule_and_category(sinks):
    mail, _ = sinks
    post(THREE_RULES)
    run_due_work(timezone.now())
    to_erin = [m for m, rcpt in zip(mail.messages, mail.recipients, strict=True) if rcpt == ["erin@acme.example"]]
    # Besides the case's own "New case" email, one alert email. (A long encoded subject is folded onto
    # a continuation line, which leaves a space in front of it once parsed.)
    subjects = sorted(str(m["Subject"]).strip() for m in to_erin)
    assert [subject.split(" ")[0] for subject in subjects] == ["New", "[URGENT]"]
    to_erin = [m for m in to_erin if str(m["Subject"]).strip().startswith("[")]
    [email] = to_erin
    assert str(email["Subject"]).strip() == (
        "[URGENT] Recovery: SUP-EMEA – 2/10 – At-risk customer + Installation issues + Product feedback"
    )
    text = email.get_body(("plain",)).get_content()
    assert "This response raised 3 alerts:" in text
    assert "  - Talks about leaving: At-risk customer (severity urgent)" in text
    assert "  - Could not complete the installation: Installation issues (severity high)" in text
    assert "  - Failed more than once: Product feedback (severity normal)" in text
    html = email.get_body(("html",)).get_content()
    assert "This response raised 3 alerts" in html and "<strong>Product feedback</strong>" in html


def test_the_lead_receives_one_sms_with_the_highest_severity(sinks):
    _, sink = sinks
    post(THREE_RULES)
    run_due_work(timezone.now())
    sms = [r.json()["message"] for r in sink.requests if r.path.startswith("/sms/")]
    to_erin = [r for r in sink.requests if r.path == "/sms/+15555550101"]
    assert len(to_erin) == 1
    assert to_erin[0].json()["message"].startswith("[URGENT] Recovery: SUP-EMEA")
    assert len(sms) == 2, "erin and rita; sam has no phone"


def test_each_webhook_endpoint_gets_one_call_with_every_alert(sinks):
    _, sink = sinks
    created = post(THREE_RULES)
    run_due_work(timezone.now())
    [call] = [r for r in sink.requests if r.path == "/hooks/closeloop"]
    payload = call.json()
    by_rule = {alert["rule"]: alert["id"] for alert in created["alerts"]}
    # `alert` keeps the shape of a one-alert call: the leading (most severe) alert.
    assert payload["alert"]["id"] == by_rule["churn-words"]
    assert payload["alert"]["subject"].startswith("[URGENT] Recovery:")
    assert [(a["rule"], a["name"]) for a in payload["alerts"]] == [
        ("churn-words", "Talks about leaving"),
        ("install-failed", "Could not complete the installation"),
        ("twice", "Failed more than once"),
    ]
    assert call.headers["webhook-id"] == f"alert:{min(by_rule.values())}:webhook:crm"


def test_every_alert_still_lists_each_persons_delivery(sinks):
    created = post(THREE_RULES)
    run_due_work(timezone.now())
    alerts = {a["rule"]: a for a in ApiClient(create_token(["read"])).get("/api/v1/alerts").json()["items"]}
    assert set(alerts) == {"churn-words", "install-failed", "twice"}
    erin_email = {
        rule: [r for r in alert["recipients"] if (r["person"], r["channel"]) == ("erin", "email")]
        for rule, alert in alerts.items()
    }
    # One email told erin about all three: each alert lists it, with the same delivery and status.
    assert {len(found) for found in erin_email.values()} == {1}
    assert len({found[0]["delivery"] for found in erin_email.values()}) == 1
    assert {found[0]["status"] for found in erin_email.values()} == {"sent"}
    assert erin_email["twice"][0]["alerts"] == sorted(a["id"] for a in created["alerts"])
    # The SMS told erin about the two alerts that asked for SMS, not about the watch.
    assert [r["channel"] for r in alerts["twice"]["recipients"] if r["person"] == "erin"] == ["email"]
    erin_sms = [r for r in alerts["install-failed"]["recipients"] if (r["person"], r["channel"]) == ("erin", "sms")]
    assert erin_sms[0]["delivery"] == next(
        r["delivery"] for r in alerts["churn-words"]["recipients"] if (r["person"], r["channel"]) == ("erin", "sms")
    )
    sam = [(r["channel"], r["status"]) for r in alerts["install-failed"]["recipients"] if r["person"] == "sam"]
    assert sam == [("email", "sent"), ("sms", "skipped")]


def test_one_alert_alone_is_planned_as_before(sinks):
    created = post({"ease": 8, "completed": False})
    [alert] = created["alerts"]
    keys = sorted(Delivery.objects.filter(topic="alert").values_list("idempotency_key", flat=True))
    assert keys == [
        f"alert:{alert['id']}:erin:email",
        f"alert:{alert['id']}:erin:sms",
        f"alert:{alert['id']}:sam:email",
        f"alert:{alert['id']}:sam:sms",
        f"alert:{alert['id']}:webhook:crm",
    ]


def test_replanning_the_same_alerts_sends_nothing_twice(sinks):
    from closeloop.alerts.models import Alert
    from closeloop.alerts.planning import plan_alert_deliveries
    from closeloop.config.snapshot import current

    post(THREE_RULES)
    before = Delivery.objects.count()
    snapshot = current()
    alerts = [(alert, alert.rule.notify) for alert in Alert.objects.select_related("rule", "response")]
    plan_alert_deliveries(alerts, org=snapshot.directory, endpoints=snapshot.endpoints, now=timezone.now())
    assert Delivery.objects.count() == before
