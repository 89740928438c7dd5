"""Quarantined responses: admins find them, give them a unit, and they raise their alerts and case."""

from __future__ import annotations

from django.test import Client

from closeloop.cases.models import Case
from closeloop.feedback.models import Response
from tests.web.conftest import ingest


def test_an_admin_fixes_a_quarantined_response_and_its_case_opens(admin_client_acme: Client) -> None:
    response = ingest(unit="ATLANTIS", name="Lost Customer")
    assert response.status == "invalid"
    listed = admin_client_acme.get("/responses/?status=invalid").content.decode()
    assert "Lost Customer" in listed and "invalid</span>" in listed
    page = admin_client_acme.get(f"/responses/{response.pk}").content.decode()
    assert "Quarantined: fix the routing" in page and "unknown unit &#x27;ATLANTIS&#x27;" in page
    fixed = admin_client_acme.post(f"/responses/{response.pk}/fix", {"unit": "SUP-EMEA", "segment": "SMB"})
    assert fixed.status_code == 302
    response.refresh_from_db()
    assert (response.status, response.unit.code) == ("valid", "SUP-EMEA")
    assert Case.objects.filter(response=response).exists()
    page = admin_client_acme.get(f"/responses/{response.pk}").content.decode()
    assert "The response is valid now." in page and "Quarantined" not in page


def test_an_unknown_unit_is_refused_and_nothing_changes(admin_client_acme: Client) -> None:
    response = ingest(unit="ATLANTIS")
    refused = admin_client_acme.post(f"/responses/{response.pk}/fix", {"unit": "NOPE", "segment": "SMB"})
    assert refused.status_code == 422 and b"Select a valid choice." in refused.content
    assert Response.objects.get(pk=response.pk).status == "invalid"


def test_leads_cannot_fix(erin: Client) -> None:
    response = ingest(segment="NOPE")
    assert response.status == "invalid" and response.unit is not None
    assert b"Quarantined" not in erin.get(f"/responses/{response.pk}").content
    assert erin.post(f"/responses/{response.pk}/fix", {"unit": "SUP-EMEA", "segment": "SMB"}).status_code == 403
