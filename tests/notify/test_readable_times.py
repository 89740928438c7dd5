"""Times in emails, SMS and PDFs are written for people, in the unit's time zone: "Tue 24 Nov, 15:00 GMT"."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from closeloop.cases.escalation import escalate_due
from closeloop.cases.models import Case
from closeloop.notify.models import Delivery
from closeloop.worker.runner import run_due_work
from tests.cases.conftest import NOW, ingest
from tests.notify.conftest import HttpSink, SmtpSink, http_sink, smtp, smtp_sink  # noqa: F401
from tests.reports.conftest import pdf_of, pdf_text, unhappy

pytestmark = pytest.mark.usefixtures("acme")

# What a machine would have written: an ISO timestamp, with or without microseconds and offset.
ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


@pytest.fixture(autouse=True)
def _this_year():
    # The year is left out of times in the current year: pin "now" to the tests' year.
    with time_machine.travel(NOW, tick=False):
        yield


def case_emails(case: Case, topic: str) -> list[Delivery]:
    return list(Delivery.objects.filter(ref=f"case:{case.pk}", topic=topic, channel="email").order_by("id"))


def test_the_new_case_email_gives_opening_and_due_times_in_the_units_zone():
    # SUP-EMEA is in Europe/London; a Gold customer's case is due 24 h after it opened.
    case = Case.objects.get(response=ingest(at=NOW))
    [email, *_] = case_emails(case, "case")
    assert "Opened: Mon 23 Nov, 15:00 GMT" in email.text
    assert "Due: Tue 24 Nov, 15:00 GMT" in email.text
    assert not ISO.search(email.text)


def test_a_unit_without_its_own_zone_uses_the_organisations():
    # SUP-US and AMER name no time zone: the organisation's America/New_York applies.
    case = Case.objects.get(response=ingest(at=NOW, unit="SUP-US"))
    [email, *_] = case_emails(case, "case")
    assert "Opened: Mon 23 Nov, 10:00 EST" in email.text
    assert "Due: Tue 24 Nov, 10:00 EST" in email.text


def test_the_escalation_email_gives_the_due_time_for_people():
    case = Case.objects.get(response=ingest(at=NOW))
    later = NOW + timedelta(hours=25)
    with time_machine.travel(later, tick=False):
        escalate_due(later)
    # Not viewed after 24 h (rita), and overdue (rita and erin).
    emails = case_emails(case, "escalation")
    assert sorted(email.person.key for email in emails) == ["erin", "rita", "rita"]
    assert any("nobody in the team has opened it" in email.text for email in emails)
    for email in emails:
        assert "Due: Tue 24 Nov, 15:00 GMT" in email.text
        assert not ISO.search(email.text)


def test_a_case_due_in_another_year_names_the_year():
    eve = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
    with time_machine.travel(eve, tick=False):
        case = Case.objects.get(response=ingest(at=eve))
    [email, *_] = case_emails(case, "case")
    assert "Due: Fri 1 Jan 2027, 12:00 GMT" in email.text


def test_the_digest_email_sms_and_pdf_write_the_window_for_people(smtp, settings, http_sink):  # noqa: F811
    settings.SMS_URL = f"json://127.0.0.1:{http_sink.port}/sms/{{phone}}"
    run_due_work(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    unhappy(datetime(2026, 11, 23, 10, 0, tzinfo=UTC), comment="It failed twice.")
    with time_machine.travel(datetime(2026, 11, 24, 9, 0, tzinfo=UTC), tick=False):
        run_due_work(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    [digest] = [m for m in smtp.messages if str(m["Subject"]).startswith("Service Recovery Report")][:1]
    text = digest.get_body(("plain",)).get_content()
    assert "Mon 23 Nov, 09:00 GMT to Tue 24 Nov, 09:00 GMT" in text
    assert not ISO.search(text)
    report = pdf_text(pdf_of(digest))
    assert "Mon 23 Nov, 09:00 GMT to Tue 24 Nov, 09:00 GMT" in report
    assert "Mon 23 Nov, 10:00 GMT" in report, "when the response was received"
    sms = [
        request.json()["message"] for request in http_sink.requests if "unhappy customer" in request.json()["message"]
    ]
    assert sms and not any(ISO.search(message) for message in sms)


def test_the_alert_email_and_sms_carry_no_machine_timestamps():
    ingest(at=NOW)
    for delivery in Delivery.objects.filter(topic="alert"):
        assert not ISO.search(delivery.text), delivery.channel
    email = Delivery.objects.filter(topic="alert", channel="email").first()
    assert "Submitted Mon 23 Nov, 15:00 GMT" in email.text
