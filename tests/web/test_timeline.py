"""The case timeline: emails about an event folded into its line, one round each; views once per person."""

from __future__ import annotations

import re

from django.test import Client
from django.utils import timezone

from closeloop.cases.models import Case, CaseEvent
from closeloop.cases.services import do_add_note
from tests.web.conftest import login_as


def _timeline(html: str) -> str:
    return html[html.index('<ol class="timeline"') : html.index("</ol>", html.index('<ol class="timeline"'))]


def test_the_emails_about_an_event_are_one_collapsible_line(erin: Client, failed_install: Case) -> None:
    do_add_note(failed_install, text="Left a voicemail.", now=timezone.now())
    assert CaseEvent.objects.filter(case=failed_install, type="notified").count() == 2  # opened, note
    timeline = _timeline(erin.get(f"/cases/{failed_install.pk}").content.decode())
    assert "Emailed" not in re.sub(r"<details.*?</details>", "", timeline, flags=re.S)
    rounds = re.findall(
        r'<details class="event-round">\s*<summary>.*?</svg>(.*?)</summary>\s*<ul>(.*?)</ul>', timeline, re.S
    )
    # The team: Erin and Rita manage, Dave works on it.
    assert [summary for summary, _ in rounds] == ["Emailed 3 people", "Emailed 3 people"]
    assert re.findall(r"<li>([^<]+)</li>", rounds[1][1]) == ["Dave Agent", "Erin Diaz", "Rita Region"]
    note = timeline[timeline.index("event-note") :]
    assert note.index("Left a voicemail.") < note.index("event-round")


def test_each_person_views_a_case_once_in_the_timeline(erin: Client, failed_install: Case) -> None:
    admin = login_as("admin")
    for client in (erin, erin, admin, admin):
        client.get(f"/cases/{failed_install.pk}")
        client.get(f"/responses/{failed_install.response_id}")
    views = CaseEvent.objects.filter(case=failed_install, type="viewed")
    assert sorted(v.actor.key for v in views) == ["admin", "erin"]
    timeline = _timeline(erin.get(f"/cases/{failed_install.pk}").content.decode())
    assert timeline.count("Opened the case") == 2 and "not in the team" not in timeline
