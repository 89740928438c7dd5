"""The Service Recovery Report as a file: `GET /reports/service-recovery.pdf` and `closeloop digest`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.test import Client

from closeloop.cases.models import Case
from closeloop.cases.services import do_add_note
from closeloop.org.models import Person
from tests.reports.conftest import pdf_links, pdf_text, tick, unhappy

pytestmark = pytest.mark.django_db

URL = "/reports/service-recovery.pdf"


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def reported(acme: None):
    """Tuesday's digest for SUP-EMEA has run with one failed installation, which has two notes."""
    tick(utc(23, 9, 30))
    response = unhappy(utc(23, 10), comment="It failed twice.", completed=False)
    case = Case.objects.get(response=response)
    do_add_note(case, text="Left a voicemail.", author_name="Erin Diaz", now=utc(23, 11))
    do_add_note(
        case, text="Talked it through; fixed.", spoke_to_customer=True, author_name="Erin Diaz", now=utc(23, 12)
    )
    tick(utc(24, 9))
    return response


def erin_client() -> Client:
    client = Client()
    client.force_login(Person.objects.get(key="erin").user)
    return client


def test_a_lead_gets_the_pdf_of_their_units_digest(reported):
    response = erin_client().get(URL, {"unit": "SUP-EMEA", "date": "2026-11-24"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert reported.ticket in text and "It failed twice." in text
    assert "(Spoke? No)" in text and "(Spoke? Yes)" in text
    assert "Left a voicemail." in text and "Talked it through; fixed." in text
    assert "For Erin Diaz" in text
    assert "Mon 23 Nov, 09:00 GMT to Tue 24 Nov, 09:00 GMT" in text


def test_a_read_token_gets_the_pdf(reported, api_as):
    response = api_as("read").get(URL, unit="SUP-EMEA", date="2026-11-24")
    assert response.status_code == 200
    assert reported.ticket in pdf_text(response.content)


def test_without_login_or_token_the_pdf_is_refused(reported, api_as):
    anonymous = Client().get(URL, {"unit": "SUP-EMEA", "date": "2026-11-24"})
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    unknown = Client().get(URL, {"unit": "SUP-EMEA"}, headers={"Authorization": "Bearer nope"})
    assert unknown.status_code == 401
    assert api_as("ingest").get(URL, unit="SUP-EMEA").status_code == 403


def test_bad_parameters_are_named(reported, api_as):
    client = api_as("read")
    bad_date = client.get(URL, unit="SUP-EMEA", date="24/11/2026")
    assert bad_date.status_code == 400
    assert bad_date.json()["errors"] == [{"loc": ["query", "date"], "msg": bad_date.json()["detail"]}]
    assert client.get(URL, date="2026-11-24").json()["errors"][0]["loc"] == ["query", "unit"]
    assert client.get(URL, unit="NOPE", date="2026-11-24").status_code == 404


def test_a_unit_the_person_may_not_see_is_not_found(reported, api_as):
    ursula = Person.objects.get(key="ursula")  # lead of SUP-US only
    assert api_as("read", person=ursula).get(URL, unit="SUP-EMEA", date="2026-11-24").status_code == 404


def test_a_day_without_a_run_shows_what_the_digest_would_report(acme, api_as):
    tick(utc(23, 9, 30))
    response = unhappy(utc(24, 10))
    pdf = api_as("read").get(URL, unit="SUP-EMEA", date="2026-11-25").content
    assert response.ticket in pdf_text(pdf)


def test_a_unit_without_a_digest_reports_its_calendar_day(acme, api_as):
    response = unhappy(utc(23, 15), unit="SUP-US")  # New York: 10:00 on the 23rd
    unhappy(utc(24, 6), unit="SUP-US")  # 01:00 on the 24th
    text = pdf_text(api_as("read").get(URL, unit="SUP-US", date="2026-11-23").content)
    assert response.ticket in text
    assert "1 unhappy customer" in text


def test_the_pdf_links_to_the_notes_dialog_and_the_ticket(reported, api_as):
    links = pdf_links(api_as("read").get(URL, unit="SUP-EMEA", date="2026-11-24").content)
    assert (
        f"http://127.0.0.1:8000/recovery-notes?unit=SUP-EMEA&survey=upgrade-install&ticket={reported.ticket}" in links
    )
    assert "http://127.0.0.1:8000/recovery-notes?unit=SUP-EMEA&date=2026-11-23" in links
    assert f"https://support.acme.example/tickets/{reported.ticket}" in links


def test_the_digest_command_writes_a_days_report(reported, tmp_path, capsys):
    out = tmp_path / "digest.pdf"
    call_command("digest", unit="SUP-EMEA", date="2026-11-24", out=str(out))
    assert str(out) in capsys.readouterr().out
    assert reported.ticket in pdf_text(out.read_bytes())


def test_the_pdf_is_never_kept_by_a_cache(reported):
    response = erin_client().get(URL, {"unit": "SUP-EMEA", "date": "2026-11-24"})
    assert response["Cache-Control"] == "private, no-store"
