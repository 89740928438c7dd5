"""The Service Recovery Notes dialog by URL: any two of unit, date and ticket; Previous / Next; clear errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.test import Client

from closeloop.cases.models import Case, CaseEvent
from tests.web.conftest import ingest

# 10:00, 11:00 and 12:00 in New York on Friday 20 November 2026; 02:00 UTC on the 21st is still the 20th there.
MORNING = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture
def day_of_failures(acme: None) -> list:
    first = ingest(at=MORNING, name="First Customer")
    ingest({"ease": 9, "completed": True, "comment": "Fine."}, at=MORNING.replace(hour=16), name="Happy Customer")
    second = ingest(at=MORNING.replace(hour=17), name="Second Customer")
    third = ingest(at=datetime(2026, 11, 21, 2, 0, tzinfo=UTC), name="Third Customer")
    ingest(at=MORNING, unit="SUP-US", name="Other Unit")
    return [first, second, third]


def _showing(page: bytes) -> str:
    return re.search(r"<dt>Customer</dt><dd>([^<·]+)", page.decode()).group(1).strip()  # type: ignore[union-attr]


def test_unit_and_date_walk_through_that_days_responses_needing_recovery(erin: Client, day_of_failures: list) -> None:
    url = "/recovery-notes?unit=SUP-EMEA&date=2026-11-20"
    first = erin.get(url)
    assert first.status_code == 200
    assert _showing(first.content) == "First Customer"
    assert b"Response 1 of 3 needing recovery" in first.content
    assert re.search(rb'value="previous" class="button-quiet" disabled', first.content)
    second = erin.get(url + "&pos=2")
    assert _showing(second.content) == "Second Customer"
    third = erin.get(url + "&pos=3")
    assert _showing(third.content) == "Third Customer"
    assert re.search(rb'value="next" class="button-quiet" disabled', third.content)


def test_next_saves_the_note_and_moves_on(erin: Client, day_of_failures: list) -> None:
    url = "/recovery-notes?unit=SUP-EMEA&date=2026-11-20&pos=1"
    moved = erin.post(url, {"author": "Erin Diaz", "text": "Left a voicemail.", "action": "next"})
    assert moved.status_code == 302 and moved["Location"].endswith("pos=2")
    note = CaseEvent.objects.get(type="note", case__response=day_of_failures[0])
    assert note.data == {"text": "Left a voicemail.", "spoke_to_customer": False, "author": "Erin Diaz"}
    back = erin.post(moved["Location"], {"author": "Erin Diaz", "text": "", "action": "previous"})
    assert back["Location"].endswith("pos=1")
    assert not CaseEvent.objects.filter(type="note", case__response=day_of_failures[1]).exists()
    page = erin.get(back["Location"]).content.decode()
    assert "Left a voicemail." in page and "(Spoke? No)" in page


def test_save_with_no_text_is_an_error(erin: Client, day_of_failures: list) -> None:
    response = erin.post("/recovery-notes?unit=SUP-EMEA&date=2026-11-20", {"author": "Erin", "action": "save"})
    assert response.status_code == 422 and b"This field is required." in response.content


def test_a_ticket_shows_that_one_response(erin: Client, day_of_failures: list) -> None:
    ticket = day_of_failures[1].ticket
    for url in (f"/recovery-notes?unit=SUP-EMEA&ticket={ticket}", f"/recovery-notes?date=2026-11-20&ticket={ticket}"):
        page = erin.get(url)
        assert _showing(page.content) == "Second Customer"
        assert b"One response" in page.content
        assert re.search(rb'value="next" class="button-quiet" disabled', page.content)


def test_the_author_defaults_to_the_logged_in_person(erin: Client, day_of_failures: list) -> None:
    page = erin.get("/recovery-notes?unit=SUP-EMEA&date=2026-11-20").content.decode()
    assert 'id="id_author" maxlength="200" required value="Erin Diaz"' in page


def test_opening_the_dialog_counts_as_viewing_the_case(erin: Client, day_of_failures: list) -> None:
    erin.get("/recovery-notes?unit=SUP-EMEA&date=2026-11-20")
    assert Case.objects.get(response=day_of_failures[0]).viewed_at is not None


@pytest.mark.parametrize(
    "query",
    ["", "?unit=SUP-EMEA", "?date=2026-11-20", "?ticket=T-1", "?unit=&date=2026-11-20"],
)
def test_fewer_than_two_parameters_explain_the_url(erin: Client, query: str) -> None:
    page = erin.get(f"/recovery-notes{query}")
    assert page.status_code == 400
    assert b"Use any two of these three parameters" in page.content


def test_a_malformed_date_is_explained(erin: Client) -> None:
    page = erin.get("/recovery-notes?unit=SUP-EMEA&date=20-11-2026")
    assert page.status_code == 400 and b"is not a date like 2026-11-23 (YYYY-MM-DD)" in page.content


@pytest.mark.parametrize(
    "query",
    [
        "unit=SUP-EMEA&date=2026-11-19",
        "unit=NOPE&date=2026-11-20",
        "unit=SUP-US&date=2026-11-20",
        "unit=SUP-EMEA&ticket=T-0",
    ],
)
def test_no_match_gives_the_known_message(erin: Client, day_of_failures: list, query: str) -> None:
    page = erin.get(f"/recovery-notes?{query}")
    assert page.status_code == 404
    assert (
        b"Your URL is formed correctly but we couldn&#x27;t find any surveys that matched the criteria" in page.content
    )


def test_a_replaced_response_is_no_match_and_its_replacement_is(erin: Client, acme: None) -> None:
    earlier = ingest(at=MORNING, ticket="T-500", name="First Try")
    ingest(at=MORNING.replace(hour=18), ticket="T-500", name="Second Try")
    page = erin.get("/recovery-notes?unit=SUP-EMEA&ticket=T-500")
    assert _showing(page.content) == "Second Try"
    assert Case.objects.filter(response__ticket="T-500").count() == 1
    assert earlier.ticket == "T-500"


def test_a_ticket_answered_in_two_surveys_lists_both(erin: Client, acme: None) -> None:
    install = ingest(at=MORNING, name="Two Surveys", ticket="T-2S")
    nps = ingest({"recommend": 2, "comment": "Not again."}, survey="relationship", at=MORNING.replace(hour=16),
                 name="Two Surveys", ticket="T-2S")  # fmt: skip
    url = "/recovery-notes?unit=SUP-EMEA&ticket=T-2S"
    first = erin.get(url).content.decode()
    assert "Response 1 of 2 for ticket T-2S" in first
    assert f"/responses/{install.pk}" in first
    second = erin.get(url + "&pos=2").content.decode()
    assert f"/responses/{nps.pk}" in second and "Not again." in second
    # The survey names the one response the link is about.
    only = erin.get(url + "&survey=relationship").content.decode()
    assert "One response" in only and "Not again." in only


def test_a_response_id_alone_opens_that_response(erin: Client, day_of_failures: list) -> None:
    page = erin.get(f"/recovery-notes?response={day_of_failures[1].pk}")
    assert page.status_code == 200 and _showing(page.content) == "Second Customer"
    assert erin.get("/recovery-notes?response=999999").status_code == 404
    assert erin.get("/recovery-notes?response=second").status_code == 400


def test_several_units_walk_through_all_their_responses(admin_client_acme: Client, day_of_failures: list) -> None:
    page = admin_client_acme.get("/recovery-notes?unit=SUP-EMEA&unit=SUP-US&date=2026-11-20")
    assert b"Response 1 of 4 needing recovery" in page.content
    assert _showing(
        admin_client_acme.get("/recovery-notes?unit=SUP-EMEA&unit=SUP-US&date=2026-11-20&pos=2").content
    ) == ("Other Unit")


def test_several_units_one_of_which_is_hidden_read_as_no_match(erin: Client, day_of_failures: list) -> None:
    assert erin.get("/recovery-notes?unit=SUP-EMEA&unit=SUP-US&date=2026-11-20").status_code == 404
