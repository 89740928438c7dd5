"""Several workers never produce the same digest twice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from closeloop.notify.models import Delivery
from closeloop.reports.digests import run_due_digests, run_schedule
from closeloop.reports.models import DigestItem, DigestRun, DigestSchedule
from tests.helpers import race
from tests.reports.conftest import unhappy

MONDAY = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
TUESDAY = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_a_worker_that_lost_the_claim_runs_nothing(acme):
    run_due_digests(MONDAY)
    unhappy(datetime(2026, 11, 23, 10, tzinfo=UTC))
    schedule = DigestSchedule.objects.get()
    assert run_schedule(schedule.pk, TUESDAY) is not None
    # A second worker that read the same due row a moment ago finds it moved on.
    assert run_schedule(schedule.pk, TUESDAY) is None
    assert DigestRun.objects.filter(run_at=TUESDAY).count() == 1
    assert Delivery.objects.filter(topic="digest").count() == 4  # erin and sam: an SMS and an email each


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_four_workers_at_the_alert_time_produce_one_digest(acme, attempt):
    run_due_digests(MONDAY)
    for hour in (10, 11, 12):
        unhappy(datetime(2026, 11, 23, hour, tzinfo=UTC))
    errors = race([lambda: run_due_digests(TUESDAY) for _ in range(4)])
    assert errors == []
    assert DigestRun.objects.filter(run_at=TUESDAY).count() == 1
    assert DigestItem.objects.count() == 3
    assert Delivery.objects.filter(topic="digest").count() == 4
    assert DigestSchedule.objects.get().next_run_at == datetime(2026, 11, 25, 9, tzinfo=UTC)


@pytest.mark.django_db
def test_a_response_fixed_while_the_report_was_being_made_is_in_the_digest(acme, monkeypatch):
    from closeloop.actions.fix_response import fix_response
    from closeloop.reports import digests

    run_due_digests(MONDAY)
    quarantined = unhappy(datetime(2026, 11, 23, 10, tzinfo=UTC), unit="NOPE")
    prepare = digests._prepare
    calls = []

    def prepare_then_fix(contexts, now):
        runs, deliveries = prepare(contexts, now)
        if not calls:
            # Another process fixes the response after the PDFs were made, before this worker claims the run.
            fix_response(quarantined, {"unit": "SUP-EMEA"}, now=datetime(2026, 11, 24, 8, tzinfo=UTC))
        calls.append(runs)
        return runs, deliveries

    monkeypatch.setattr(digests, "_prepare", prepare_then_fix)
    run_due_digests(TUESDAY)
    assert [[len(run.responses) for run in runs] for runs in calls] == [[0], [1]]
    assert list(DigestItem.objects.values_list("response", flat=True)) == [quarantined.pk]
    assert DigestRun.objects.get(run_at=TUESDAY).status == "sent"
