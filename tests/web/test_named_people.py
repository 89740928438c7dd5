"""The pages follow the cases' people: everyone a case names opens its page and its response, also without a
role in the unit; the monitor of someone a case was escalated to lists it, saying at which level and why."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from closeloop.cases.escalation import escalate_due
from closeloop.cases.models import Case
from tests.helpers import apply_acme
from tests.web.conftest import ingest, login_as


def outsiders(data: dict[str, Any]) -> None:
    data["people"] += [
        {"id": "olga", "name": "Olga Outside", "email": "olga@acme.example", "login": True},
        {"id": "mia", "name": "Mia Member", "email": "mia@acme.example", "login": True},
        {"id": "quinn", "name": "Quinn Quality", "email": "quinn@acme.example", "login": True},
    ]
    template = data["case_templates"][0]
    template["team"]["managers"].append({"person": "olga"})
    template["team"]["members"].append({"person": "mia"})


@pytest.fixture
def named(db: None) -> Case:
    apply_acme(outsiders)
    return Case.objects.get(response=ingest(at=timezone.now() - timedelta(hours=1)))


def test_a_manager_without_a_role_opens_the_case_and_its_response_and_may_close(named: Case) -> None:
    olga = login_as("olga")
    page = olga.get(f"/cases/{named.pk}")
    assert page.status_code == 200
    assert b"It failed twice." in page.content
    # A manager is offered the closing status.
    assert b'<option value="Closed">Closed</option>' in page.content
    assert olga.get(f"/responses/{named.response_id}").status_code == 200
    closed = olga.post(
        f"/cases/{named.pk}/status", {"status": "Closed", "resolution": "resolved", "root_cause": "Process", "note": ""}
    )
    assert closed.status_code == 302
    named.refresh_from_db()
    assert named.state == "closed"


def test_a_member_without_a_role_contributes_but_is_not_offered_closing(named: Case) -> None:
    mia = login_as("mia")
    page = mia.get(f"/cases/{named.pk}")
    assert page.status_code == 200 and b'<option value="Closed">' not in page.content
    assert mia.post(f"/cases/{named.pk}/notes", {"author": "Mia Member", "text": "Called."}).status_code == 302
    assert named.events.filter(type="note", actor__key="mia").count() == 1


def test_someone_the_case_does_not_name_gets_404(named: Case) -> None:
    quinn = login_as("quinn")
    assert quinn.get(f"/cases/{named.pk}").status_code == 404
    assert quinn.get(f"/responses/{named.response_id}").status_code == 404


def test_my_cases_list_a_case_escalated_to_me_with_the_level_and_why(acme: None) -> None:
    case = Case.objects.get(response=ingest(at=timezone.now() - timedelta(hours=1), tier="Bronze"))
    ceo = login_as("ceo")
    assert b"No open cases" in ceo.get("/").content
    escalate_due(timezone.now() + timedelta(hours=72))
    monitor = ceo.get("/").content.decode()
    assert f'data-case="{case.pk}"' in monitor
    assert "Escalated to you (level 2): nobody in the team had opened it" in monitor
    # The fragment the page refreshes itself with says the same.
    assert "Escalated to you (level 2)" in ceo.get("/monitor/").content.decode()
    # Erin, the unit's lead, was reached by the overdue step (`unit_leads`): level 0, and that reason.
    assert "Escalated to you (level 0): it passed its closure goal" in login_as("erin").get("/").content.decode()
    # Dave works on the case and no escalation named him: his row carries no mark.
    assert "Escalated to you" not in login_as("dave").get("/").content.decode()


def test_the_case_page_of_someone_escalated_to_says_so_with_the_level_and_why(acme: None) -> None:
    case = Case.objects.get(response=ingest(at=timezone.now() - timedelta(hours=1), tier="Bronze"))
    escalate_due(timezone.now() + timedelta(hours=72))
    page = login_as("ceo").get(f"/cases/{case.pk}").content.decode()
    assert "Escalated to you (level 2): nobody in the team had opened it" in page
    assert "<dt>Escalated</dt><dd>Level 2</dd>" in page
    # The lead works on the case: the page says how far it went, but nothing was escalated to her at level 2.
    erin = login_as("erin").get(f"/cases/{case.pk}").content.decode()
    assert "<dt>Escalated</dt><dd>Level 2</dd>" in erin
    assert "Escalated to you (level 2)" not in erin


def test_a_repeat_failure_links_the_customers_earlier_case_and_back(acme: None) -> None:
    customer = {"id": "C-AGAIN", "name": "Pat Lee", "tier": "Silver", "contact_ok": True}
    first = Case.objects.get(response=ingest(at=timezone.now() - timedelta(days=10), customer=customer))
    second = Case.objects.get(response=ingest(customer=customer))
    assert second.previous_case_id == first.pk
    erin = login_as("erin")
    later = erin.get(f"/cases/{second.pk}").content.decode()
    assert f'<dt>Repeat of</dt><dd class="repeat-of"><a href="/cases/{first.pk}">Case #{first.pk}</a>' in later
    earlier = erin.get(f"/cases/{first.pk}").content.decode()
    assert f'<dt>Failed again</dt><dd class="repeated-by"><a href="/cases/{second.pk}">Case #{second.pk}</a>' in earlier


def test_an_earlier_case_the_viewer_may_not_open_is_named_without_a_link(acme: None) -> None:
    customer = {"id": "C-MOVED", "name": "Pat Lee", "tier": "Silver", "contact_ok": True}
    first = Case.objects.get(response=ingest(at=timezone.now() - timedelta(days=10), customer=customer, unit="SUP-US"))
    second = Case.objects.get(response=ingest(customer=customer))
    assert second.previous_case_id == first.pk
    page = login_as("erin").get(f"/cases/{second.pk}").content.decode()
    assert "an earlier case of this customer that you cannot open" in page
    assert f'href="/cases/{first.pk}"' not in page


def test_a_member_without_a_role_hears_the_cases_recording_and_an_outsider_gets_nothing_of_it(db: None) -> None:
    """The page's media-src names the recording's host for whoever the case names; a person it does not
    name gets the 404 of a missing case, whose policy names no host."""
    apply_acme(outsiders)
    response = ingest(at=timezone.now() - timedelta(hours=1), audio_url="https://recordings.example.com/3.mp3")
    case = Case.objects.get(response=response)
    page = login_as("mia").get(f"/cases/{case.pk}")
    assert page.status_code == 200
    assert b'src="https://recordings.example.com/3.mp3"' in page.content
    assert "media-src 'self' https://recordings.example.com" in page["Content-Security-Policy"]
    hidden = login_as("quinn").get(f"/cases/{case.pk}")
    assert hidden.status_code == 404
    assert "recordings.example.com" not in hidden["Content-Security-Policy"] + hidden.content.decode()
