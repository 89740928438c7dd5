"""Alerts are raised in the ingest transaction and planned for delivery to the right people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from closeloop.actions.fix_response import fix_response
from closeloop.actions.ingest import ingest_response, ingest_responses
from closeloop.alerts.models import Alert
from closeloop.cases.models import Case
from closeloop.config.apply import apply_config
from closeloop.feedback.models import Response
from closeloop.notify.models import Delivery, WebhookEndpoint
from closeloop.org.models import Organization
from tests import factories
from tests.conftest import FIXTURES

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
pytestmark = pytest.mark.usefixtures("acme")


def post(answers: dict[str, Any], *, at: datetime = NOW, **fields: Any) -> Response:
    """`answers` from the same Gold customer (C-1), who may be called but has no phone."""
    return factories.ingest(answers, at=at, prefix="x", customer_id="C-1", phone=None, **fields)


def recipients(alert: Alert) -> set[tuple[str, str, str]]:
    return {(d.person.key if d.person else d.address, d.channel, d.status) for d in alert.deliveries.all()}


def test_a_failed_installation_raises_a_high_recovery_alert_for_the_unit_lead_and_also_alerts() -> None:
    response = post({"ease": 8, "completed": False, "comment": "It failed twice."})
    alert = Alert.objects.get(response=response)
    assert (alert.rule_key, alert.kind, alert.severity, alert.category) == (
        "install-failed",
        "recovery",
        "high",
        "Installation issues",
    )
    assert alert.unit.code == "SUP-EMEA" and alert.mode == "immediate" and not alert.repeat
    assert response.needs_recovery
    # Sam has no phone: the SMS is recorded as skipped with the reason, not silently dropped.
    assert recipients(alert) == {
        ("erin", "email", "pending"),
        ("erin", "sms", "pending"),
        ("sam", "email", "pending"),
        ("sam", "sms", "skipped"),
    }
    skipped = alert.deliveries.get(status="skipped")
    assert skipped.last_error == "no phone number for Sam Shift"


def test_a_low_score_without_a_matching_rule_gets_the_builtin_threshold_alert() -> None:
    response = post({"ease": 4, "completed": True})
    alert = Alert.objects.get(response=response)
    assert (alert.rule_key, alert.kind, alert.severity) == ("threshold", "recovery", "normal")
    assert {(p, c) for p, c, _ in recipients(alert)} == {("erin", "email"), ("sam", "email")}


def test_the_threshold_rule_stays_quiet_when_a_configured_recovery_rule_matched() -> None:
    response = post({"ease": 2, "completed": False})
    assert list(Alert.objects.filter(response=response).values_list("rule_key", flat=True)) == ["install-failed"]


WATCH_HARD_INSTALLS = """
  - key: hard-install
    name: Finished, but found it hard
    kind: watch
    survey: upgrade-install
    when: {all: [{question: completed, equals: true}, {overall: {lte: 5}}]}
    category: Product feedback
    severity: low
    notify: {to: [unit_leads], mode: immediate}
"""


def _acme_with_watch_rule(threshold_unless: str | None = None) -> None:
    text = (
        (FIXTURES / "acme.yaml").read_text().replace("\nrules:\n", "\nrules:\n" + WATCH_HARD_INSTALLS.lstrip("\n"), 1)
    )
    if threshold_unless:
        text = text.replace("organization:\n", f"organization:\n  threshold_unless: {threshold_unless}\n", 1)
    apply_config(text)


def test_a_matching_watch_rule_keeps_the_builtin_threshold_rule_quiet() -> None:
    _acme_with_watch_rule()
    response = post({"ease": 4, "completed": True})
    alerts = Alert.objects.filter(response=response)
    assert [(a.rule_key, a.kind) for a in alerts] == [("hard-install", "watch")]
    assert not response.needs_recovery
    assert not Case.objects.exists()


def test_threshold_unless_recovery_rule_raises_the_threshold_alert_beside_the_watch_rule() -> None:
    _acme_with_watch_rule("recovery_rule")
    response = post({"ease": 4, "completed": True})
    alerts = Alert.objects.filter(response=response).order_by("pk")
    assert [(a.rule_key, a.kind) for a in alerts] == [("hard-install", "watch"), ("threshold", "recovery")]
    assert response.needs_recovery


def test_a_happy_customer_needs_no_recovery() -> None:
    response = post({"ease": 8, "completed": True, "comment": "Smooth."})
    assert not Alert.objects.filter(response=response).exists()
    assert not response.needs_recovery


def test_praise_goes_to_the_agent_and_their_lead() -> None:
    response = post({"ease": 10, "completed": True, "comment": "Dave was wonderful."})
    alert = Alert.objects.get(response=response)
    assert (alert.kind, alert.category) == ("praise", "Praise")
    assert {(p, c) for p, c, _ in recipients(alert)} == {("dave", "email"), ("erin", "email")}


def test_level_selectors_climb_the_tree() -> None:
    response = post({"ease": 7, "completed": True, "comment": "I want a refund."})
    alert = Alert.objects.get(response=response, rule_key="churn-words")
    assert alert.severity == "urgent"
    # unit_leads (erin) and the leads one level up (rita, EMEA).
    assert {p for p, _, _ in recipients(alert)} == {"erin", "rita"}


def test_negated_keywords_do_not_alert() -> None:
    response = post({"ease": 8, "completed": True, "comment": "No need to cancel anything, all good."})
    assert not Alert.objects.filter(response=response, rule_key="churn-words").exists()


def test_digest_mode_alerts_are_kept_for_the_digest_without_deliveries() -> None:
    response = post({"recommend": 7}, survey="relationship")
    alert = Alert.objects.get(response=response, rule_key="quiet-watch")
    assert alert.kind == "watch" and alert.mode == "digest"
    assert not alert.deliveries.exists()


def test_a_second_recovery_alert_within_the_window_is_a_repeat_one_step_more_severe() -> None:
    post({"ease": 2, "completed": False}, at=NOW - timedelta(days=30))
    second = post({"ease": 3, "completed": False})
    alert = Alert.objects.get(response=second)
    assert alert.repeat and alert.severity == "urgent"


def test_an_alert_older_than_the_repeat_window_does_not_count() -> None:
    post({"ease": 2, "completed": False}, at=NOW - timedelta(days=91))
    alert = Alert.objects.get(response=post({"ease": 3, "completed": False}))
    assert not alert.repeat and alert.severity == "high"


def test_the_repeat_window_is_configurable() -> None:
    Organization.objects.filter(pk=1).update(repeat_window=timedelta(days=7))
    post({"ease": 2, "completed": False}, at=NOW - timedelta(days=8))
    assert not Alert.objects.get(response=post({"ease": 3, "completed": False})).repeat


def test_repeats_are_seen_inside_one_batch() -> None:
    items = [
        factories.response_body(
            {"ease": 2, "completed": False},
            at=NOW + timedelta(hours=i),
            external_id=f"b-{i}",
            ticket=f"TB-{i}",
            customer={"id": "C-batch"},
            agent=None,
        )
        for i in range(2)
    ]
    first, second = ingest_responses(items, source="file", now=NOW + timedelta(hours=2))
    assert not Alert.objects.get(response=first.response).repeat
    assert Alert.objects.get(response=second.response).repeat


def test_resubmitting_the_same_ticket_is_not_a_repeat_failure() -> None:
    first = post({"ease": 2, "completed": False}, ticket="T-same")
    second = post({"ease": 1, "completed": False}, ticket="T-same", at=NOW + timedelta(hours=1))
    first.refresh_from_db()
    assert first.superseded_by_id == second.pk
    assert not Alert.objects.get(response=second).repeat


def test_a_replay_never_duplicates_alerts_or_deliveries() -> None:
    item = {
        "survey": "upgrade-install",
        "external_id": "replayed",
        "unit": "SUP-EMEA",
        "segment": "SMB",
        "answers": {"ease": 1, "completed": False},
    }
    ingest_response(item, source="api", now=NOW)
    alerts, deliveries = Alert.objects.count(), Delivery.objects.count()
    ingest_response(item, source="api", now=NOW + timedelta(minutes=1))
    assert (Alert.objects.count(), Delivery.objects.count()) == (alerts, deliveries)


def test_fixing_an_already_valid_response_moves_its_alerts_without_raising_new_ones() -> None:
    response = post({"ease": 1, "completed": False})
    alerts = Alert.objects.count()
    fix_response(response, {"unit": "SUP-US"}, now=NOW)
    assert Alert.objects.count() == alerts
    assert set(Alert.objects.values_list("unit__code", flat=True)) == {"SUP-US"}


def test_webhook_endpoints_receive_the_alert_kinds_and_units_they_subscribe_to() -> None:
    WebhookEndpoint.objects.create(
        key="crm", url="http://127.0.0.1:9/hook", secret="whsec_dGVzdA==", kinds=["recovery"]
    )
    WebhookEndpoint.objects.create(key="us-only", url="http://127.0.0.1:9/us", secret="whsec_dGVzdA==", units=["AMER"])
    alert = Alert.objects.get(response=post({"ease": 1, "completed": False}))
    hooks = alert.deliveries.filter(channel="webhook")
    assert [d.address for d in hooks] == ["crm"]
    assert hooks[0].payload["type"] == "alert.created"
