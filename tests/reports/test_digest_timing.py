"""When a digest runs and what its window holds: weekends, DST changes and responses fixed late."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import pytest
from django.db import IntegrityError, transaction

from closeloop.actions.fix_response import fix_response
from closeloop.notify.models import Delivery
from closeloop.reports.models import Digest, DigestItem, DigestRun
from tests.reports.conftest import digest_emails, digest_sms, pdf_of, pdf_text, tick, unhappy

pytestmark = pytest.mark.django_db


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_a_saturday_sms_waits_for_monday_while_the_email_goes_on_saturday(acme, smtp, sms):
    tick(utc(11, 27, 9, 30))  # Friday: the worker is running
    unhappy(utc(11, 27, 12))
    saturday = utc(11, 28, 9)

    tick(saturday)
    assert [str(m["To"]) for m in digest_emails(smtp)] == ["erin@acme.example", "sam@acme.example"]
    assert digest_sms(sms) == []
    waiting = Delivery.objects.get(topic="digest", channel="sms", person__key="erin")
    assert (waiting.status, waiting.next_attempt_at) == ("pending", utc(11, 30, 9))  # Monday 09:00 London

    tick(utc(11, 29, 9))  # Sunday: its digest is empty, and Saturday's SMS still waits
    tick(utc(11, 30, 8, 59))
    assert digest_sms(sms) == []

    tick(utc(11, 30, 9))
    # Delivered on Monday, it names the day it is about: "yesterday" would be Sunday.
    assert [text for _, text in digest_sms(sms)] == [
        "1 unhappy customer on Friday at Support EMEA: "
        "http://127.0.0.1:8000/reports/service-recovery.pdf?unit=SUP-EMEA&date=2026-11-28"
    ]


def test_weekend_sms_on_sends_the_saturday_sms_on_saturday(acme, smtp, sms):
    Digest.objects.update(weekend_sms=True)
    tick(utc(11, 27, 9, 30))
    unhappy(utc(11, 27, 12))
    tick(utc(11, 28, 9))
    assert len(digest_sms(sms)) == 1


def test_an_invalid_response_fixed_before_the_alert_time_is_in_the_digest(acme, smtp, sms):
    tick(utc(11, 23, 9, 30))
    quarantined = unhappy(utc(11, 23, 14), unit="NOPE")
    assert quarantined.status == "invalid"
    fix_response(quarantined, {"unit": "SUP-EMEA"}, now=utc(11, 24, 8, 30))
    tick(utc(11, 24, 9))
    assert list(DigestItem.objects.values_list("response", flat=True)) == [quarantined.pk]


def test_an_invalid_response_fixed_after_the_alert_time_is_in_no_digest(acme, smtp, sms):
    tick(utc(11, 23, 9, 30))
    quarantined = unhappy(utc(11, 23, 14), unit="NOPE")
    tick(utc(11, 24, 9))
    fix_response(quarantined, {"unit": "SUP-EMEA"}, now=utc(11, 24, 10))
    tick(utc(11, 25, 9))
    tick(utc(11, 26, 9))
    assert not DigestItem.objects.exists()
    assert digest_emails(smtp) == []


def test_a_fix_after_the_alert_time_stays_out_even_when_the_worker_runs_late(acme, smtp, sms):
    tick(utc(11, 23, 9, 30))
    quarantined = unhappy(utc(11, 23, 14), unit="NOPE")
    fix_response(quarantined, {"unit": "SUP-EMEA"}, now=utc(11, 24, 9, 15))
    tick(utc(11, 24, 10))  # the 09:00 digest runs now, but reports the world as it was at 09:00
    assert DigestRun.objects.get(run_at=utc(11, 24, 9)).responses == 0


def test_digests_follow_local_time_through_the_end_of_summer_time(acme, smtp, sms):
    # London leaves summer time on Sunday 25 October 2026: 09:00 local is 08:00Z before, 09:00Z after.
    tick(utc(10, 23, 8, 30))
    saturday_morning = unhappy(utc(10, 24, 8, 30))  # 09:30 local, after Saturday's digest
    sunday_early = unhappy(utc(10, 25, 8, 30))  # 08:30 local, before Sunday's digest
    for day in range(24, 28):
        tick(utc(10, day, 12))
    runs = list(DigestRun.objects.order_by("run_at"))
    assert [run.run_at for run in runs] == [
        utc(10, 23, 8),
        utc(10, 24, 8),
        utc(10, 25, 9),
        utc(10, 26, 9),
        utc(10, 27, 9),
    ]
    # The windows tile time: Sunday's is 25 hours long, from Saturday 09:00 BST to Sunday 09:00 GMT.
    assert all(later.window_start == earlier.window_end for earlier, later in pairwise(runs))
    sunday = runs[2]
    assert (sunday.window_start, sunday.window_end) == (utc(10, 24, 8), utc(10, 25, 9))
    assert set(sunday.items.values_list("response", flat=True)) == {saturday_morning.pk, sunday_early.pk}


def test_an_empty_digest_is_recorded_but_silent_with_when_empty_skip(acme, smtp, sms):
    tick(utc(11, 23, 9, 30))
    tick(utc(11, 24, 9))
    run = DigestRun.objects.get(run_at=utc(11, 24, 9))
    assert (run.status, run.responses) == ("skipped", 0)
    assert not Delivery.objects.filter(topic="digest").exists()


def test_an_empty_digest_says_so_with_when_empty_send(acme, smtp, sms):
    Digest.objects.update(when_empty="send")
    tick(utc(11, 23, 9, 30))
    tick(utc(11, 24, 9))
    assert DigestRun.objects.get(run_at=utc(11, 24, 9)).status == "sent"
    assert [text for _, text in digest_sms(sms)][-1].startswith("No unhappy customers yesterday at Support EMEA: ")
    email = next(m for m in digest_emails(smtp) if str(m["To"]) == "erin@acme.example")
    assert str(email["Subject"]) == "Service Recovery Report: No unhappy customers yesterday at Support EMEA"
    assert "No unhappy customers in this period." in pdf_text(pdf_of(email))


def test_the_database_refuses_a_response_in_two_digests_of_one_unit(acme, smtp, sms):
    tick(utc(11, 23, 9, 30))
    response = unhappy(utc(11, 23, 10))
    tick(utc(11, 24, 9))
    other = DigestRun.objects.create(
        digest=Digest.objects.get(),
        unit=response.unit,
        run_at=utc(11, 30, 9),
        window_start=utc(11, 23, 9),
        window_end=utc(11, 30, 9),
        status="sent",
        created_at=utc(11, 30, 9),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        DigestItem.objects.create(run=other, digest=other.digest, unit=other.unit, response=response)
