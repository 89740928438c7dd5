"""`/healthz`, `/readyz` and `/metrics` in one process; several processes are in tests/cli/test_health_processes.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from closeloop.cases.models import Case
from closeloop.notify.models import Delivery
from closeloop.notify.outbox import enqueue
from closeloop.reports.models import TallyChange
from closeloop.worker.heartbeat import Heartbeat
from closeloop.worker.models import WorkerHeartbeat
from tests.web.conftest import ingest

pytestmark = pytest.mark.django_db


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_healthz_answers_without_touching_the_database(django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        response = Client().get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_is_not_ready_while_no_worker_has_ever_run() -> None:
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["failing"]) == ("not ready", ["worker"])
    assert body["checks"]["database"] == {"ok": True}
    assert "no worker has ever run" in body["checks"]["worker"]["detail"]


def test_readyz_is_ready_with_a_fresh_heartbeat_and_nothing_late() -> None:
    Heartbeat("test-worker").beat()
    response = Client().get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["failing"]) == ("ready", [])
    assert body["checks"]["worker"]["ok"] is True
    assert body["checks"]["deliveries"] == {"ok": True, "oldest_due_age_seconds": 0.0, "unsent": 0}


def test_readyz_names_a_stale_worker_and_deliveries_left_waiting() -> None:
    Heartbeat("test-worker").beat()
    WorkerHeartbeat.objects.update(beat_at=timezone.now() - timedelta(minutes=3))
    enqueue(
        channel="email", address="a@acme.example", idempotency_key="late", now=timezone.now() - timedelta(minutes=10)
    )
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["worker", "deliveries"]
    assert 179 < body["checks"]["worker"]["heartbeat_age_seconds"] < 200
    assert 599 < body["checks"]["deliveries"]["oldest_due_age_seconds"] < 620
    assert body["checks"]["deliveries"]["unsent"] == 1


def test_metrics_without_a_token_are_served_to_this_host_only() -> None:
    assert Client().get("/metrics").status_code == 200  # the test client comes from 127.0.0.1
    assert Client(REMOTE_ADDR="203.0.113.5").get("/metrics").status_code == 403
    # A proxy on this host forwarding someone else's request is not this host.
    forwarded = Client(HTTP_X_FORWARDED_FOR="203.0.113.5").get("/metrics")
    assert forwarded.status_code == 403
    assert "METRICS_TOKEN" in forwarded.json()["detail"]


def test_metrics_with_a_token_need_it_from_everywhere(settings) -> None:
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    remote = Client(REMOTE_ADDR="203.0.113.5")
    assert remote.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-token"}).status_code == 200


def test_metrics_count_what_the_database_holds(acme: None) -> None:
    # On SQLite a transactional test's flush deletes responses row by row, and the report's triggers note
    # their hours: start from none, so that the gauge below counts this test's responses only.
    TallyChange.objects.all().delete()
    now = timezone.now()
    for _ in range(3):
        ingest(at=now - timedelta(minutes=1))
    ingest(answers={"ease": 9, "completed": True}, at=now - timedelta(minutes=1), unit="NOWHERE")
    alert_deliveries = Delivery.objects.filter(topic="alert", status="pending")
    email = alert_deliveries.filter(channel="email")
    sent = list(email[:2])
    Delivery.objects.filter(pk=sent[0].pk).update(status="sent", sent_at=sent[0].created_at + timedelta(seconds=0.4))
    Delivery.objects.filter(pk=sent[1].pk).update(status="sent", sent_at=sent[1].created_at + timedelta(seconds=7))
    Case.objects.update(due_at=now - timedelta(hours=1))
    Heartbeat("test-worker").beat()

    response = Client().get("/metrics")
    assert response["Content-Type"].startswith("text/plain; version=")
    values = samples(response.content.decode())
    assert values[("closeloop_responses_ingested_total", (("status", "valid"),))] == 3
    assert values[("closeloop_responses_ingested_total", (("status", "invalid"),))] == 1
    email_sent = (("channel", "email"), ("status", "sent"))
    assert values[("closeloop_deliveries", email_sent)] == 2
    histogram = {
        le: values[("closeloop_alert_latency_seconds_bucket", (("channel", "email"), ("le", le)))]
        for le in ("0.25", "0.5", "5", "10", "+Inf")
    }
    assert histogram == {"0.25": 0, "0.5": 1, "5": 1, "10": 2, "+Inf": 2}
    assert values[("closeloop_alert_latency_seconds_count", (("channel", "email"),))] == 2
    assert values[("closeloop_alert_latency_seconds_sum", (("channel", "email"),))] == pytest.approx(7.4)
    assert values[("closeloop_cases_overdue", ())] == Case.objects.count() == 3
    assert values[("closeloop_outbox_unsent", ())] == Delivery.objects.filter(status="pending").count()
    assert 55 < values[("closeloop_worker_lag_seconds", ())] < 90
    assert values[("closeloop_workers_running", ())] == 1
    assert 0 <= values[("closeloop_worker_heartbeat_age_seconds", ())] < 5
    # The responses of a minute ago: their hour (two, across the hour) waits for the report tallies.
    assert 1 <= values[("closeloop_report_hours_to_build", ())] <= 2
