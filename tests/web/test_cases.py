"""The case page and its actions: views, notes (author pre-filled), status, closing (managers only), assigning."""

from __future__ import annotations

import re

from django.test import Client

from closeloop.cases.models import Case, CaseEvent
from closeloop.notify.models import Delivery
from tests.web.conftest import login_as


def test_opening_the_case_records_a_view_by_a_team_member(erin: Client, failed_install: Case) -> None:
    assert failed_install.viewed_at is None
    page = erin.get(f"/cases/{failed_install.pk}").content.decode()
    failed_install.refresh_from_db()
    assert failed_install.viewed_at is not None
    view = CaseEvent.objects.get(case=failed_install, type="viewed")
    assert view.actor.key == "erin" and view.data == {"team": True}
    assert "Opened the case" in page
    erin.get(f"/cases/{failed_install.pk}")
    assert CaseEvent.objects.filter(case=failed_install, type="viewed").count() == 1


def test_a_view_from_outside_the_team_does_not_count(admin_client_acme: Client, failed_install: Case) -> None:
    admin_client_acme.get(f"/cases/{failed_install.pk}")
    failed_install.refresh_from_db()
    assert failed_install.viewed_at is None


def test_the_note_author_is_the_logged_in_person_and_another_name_is_on_behalf_of(
    erin: Client, failed_install: Case
) -> None:
    page = erin.get(f"/cases/{failed_install.pk}").content.decode()
    assert 'name="author" id="id_author" maxlength="200" required value="Erin Diaz"' in page
    response = erin.post(
        f"/cases/{failed_install.pk}/notes",
        {"author": "Erin D. (covering)", "text": "Called; they can install now.", "spoke_to_customer": "on"},
    )
    assert response.status_code == 302 and response["Location"] == f"/cases/{failed_install.pk}"
    note = CaseEvent.objects.get(case=failed_install, type="note")
    assert note.data == {
        "text": "Called; they can install now.",
        "spoke_to_customer": True,
        "author": "Erin Diaz",
        "on_behalf_of": "Erin D. (covering)",
    }
    assert note.actor.key == "erin"
    failed_install.refresh_from_db()
    assert failed_install.contacted_at is not None
    page = erin.get(f"/cases/{failed_install.pk}").content.decode()
    assert "Called; they can install now." in page and "(Spoke? Yes)" in page
    assert "Note saved." in page


def test_a_note_needs_text(erin: Client, failed_install: Case) -> None:
    response = erin.post(f"/cases/{failed_install.pk}/notes", {"author": "Erin", "text": "  "})
    assert response.status_code == 422
    assert b"This field is required." in response.content
    assert not CaseEvent.objects.filter(case=failed_install, type="note").exists()


def test_a_note_returns_to_the_page_it_came_from_only_on_this_site(erin: Client, failed_install: Case) -> None:
    back = erin.post(
        f"/cases/{failed_install.pk}/notes",
        {"author": "Erin", "text": "One", "next": f"/responses/{failed_install.response_id}"},
    )
    assert back["Location"] == f"/responses/{failed_install.response_id}"
    away = erin.post(
        f"/cases/{failed_install.pk}/notes", {"author": "Erin", "text": "Two", "next": "https://evil.example/"}
    )
    assert away["Location"] == f"/cases/{failed_install.pk}"


def test_a_manager_changes_status_and_closes_with_a_resolution(erin: Client, failed_install: Case) -> None:
    assert erin.post(f"/cases/{failed_install.pk}/status", {"status": "Pending"}).status_code == 302
    failed_install.refresh_from_db()
    assert failed_install.status == "Pending"
    missing = erin.post(f"/cases/{failed_install.pk}/status", {"status": "Closed"})
    assert missing.status_code == 422 and b"closing a case needs a resolution" in missing.content
    closed = erin.post(
        f"/cases/{failed_install.pk}/status",
        {"status": "Closed", "resolution": "resolved", "root_cause": "Product", "note": "Done."},
    )
    assert closed.status_code == 302
    failed_install.refresh_from_db()
    assert (failed_install.state, failed_install.resolution) == ("closed", "resolved")
    page = erin.get(f"/cases/{failed_install.pk}").content.decode()
    assert "Closed: resolved" in page and "Closed as resolved" in page and "Done." in page


def test_a_team_member_may_not_close(acme: None, failed_install: Case) -> None:
    dave = login_as("dave")
    page = dave.get(f"/cases/{failed_install.pk}").content.decode()
    assert '<option value="Closed"' not in page
    assert "Only the case's managers can close it." in page
    response = dave.post(f"/cases/{failed_install.pk}/status", {"status": "Closed", "resolution": "resolved"})
    assert response.status_code == 302
    failed_install.refresh_from_db()
    assert failed_install.state == "open"
    assert dave.post(f"/cases/{failed_install.pk}/status", {"status": "Pending"}).status_code == 302
    assert dave.post(f"/cases/{failed_install.pk}/assign", {"owner": "dave"}).status_code == 302
    failed_install.refresh_from_db()
    assert failed_install.owner is None


def test_a_manager_assigns_an_owner(erin: Client, failed_install: Case) -> None:
    page = erin.get(f"/cases/{failed_install.pk}").content.decode()
    assert '<option value="dave">Dave Agent</option>' in page
    assert erin.post(f"/cases/{failed_install.pk}/assign", {"owner": "dave"}).status_code == 302
    failed_install.refresh_from_db()
    assert failed_install.owner.key == "dave"
    assert "Assigned to Dave Agent" in erin.get(f"/cases/{failed_install.pk}").content.decode()
    assert erin.post(f"/cases/{failed_install.pk}/assign", {"owner": "nobody"}).status_code == 422


def test_notes_email_the_team_through_the_outbox(erin: Client, failed_install: Case) -> None:
    before = Delivery.objects.count()
    erin.post(f"/cases/{failed_install.pk}/notes", {"author": "Erin", "text": "Called."})
    assert Delivery.objects.count() > before


def test_actions_need_post(erin: Client, failed_install: Case) -> None:
    for action in ("notes", "status", "assign"):
        assert erin.get(f"/cases/{failed_install.pk}/{action}").status_code == 405


def test_a_form_sent_back_with_an_error_returns_to_the_page_it_came_from(erin: Client, failed_install: Case) -> None:
    """Shown again at /cases/<id>/notes (POST only), the forms must not come back there once corrected: a 405."""
    case_url = f"/cases/{failed_install.pk}"
    failed = erin.post(f"{case_url}/notes", {"author": "Erin", "text": "  ", "next": case_url})
    assert failed.status_code == 422
    page = failed.content.decode()
    assert page.count(f'<input type="hidden" name="next" value="{case_url}">') == 3
    assert f'value="{case_url}/notes"' not in page
    corrected = erin.post(f"{case_url}/notes", {"author": "Erin", "text": "Called.", "next": case_url})
    assert corrected["Location"] == case_url and erin.get(corrected["Location"]).status_code == 200
    # Without a `next` (or with one pointing away) the forms come back to the case.
    page = erin.post(f"{case_url}/notes", {"author": "Erin", "text": "  "}).content.decode()
    assert page.count(f'<input type="hidden" name="next" value="{case_url}">') == 3


def test_an_error_is_shown_by_its_field_open_and_focused_with_the_text_kept(erin: Client, failed_install: Case) -> None:
    response = erin.post(
        f"/cases/{failed_install.pk}/status",
        {"status": "Closed", "note": "Refund agreed.", "next": f"/responses/{failed_install.response_id}"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    status_box = page[page.index('<details class="action" open>') : page.index("</details>")]
    assert "Save status" in status_box
    assert '<div class="error" id="id_resolution_error"><p>closing a case needs a resolution' in status_box
    select = re.search(r"<select[^>]*id=\"id_resolution\"[^>]*>", status_box)
    assert select is not None
    for attribute in ('aria-invalid="true"', 'aria-describedby="id_resolution_error"', "autofocus"):
        assert attribute in select.group(), attribute
    assert "Refund agreed.</textarea>" in status_box
    assert f'name="next" value="/responses/{failed_install.response_id}"' in status_box

    note = erin.post(f"/cases/{failed_install.pk}/notes", {"author": " ", "text": "Voicemail."}).content.decode()
    assert '<div class="error" id="id_author_error"><p>This field is required.</p></div>' in note
    assert 'aria-invalid="true" aria-describedby="id_author_error" autofocus>' in note
    assert ">Voicemail.</textarea>" in note
    # The other forms stay closed: only the one with the error opens.
    assert note.count('<details class="action" open>') == 0
