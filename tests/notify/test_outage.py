"""A mail server down for most of a day: alerts wait, none fails, and the backlog goes out in order.

The server is really absent (nothing listens on its port) and then really started on that port;
the clock moves through the `now` each round is given.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from aiosmtpd.controller import Controller

from closeloop.environment import EmailServer
from closeloop.notify.backlog import backlog
from closeloop.notify.models import Delivery
from closeloop.notify.outbox import enqueue
from closeloop.worker.runner import run_due_work
from tests.notify.conftest import NOW, SmtpSink, free_port

pytestmark = pytest.mark.django_db

# (subject, severity, minutes after NOW it was planned)
PLANNED = [
    ("low-1", "low", 0),
    ("urgent-1", "urgent", 1),
    ("normal-1", "normal", 2),
    ("high-1", "high", 3),
    ("urgent-2", "urgent", 4),
    ("low-2", "low", 5),
]


class DownServer:
    """An SMTP server that is not there until `start()`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.sink = SmtpSink()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port, ready_timeout=10)
        self.controller.start()

    def subjects(self) -> list[str]:
        return [message["Subject"] for message in self.sink.messages]


@pytest.fixture
def down(settings) -> Iterator[DownServer]:
    server = DownServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.EMAIL_SERVER = EmailServer("127.0.0.1", server.port, "", "", use_tls=False, use_ssl=False)
    try:
        yield server
    finally:
        if server.controller is not None:
            server.controller.stop()


def plan_alerts() -> None:
    for subject, severity, minutes in PLANNED:
        enqueue(
            channel="email",
            address="lead@acme.example",
            subject=subject,
            text="Call the customer",
            idempotency_key=f"alert:{subject}:email",
            now=NOW + timedelta(minutes=minutes),
            severity=severity,
        )


def outage(until: datetime, every: timedelta = timedelta(minutes=10)) -> datetime:
    """Worker rounds every `every` from NOW while the server is down; returns the last round's time."""
    now = NOW + timedelta(minutes=5)
    while now + every <= until:
        now += every
        run_due_work(now)
    return now


def test_after_23_hours_down_no_alert_has_failed_and_the_backlog_is_shown(down):
    plan_alerts()
    last = outage(NOW + timedelta(hours=23))
    rows = list(Delivery.objects.all())
    assert {row.status for row in rows} == {Delivery.Status.PENDING}
    assert {row.failing_since for row in rows} == {NOW + timedelta(minutes=15)}
    assert all("cannot reach the SMTP server" in row.last_error for row in rows)
    waiting = backlog(last)
    assert (waiting.count, waiting.oldest_created_at) == (6, NOW)
    assert waiting.oldest_age(last) == last - NOW
    assert down.sink.count() == 0


def test_when_the_server_is_back_the_backlog_goes_out_most_severe_first_then_oldest_first(down):
    plan_alerts()
    last = outage(NOW + timedelta(hours=23))
    down.start()
    # Past the longest backoff: every waiting alert is due again.
    run_due_work(last + timedelta(minutes=11))
    assert down.subjects() == ["urgent-1", "urgent-2", "high-1", "normal-1", "low-1", "low-2"]
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}
    assert set(Delivery.objects.values_list("failing_since", flat=True)) == {None}
    assert backlog(last + timedelta(minutes=11)).count == 0


def test_the_first_message_a_recovered_server_accepts_brings_the_whole_backlog_forward(down):
    plan_alerts()
    # Rounds further apart than the longest backoff: each round retries all, so after the last one every
    # retry is at least nine minutes away.
    last = outage(NOW + timedelta(hours=23), every=timedelta(minutes=12))
    down.start()
    recovered = last + timedelta(seconds=30)  # every retry is still minutes away
    enqueue(
        channel="email",
        address="lead@acme.example",
        subject="new",
        text="t",
        idempotency_key="alert:new:email",
        now=recovered,
        severity="normal",
    )
    done = run_due_work(recovered)
    assert done["deliveries"] == 7
    assert down.subjects() == ["new", "urgent-1", "urgent-2", "high-1", "normal-1", "low-1", "low-2"]


def test_an_alert_still_undeliverable_after_24_hours_is_marked_failed(down):
    plan_alerts()
    outage(NOW + timedelta(hours=24, minutes=30))
    rows = list(Delivery.objects.all())
    assert {(row.status, row.next_attempt_at) for row in rows} == {(Delivery.Status.FAILED, None)}
    # Tried all day long, at least every twenty minutes, before giving up.
    assert min(row.attempts for row in rows) >= 72


def test_the_retry_window_follows_the_setting(down, settings):
    settings.CLOSELOOP_RETRY_FOR = timedelta(hours=2)
    plan_alerts()
    outage(NOW + timedelta(hours=1, minutes=50))
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.PENDING}
    outage(NOW + timedelta(hours=2, minutes=30))
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.FAILED}
