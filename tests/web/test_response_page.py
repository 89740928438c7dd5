"""One response: the customer's words first, answers with labels, contact links only with consent, deliveries."""

from __future__ import annotations

from django.test import Client

from closeloop.cases.models import Case
from closeloop.notify.models import Delivery
from tests.web.conftest import ingest


def test_the_verbatim_comes_first_and_every_answer_has_its_label(erin: Client) -> None:
    response = ingest(
        {"ease": 2, "completed": False, "factors": ["Speed"], "comment": "It failed twice."},
        interviewer_notes="Sounded close to cancelling.",
        audio_url="https://recordings.example.com/88213.mp3",
    )
    page = erin.get(f"/responses/{response.pk}").content.decode()
    main = page[page.index('id="main"') :]
    assert main.index("It failed twice.") < main.index("Customer")
    assert '<figure class="verbatim">' in page
    assert "How easy was the installation?</dt><dd>2/10" in page
    assert "Were you able to complete the installation?</dt><dd>No" in page
    assert "Sounded close to cancelling." in page
    assert '<audio controls preload="none" src="https://recordings.example.com/88213.mp3">' in page
    assert "Segment</dt><dd>SMB" in page
    assert "Agent</dt><dd>Dave Agent" in page
    ticket = response.ticket
    assert f'href="https://support.acme.example/tickets/{ticket}"' in page


def test_contact_links_only_when_the_customer_agreed(erin: Client) -> None:
    agreed = ingest(contact_ok=True)
    page = erin.get(f"/responses/{agreed.pk}").content.decode()
    assert 'href="mailto:pat@example.com"' in page and 'href="tel:+15555550123"' in page
    refused = ingest(contact_ok=False)
    page = erin.get(f"/responses/{refused.pk}").content.decode()
    assert "mailto:" not in page and "tel:" not in page and "+15555550123" not in page
    assert "did not agree to be contacted" in page


def test_a_script_url_never_becomes_a_player(erin: Client) -> None:
    response = ingest()
    type(response).objects.filter(pk=response.pk).update(audio_url="javascript:alert(1)")
    assert b"<audio" not in erin.get(f"/responses/{response.pk}").content


def test_alerts_show_their_deliveries_with_status_and_reason(erin: Client) -> None:
    response = ingest()
    page = erin.get(f"/responses/{response.pk}").content.decode()
    assert "Installation issues" in page
    deliveries = Delivery.objects.filter(alert__response=response)
    assert deliveries.exists()
    for delivery in deliveries:
        assert f'delivery-{delivery.status}"' in page
    # Sam, an also-alert, has no phone: the SMS is skipped and the page says why.
    skipped = deliveries.get(status="skipped", person__key="sam")
    assert skipped.last_error and skipped.last_error in page
    Delivery.objects.filter(pk=deliveries.first().pk).update(status="failed", last_error="550 mailbox unavailable")
    page = erin.get(f"/responses/{response.pk}").content.decode()
    assert "550 mailbox unavailable" in page and 'delivery-failed"' in page


def test_the_case_panel_shows_with_its_response(erin: Client) -> None:
    response = ingest()
    case = Case.objects.get(response=response)
    page = erin.get(f"/responses/{response.pk}").content.decode()
    assert f'<a href="/cases/{case.pk}">Case #{case.pk}</a>' in page
    assert f'action="/cases/{case.pk}/notes"' in page


def test_a_response_without_a_case_has_no_panel(erin: Client) -> None:
    response = ingest({"ease": 9, "completed": True, "comment": "Great."})
    page = erin.get(f"/responses/{response.pk}").content.decode()
    assert 'class="card case-panel"' not in page
    assert erin.get("/responses/999999").status_code == 404
