"""The daily digest: at the unit's alert time, one SMS with the count and one email with the PDF report."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from django.core.management import call_command
from django.db import transaction

from closeloop.notify.models import Delivery
from closeloop.org.models import Person
from closeloop.org.stamp import stamp
from closeloop.reports.models import Digest, DigestItem, DigestRun, DigestSchedule
from tests.reports.conftest import digest_emails, digest_sms, pdf_links, pdf_of, pdf_text, tick, unhappy

pytestmark = pytest.mark.django_db

# SUP-EMEA is in London; in November London is on UTC, so 09:00 local is 09:00Z. 23 Nov 2026 is a Monday.
MON_0900 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TUE_0900 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
WED_0900 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def running(acme: None) -> None:
    """A worker that has been running since Monday morning: Monday's (empty) digest is behind it."""
    tick(at(23, 9, 30))


def test_the_digest_at_nine_lists_yesterdays_unhappy_customers(running, smtp, sms):
    first = unhappy(at(23, 10), comment="The installer crashed twice.", factors=["Speed", "Courtesy"])
    second = unhappy(at(24, 8, 59), comment="Nobody called me back.")
    unhappy(at(23, 11), ease=9)  # happy: no recovery needed
    unhappy(at(23, 12), unit="SUP-UK")  # another unit
    after = unhappy(at(24, 9, 0))  # belongs to tomorrow's digest

    tick(at(24, 8, 59))
    assert digest_emails(smtp) == []

    tick(TUE_0900)

    run = DigestRun.objects.get(run_at=TUE_0900)
    assert (run.window_start, run.window_end, run.status, run.responses) == (MON_0900, TUE_0900, "sent", 2)
    assert set(DigestItem.objects.filter(run=run).values_list("response_id", flat=True)) == {first.pk, second.pk}
    assert not DigestItem.objects.filter(response=after).exists()

    emails = digest_emails(smtp)
    assert sorted(str(m["To"]) for m in emails) == ["erin@acme.example", "sam@acme.example"]
    assert {str(m["Subject"]) for m in emails} == {
        "Service Recovery Report: 2 unhappy customers yesterday at Support EMEA"
    }
    erin = next(m for m in emails if str(m["To"]) == "erin@acme.example")
    text = pdf_text(pdf_of(erin))
    assert "Service Recovery Report: Support EMEA" in text
    assert "Erin Diaz" in text  # the recipient
    for ticket in (first.ticket, second.ticket):
        assert ticket in text
    assert "The installer crashed twice." in text and "Nobody called me back." in text
    assert "Speed, Courtesy" in text
    assert "3 / 10" in text
    assert "Customer" in text and "SMB" in text and "Dave Agent" in text

    links = pdf_links(pdf_of(erin))
    assert f"https://support.acme.example/tickets/{first.ticket}" in links
    assert f"http://127.0.0.1:8000/recovery-notes?unit=SUP-EMEA&survey=upgrade-install&ticket={first.ticket}" in links
    assert "http://127.0.0.1:8000/recovery-notes?unit=SUP-EMEA&date=2026-11-23" in links

    # Erin has a phone; Sam has none, so his SMS is kept as skipped with the reason.
    assert digest_sms(sms) == [
        (
            "/sms/+15555550101",
            "2 unhappy customers yesterday at Support EMEA: "
            "http://127.0.0.1:8000/reports/service-recovery.pdf?unit=SUP-EMEA&date=2026-11-24",
        )
    ]
    skipped = Delivery.objects.get(topic="digest", channel="sms", person__key="sam")
    assert (skipped.status, skipped.last_error) == ("skipped", "no phone number")
    assert DigestSchedule.objects.get().next_run_at == WED_0900


def test_a_response_is_in_at_most_one_digest_of_its_unit(running, smtp, sms):
    response = unhappy(at(23, 10))
    tick(TUE_0900)
    tick(WED_0900)
    assert list(DigestItem.objects.filter(response=response).values_list("run__run_at", flat=True)) == [TUE_0900]
    # Wednesday's digest was empty: with `when_empty: skip` it is recorded but sends nothing.
    wednesday = DigestRun.objects.get(run_at=WED_0900)
    assert (wednesday.status, wednesday.responses) == ("skipped", 0)
    assert len(digest_emails(smtp)) == 2


def test_ticking_twice_never_sends_a_digest_twice(running, smtp, sms):
    unhappy(at(23, 10))
    tick(TUE_0900)
    tick(TUE_0900)
    tick(at(24, 9, 30))
    assert DigestRun.objects.filter(run_at=TUE_0900).count() == 1
    assert len(digest_emails(smtp)) == 2
    assert len(digest_sms(sms)) == 1


def test_a_worker_that_was_down_catches_up_one_digest_per_day(running, smtp, sms):
    monday = unhappy(at(23, 10))
    tuesday = unhappy(at(24, 10))
    tick(at(25, 12))
    runs = {run.run_at: run for run in DigestRun.objects.exclude(run_at=MON_0900)}
    assert sorted(runs) == [TUE_0900, WED_0900]
    assert list(runs[TUE_0900].items.values_list("response", flat=True)) == [monday.pk]
    assert list(runs[WED_0900].items.values_list("response", flat=True)) == [tuesday.pk]


def test_closeloop_tick_runs_the_digest(running, smtp, sms, capsys):
    unhappy(at(23, 10))
    call_command("tick", at="2026-11-24T09:00:00Z")
    assert "digests: 1" in capsys.readouterr().out
    assert len(digest_emails(smtp)) == 2


def test_a_changed_alert_time_reschedules_the_digest(running, smtp, sms):
    with transaction.atomic():
        Digest.objects.update(at=time(7, 30))
        stamp()
    tick(at(23, 12))
    assert DigestSchedule.objects.get().next_run_at == at(24, 7, 30)
    unhappy(at(23, 13))
    tick(at(24, 7, 30))
    run = DigestRun.objects.get(run_at=at(24, 7, 30))
    # The window is the 24 h before the new time: it reaches back to Monday 07:30.
    assert (run.window_start, run.responses) == (at(23, 7, 30), 1)


def test_a_new_digest_reports_only_the_last_day_that_closed_then_follows_its_schedule(acme):
    tick(at(23, 8))  # before Monday's time: Sunday's digest is the one that just closed
    assert list(DigestRun.objects.values_list("run_at", flat=True)) == [at(22, 9)]
    assert DigestSchedule.objects.get().next_run_at == MON_0900


def test_a_worker_started_after_the_alert_time_still_sends_that_mornings_digest(acme, smtp, sms):
    unhappy(at(23, 8))
    tick(at(23, 9, 30))
    assert DigestRun.objects.get().run_at == MON_0900
    assert len(digest_emails(smtp)) == 2
    assert DigestSchedule.objects.get().next_run_at == TUE_0900


def test_the_email_summarises_the_report_and_links_each_customers_notes(running, smtp, sms):
    response = unhappy(at(23, 10))
    tick(TUE_0900)
    email = next(m for m in digest_emails(smtp) if str(m["To"]) == "sam@acme.example")
    html = email.get_body(preferencelist=("html",)).get_content()
    plain = email.get_body(preferencelist=("plain",)).get_content()
    assert "Hello Sam Shift," in plain and "Hello Sam Shift," in html
    assert f"recovery-notes?unit=SUP-EMEA&amp;survey=upgrade-install&amp;ticket={response.ticket}" in html
    assert f"https://support.acme.example/tickets/{response.ticket}" in html
    assert "Sam Shift" in pdf_text(pdf_of(email))  # each recipient's report carries their own name
    [attachment] = list(email.iter_attachments())
    assert attachment.get_filename() == "service-recovery-SUP-EMEA-2026-11-24.pdf"


def test_a_recipient_without_an_email_address_gets_a_skipped_email(running, smtp, sms):
    with transaction.atomic():
        Person.objects.filter(key="sam").update(email="")
        stamp()
    unhappy(at(23, 10))
    tick(TUE_0900)
    skipped = Delivery.objects.get(topic="digest", channel="email", person__key="sam")
    assert (skipped.status, skipped.last_error, skipped.payload) == ("skipped", "no email address", {})
    assert [str(m["To"]) for m in digest_emails(smtp)] == ["erin@acme.example"]
