"""Reassigning a valid response to another unit from its page: the case follows with a `moved` event; the
Django admin only shows responses, so nobody rewrites a customer's words or moves one without its case."""

from __future__ import annotations

from django.test import Client

from closeloop.cases.models import Case, CaseEvent
from closeloop.feedback.models import Response
from tests.web.conftest import ingest, login_as


def test_an_admin_moves_a_response_and_its_case_follows(admin_client_acme: Client, failed_install: Case) -> None:
    response_id = failed_install.response_id
    page = admin_client_acme.get(f"/responses/{response_id}").content.decode()
    assert "Reassign to another unit" in page and f'action="/responses/{response_id}/move"' in page
    assert '<option value="SUP-EMEA"' not in page[page.index("Reassign to another unit") :]
    moved = admin_client_acme.post(f"/responses/{response_id}/move", {"unit": "SUP-UK"}, follow=True)
    assert (
        f"Moved from SUP-EMEA to Support UK (SUP-UK); case #{failed_install.pk} moved with it."
        in moved.content.decode()
    )
    failed_install.refresh_from_db()
    assert failed_install.unit.code == "SUP-UK"
    assert Response.objects.get(pk=response_id).unit.code == "SUP-UK"
    event = CaseEvent.objects.get(case=failed_install, type="moved")
    assert (event.data["from_unit"], event.data["to_unit"], event.actor.key) == ("SUP-EMEA", "SUP-UK", "admin")
    assert set(failed_install.managers.values_list("key", flat=True)) == {"nophone", "rita"}
    assert "Moved from SUP-EMEA to SUP-UK" in admin_client_acme.get(f"/cases/{failed_install.pk}").content.decode()


def test_moving_needs_a_known_unit_and_an_admin(admin_client_acme: Client, failed_install: Case) -> None:
    refused = admin_client_acme.post(f"/responses/{failed_install.response_id}/move", {"unit": "ATLANTIS"})
    assert refused.status_code == 422 and b"Select a valid choice." in refused.content
    erin = login_as("erin")
    assert b"Reassign to another unit" not in erin.get(f"/responses/{failed_install.response_id}").content
    assert erin.post(f"/responses/{failed_install.response_id}/move", {"unit": "SUP-UK"}).status_code == 403
    assert Case.objects.get(pk=failed_install.pk).unit.code == "SUP-EMEA"


def test_a_quarantined_response_is_fixed_not_moved(admin_client_acme: Client) -> None:
    response = ingest(unit="ATLANTIS")
    page = admin_client_acme.get(f"/responses/{response.pk}").content.decode()
    assert "Quarantined: fix the routing" in page and "Reassign to another unit" not in page
    refused = admin_client_acme.post(f"/responses/{response.pk}/move", {"unit": "SUP-UK"}, follow=True)
    assert b"fix a quarantined one instead" in refused.content


def test_the_admin_site_shows_responses_but_does_not_change_them(failed_install: Case) -> None:
    ada = login_as("admin")
    response = failed_install.response
    view = ada.get(f"/admin/feedback/response/{response.pk}/change/")
    assert view.status_code == 200
    html = view.content.decode()
    assert 'name="answers"' not in html and 'name="unit"' not in html and 'name="overall"' not in html
    ada.post(f"/admin/feedback/response/{response.pk}/change/", {"overall": "10", "unit": "", "answers": "{}"})
    response.refresh_from_db()
    assert response.overall == 2 and response.unit.code == "SUP-EMEA"
    assert ada.get(f"/admin/feedback/response/{response.pk}/delete/").status_code == 403
