"""`srn=n` ("don't show notes"): every response, without its service recovery notes, in the API, the web list
and the Service Recovery Report."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from closeloop.cases.models import Case
from closeloop.cases.services import do_add_note
from closeloop.core.vocabulary import SRN_CODES, Srn, shows_notes
from tests.helpers import ApiClient, create_token
from tests.reports.conftest import pdf_text, tick, unhappy
from tests.web.conftest import login_as

pytestmark = pytest.mark.usefixtures("acme")


def utc(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def noted() -> None:
    """Two responses on Monday: an unhappy one with a note, and a happy one."""
    tick(utc(23, 9))
    response = unhappy(utc(23, 10), comment="It failed twice.", completed=False)
    unhappy(utc(23, 11), ease=9, comment="All good.")
    do_add_note(
        Case.objects.get(response=response),
        text="Called back, fixed the installer.",
        spoke_to_customer=True,
        author_name="Erin Diaz",
        now=utc(23, 12),
    )
    tick(utc(24, 9))


def test_n_is_a_code_of_the_vocabulary_that_hides_notes():
    assert Srn("n") is Srn.WITHOUT_NOTES
    assert "n" in SRN_CODES
    assert [code for code in SRN_CODES if not shows_notes(code)] == ["n"]


def test_the_api_lists_every_response_without_notes(noted):
    client = ApiClient(create_token(["read"]))
    everything = client.get("/api/v1/responses", srn="y").json()
    without = client.get("/api/v1/responses", srn="n").json()
    assert without["count"] == everything["count"] == 2
    assert [item["id"] for item in without["items"]] == [item["id"] for item in everything["items"]]
    assert [len(item["notes"]) for item in everything["items"]] == [0, 1]
    assert [item["notes"] for item in without["items"]] == [[], []]
    assert without["items"][1]["case"] is not None, "the case is still named"


def test_the_next_page_keeps_leaving_the_notes_out(noted):
    for _ in range(49):
        unhappy(utc(24, 10), ease=8)
    client = ApiClient(create_token(["read"]))
    first = client.get("/api/v1/responses", srn="n").json()
    assert first["count"] == 51 and "srn=n" in first["next"]
    second = client.get("/api/v1/responses", srn="n", page=2).json()
    assert [item["notes"] for item in second["items"]] == [[]]


def test_the_web_list_hides_the_latest_note_with_n(noted):
    erin = login_as("erin")
    shown = erin.get("/responses/", {"srn": "y"}).content.decode()
    hidden = erin.get("/responses/", {"srn": "n"}).content.decode()
    assert "Called back, fixed the installer." in shown
    assert "Called back, fixed the installer." not in hidden
    assert "It failed twice." in hidden and "All good." in hidden
    assert 'value="n" selected' in hidden


def test_the_report_leaves_the_notes_out_with_n(noted):
    erin = login_as("erin")
    query = {"unit": "SUP-EMEA", "date": "2026-11-24"}
    with_notes = pdf_text(erin.get("/reports/service-recovery.pdf", query).content)
    without = pdf_text(erin.get("/reports/service-recovery.pdf", query | {"srn": "n"}).content)
    assert "Called back, fixed the installer." in with_notes
    assert "Called back, fixed the installer." not in without
    assert "It failed twice." in without


def test_the_report_names_a_bad_srn(noted):
    answer = login_as("erin").get("/reports/service-recovery.pdf", {"unit": "SUP-EMEA", "srn": "q"})
    assert answer.status_code == 400
    assert answer.json()["errors"] == [
        {"loc": ["query", "srn"], "msg": "srn: 'q' is not y (with the notes written so far) or n (without them)"}
    ]
