"""One report per person: someone responsible for several units of a digest gets one SMS with the total and
one email with one PDF covering all of them, grouped by unit (seed 003)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from closeloop.notify.models import Delivery
from closeloop.org.models import Person
from closeloop.reports.models import DigestRun
from tests.helpers import ApiClient, apply_acme, create_token, person_entry
from tests.reports.conftest import digest_emails, digest_sms, pdf_links, pdf_of, pdf_text, tick, unhappy

pytestmark = pytest.mark.django_db

TUE_0900 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def two_units(report_per: str | None = None) -> Any:
    def change(data: dict[str, Any]) -> None:
        digest = data["digests"][0]
        digest["units"] = ["SUP-EMEA", "SUP-UK"]
        if report_per:
            digest["report_per"] = report_per
        # Erin leads SUP-EMEA and is an also-alert of SUP-UK; Noel leads SUP-UK; Sam is an also-alert of SUP-EMEA.
        person_entry(data, "erin")["roles"].append({"unit": "SUP-UK", "role": "also_alert"})

    return change


@pytest.fixture
def monday(db: None) -> dict[str, Any]:
    apply_acme(two_units())
    tick(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    return {
        "emea": [unhappy(datetime(2026, 11, 23, 10, tzinfo=UTC)), unhappy(datetime(2026, 11, 23, 11, tzinfo=UTC))],
        "uk": [unhappy(datetime(2026, 11, 23, 12, tzinfo=UTC), unit="SUP-UK", comment="The UK installer hung.")],
    }


def test_a_person_of_two_units_gets_one_sms_and_one_email_for_both(monday, smtp, sms) -> None:
    tick(TUE_0900)
    assert digest_sms(sms) == [
        (
            "/sms/+15555550101",
            "3 unhappy customers yesterday at Support EMEA and Support UK: "
            "http://127.0.0.1:8000/reports/service-recovery.pdf?unit=SUP-EMEA&unit=SUP-UK&date=2026-11-24",
        )
    ]
    emails = {str(m["To"]): m for m in digest_emails(smtp)}
    assert sorted(emails) == ["erin@acme.example", "noel@acme.example", "sam@acme.example"]
    erin = emails["erin@acme.example"]
    assert (
        str(erin["Subject"]) == "Service Recovery Report: 3 unhappy customers yesterday at Support EMEA and Support UK"
    )
    text = pdf_text(pdf_of(erin))
    assert "Service Recovery Report: Support EMEA, Support UK" in text
    assert "Support EMEA SUP-EMEA · 2 unhappy customers" in text and "Support UK SUP-UK · 1 unhappy customer" in text
    for response in monday["emea"] + monday["uk"]:
        assert response.ticket in text
    assert text.index(monday["emea"][1].ticket) < text.index("Support UK SUP-UK") < text.index(monday["uk"][0].ticket)
    # The title's pencil opens the notes dialog for every response of both units.
    assert "http://127.0.0.1:8000/recovery-notes?unit=SUP-EMEA&unit=SUP-UK&date=2026-11-23" in pdf_links(pdf_of(erin))
    # Those responsible for one unit get that unit's report as before.
    assert str(emails["sam@acme.example"]["Subject"]).endswith("2 unhappy customers yesterday at Support EMEA")
    assert str(emails["noel@acme.example"]["Subject"]).endswith("1 unhappy customer yesterday at Support UK")
    assert "Support EMEA" not in pdf_text(pdf_of(emails["noel@acme.example"]))
    # Each unit still has its own run of the digest.
    assert sorted(DigestRun.objects.filter(run_at=TUE_0900).values_list("unit__code", "responses")) == [
        ("SUP-EMEA", 2),
        ("SUP-UK", 1),
    ]


def test_the_email_lists_each_unit_with_its_customers(monday, smtp, sms) -> None:
    tick(TUE_0900)
    erin = Delivery.objects.get(topic="digest", channel="email", person__key="erin")
    assert "3 unhappy customers at your 2 units" in erin.text
    assert "\nSupport EMEA (SUP-EMEA): 2\n" in erin.text and "\nSupport UK (SUP-UK): 1\n" in erin.text
    attachment = erin.payload["attachments"][0]
    assert attachment["filename"] == "service-recovery-SUP-EMEA+SUP-UK-2026-11-24.pdf"


def test_a_unit_with_nothing_to_report_is_left_out_of_the_combined_report(db, smtp, sms) -> None:
    apply_acme(two_units())
    tick(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    unhappy(datetime(2026, 11, 23, 10, tzinfo=UTC))
    tick(TUE_0900)
    assert digest_sms(sms) == [
        (
            "/sms/+15555550101",
            "1 unhappy customer yesterday at Support EMEA: "
            "http://127.0.0.1:8000/reports/service-recovery.pdf?unit=SUP-EMEA&date=2026-11-24",
        )
    ]
    # Noel's only unit had nobody unhappy: with `when_empty: skip` he gets nothing.
    assert sorted(str(m["To"]) for m in digest_emails(smtp)) == ["erin@acme.example", "sam@acme.example"]


def test_report_per_unit_keeps_one_report_per_unit(db, smtp, sms) -> None:
    apply_acme(two_units("unit"))
    tick(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    unhappy(datetime(2026, 11, 23, 10, tzinfo=UTC))
    unhappy(datetime(2026, 11, 23, 12, tzinfo=UTC), unit="SUP-UK")
    tick(TUE_0900)
    erin = [str(m["Subject"]) for m in digest_emails(smtp) if str(m["To"]) == "erin@acme.example"]
    assert sorted(erin) == [
        "Service Recovery Report: 1 unhappy customer yesterday at Support EMEA",
        "Service Recovery Report: 1 unhappy customer yesterday at Support UK",
    ]
    assert len(digest_sms(sms)) == 2


def test_the_pdf_address_serves_the_combined_report(monday) -> None:
    tick(TUE_0900)
    reader = ApiClient(create_token(["read"], Person.objects.get(key="erin")))
    answer = reader.get("/reports/service-recovery.pdf", unit=["SUP-EMEA", "SUP-UK"], date="2026-11-24")
    assert answer.status_code == 200
    assert answer["Content-Disposition"] == 'inline; filename="service-recovery-SUP-EMEA+SUP-UK-2026-11-24.pdf"'
    text = pdf_text(answer.content)
    assert "For Erin Diaz · 3 unhappy customers" in text
    # Sam sees SUP-EMEA only: asking for both units is refused as for any unit he may not see.
    sam = ApiClient(create_token(["read"], Person.objects.get(key="sam")))
    assert sam.get("/reports/service-recovery.pdf", unit=["SUP-EMEA", "SUP-UK"], date="2026-11-24").status_code == 404
