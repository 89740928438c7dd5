"""Closing a case from its page: resolution, a root cause from the template's list, the action taken and
whether the customer was spoken to; an unresolved close never looks like a success."""

from __future__ import annotations

import re

from django.test import Client

from closeloop.cases.models import Case, CaseEvent
from tests.conftest import FIXTURES


def close(client: Client, case: Case, **fields: str) -> object:
    data = {"status": "Closed", "resolution": "resolved", "root_cause": "Product", **fields}
    return client.post(f"/cases/{case.pk}/status", data)


def test_the_close_form_offers_the_templates_root_causes(erin: Client, failed_install: Case) -> None:
    page = erin.get(f"/cases/{failed_install.pk}").content.decode()
    select = re.search(r'<select name="root_cause"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None
    assert re.findall(r'<option value="([^"]*)"', select.group(1)) == [
        "",
        "Product",
        "Process",
        "People",
        "Price",
        "Other",
    ]
    assert "Spoke to customer? (when closing)" in page and "Action taken (when closing)" in page
    # Two forms on one page, each field with its own id.
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_closing_keeps_the_root_cause_and_the_action_taken(erin: Client, failed_install: Case) -> None:
    response = close(erin, failed_install, root_cause="People", action_taken="Walked her through the installer.")
    assert response.status_code == 302
    failed_install.refresh_from_db()
    assert (failed_install.root_cause, failed_install.action_taken) == ("People", "Walked her through the installer.")
    event = CaseEvent.objects.get(case=failed_install, type="closed")
    assert event.data == {
        "from": "Open",
        "to": "Closed",
        "resolution": "resolved",
        "root_cause": "People",
        "action_taken": "Walked her through the installer.",
    }
    page = erin.get(f"/cases/{failed_install.pk}").content.decode()
    assert "Closed as resolved · root cause: People" in page and "Action taken: Walked her through" in page


def test_closing_needs_a_root_cause_here(erin: Client, failed_install: Case) -> None:
    response = erin.post(f"/cases/{failed_install.pk}/status", {"status": "Closed", "resolution": "resolved"})
    assert response.status_code == 422
    assert (
        '<div class="error" id="id_root_cause_error"><p>closing a case needs a root cause' in response.content.decode()
    )
    assert Case.objects.get(pk=failed_install.pk).state == "open"


def test_spoke_to_customer_on_the_close_form_counts_as_contact(erin: Client, failed_install: Case) -> None:
    close(erin, failed_install, spoke="on", action_taken="Called; refunded the licence.")
    failed_install.refresh_from_db()
    assert failed_install.contacted_at is not None
    note = CaseEvent.objects.get(case=failed_install, type="note")
    assert note.data["spoke_to_customer"] is True and note.data["text"] == "Called; refunded the licence."


def test_spoke_to_customer_without_any_words_is_asked_for_them(erin: Client, failed_install: Case) -> None:
    response = close(erin, failed_install, spoke="on")
    assert response.status_code == 422 and "say in a note what you told the customer" in response.content.decode()
    assert Case.objects.get(pk=failed_install.pk).contacted_at is None


def test_closed_unresolved_never_wears_a_green_tick(erin: Client, failed_install: Case) -> None:
    close(erin, failed_install, resolution="unresolved", root_cause="Price")
    page = erin.get(f"/cases/{failed_install.pk}").content.decode()
    assert "badge-unresolved" in page and "Closed: unresolved" in page
    closed = page[
        page.index('<li class="event event-closed') : page.index("</li>", page.index('<li class="event event-closed'))
    ]
    assert "event-bad" in closed and "#i-cross" in closed and "#i-check" not in closed
    listed = erin.get("/cases/?state=closed").content.decode()
    row = listed[listed.index(f'data-case="{failed_install.pk}"') :]
    assert "badge-unresolved" in row[: row.index("</tr>")] and "i-check" not in row[: row.index("</tr>")]


def test_root_causes_are_configured_validated_and_exported(acme: None) -> None:
    from closeloop.config.apply import ConfigInvalid, apply_config
    from closeloop.config.export import export_config

    assert "root_causes: [Product, Process, People, Price, Other]" in export_config()
    text = (
        (FIXTURES / "acme.yaml")
        .read_text()
        .replace(
            "    statuses: [Open, Pending, Closed]",
            "    statuses: [Open, Pending, Closed]\n    root_causes: [Software, Training]",
        )
    )
    apply_config(text)
    assert "root_causes: [Software, Training]" in export_config()
    twice = text.replace("root_causes: [Software, Training]", "root_causes: [Software, software]")
    try:
        apply_config(twice)
    except ConfigInvalid as invalid:
        assert invalid.problems == ["case_templates[0].root_causes: root_causes lists a root cause twice"]
    else:
        raise AssertionError("a root cause given twice was accepted")
    assert apply_config(text).is_empty
