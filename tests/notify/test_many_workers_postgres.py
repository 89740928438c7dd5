"""Several workers against one PostgreSQL database send every delivery exactly once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from closeloop.notify.models import Delivery
from closeloop.worker.runner import Worker

DELIVERIES = 2000
WORKERS = 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_workers_send_two_thousand_deliveries_exactly_once(smtp):
    created = timezone.now() - timedelta(seconds=1)
    Delivery.objects.bulk_create(
        Delivery(
            channel="email",
            address=f"lead{i}@acme.example",
            subject=f"alert {i}",
            text="Call the customer",
            idempotency_key=f"alert:{i}:email",
            status="pending",
            next_attempt_at=created,
            created_at=created,
        )
        for i in range(DELIVERIES)
    )
    stop = threading.Event()
    threads = [threading.Thread(target=Worker(stop, poll_seconds=0.05).run) for _ in range(WORKERS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        deadline = started + 300
        while time.monotonic() < deadline:
            if not Delivery.objects.filter(status__in=["pending", "sending"]).exists():
                break
            time.sleep(0.1)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    subjects = Counter(message["Subject"] for message in smtp.messages)
    assert len(subjects) == DELIVERIES
    assert max(subjects.values()) == 1, "a delivery was sent twice"
    assert set(Delivery.objects.values_list("status", "attempts").distinct()) == {("sent", 1)}
    print(f"{DELIVERIES} deliveries by {WORKERS} workers in {elapsed:.1f} s ({DELIVERIES / elapsed:.0f}/s)")
