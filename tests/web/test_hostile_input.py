"""No address or form makes a page fail: dates off the calendar are form errors or 400s, text that cannot be
stored is refused with 400 naming the field, and nothing is written."""

from __future__ import annotations

import pytest

from closeloop.cases.models import Case, CaseEvent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/responses/?date_from=9999-12-31",
        "/responses/?date_to=0001-01-01",
        "/alerts/?date_from=9999-12-31",
        "/reports/?date_from=0001-01-01",
        "/reports/?date_to=9999-12-31",
        "/reports/summary.csv?date_to=9999-12-31",
        "/reports/retention/?date_from=0001-01-01&date_to=9999-12-31",
    ],
)
def test_list_and_report_pages_show_a_form_error_for_a_day_off_the_calendar(admin_client_acme, url: str) -> None:
    answer = admin_client_acme.get(url)
    assert answer.status_code in (200, 400)
    if answer.status_code == 200 and answer["Content-Type"].startswith("text/html"):
        assert "is outside 1970-01-01..2999-12-31" in answer.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/recovery-notes?unit=SUP-EMEA&date=9999-12-31",
        "/recovery-notes?unit=SUP-EMEA&date=0",
        "/reports/service-recovery.pdf?unit=SUP-EMEA&date=9999-12-31",
    ],
)
def test_a_day_off_the_calendar_in_an_address_is_a_400_that_says_why(admin_client_acme, url: str) -> None:
    answer = admin_client_acme.get(url)
    assert answer.status_code == 400
    assert b"1970-01-01..2999-12-31" in answer.content or b"YYYY-MM-DD" in answer.content


@pytest.mark.parametrize("url", ["/responses/?ticket=a%00b", "/?x=%00", "/outbox/?status=%00"])
def test_a_nul_character_in_an_address_is_a_400_naming_the_parameter(admin_client_acme, url: str) -> None:
    answer = admin_client_acme.get(url)
    assert answer.status_code == 400
    assert b"contains a NUL character" in answer.content


def test_a_note_with_a_nul_character_is_refused_and_nothing_is_written(erin, failed_install: Case) -> None:
    before = CaseEvent.objects.filter(case=failed_install).count()
    answer = erin.post(f"/cases/{failed_install.pk}/notes", {"text": "call\x00back", "author": "Erin"})
    assert answer.status_code == 400
    assert answer.content.decode() == "form.text: contains a NUL character (\\u0000)"
    assert CaseEvent.objects.filter(case=failed_install).count() == before
