"""The Sources pages, for administrators: last deliveries, dead letters with their replay, and the test
payload form that shows what a request would store without storing it."""

from __future__ import annotations

import html
import json

import pytest
from django.test import Client

from closeloop.config.apply import apply_config
from closeloop.feedback.models import Response
from closeloop.intake.models import DeadLetter, HookDelivery
from tests.connectors.tool_api import FakeApi
from tests.intake.conftest import hooks_config, payload, post_hook, sign
from tests.web.conftest import login_as
from tests.web.test_accessibility import PageFacts

TALLY = payload("tally_form_response.json")


@pytest.fixture
def admin(hooks: FakeApi) -> Client:
    return login_as("admin")


def text(reply: object) -> str:
    return html.unescape(reply.content.decode())  # type: ignore[attr-defined]


def test_the_list_shows_each_source_its_endpoint_and_its_last_deliveries(admin: Client) -> None:
    post_hook("event-tally", TALLY)
    post_hook("event-tally", TALLY, headers={"Tally-Signature": "bm9wZQ=="})
    page = text(admin.get("/sources/"))
    assert "POST http://127.0.0.1:8000/hooks/event-tally" in page
    assert page.count('class="card source-card"') == 10
    assert page.count('<tr class="hook-stored">') == 1
    assert page.count('<tr class="hook-refused">') == 1
    assert "the Tally-Signature signature does not match the body" in page
    assert '<li><a href="/sources/"' in page  # the navigation links the page for admins


def test_only_administrators_see_the_pages(hooks: FakeApi) -> None:
    erin = login_as("erin")
    assert erin.get("/sources/").status_code == 403
    assert erin.get("/sources/event-tally/").status_code == 403
    assert erin.post("/sources/event-tally/test", {"body": "{}"}).status_code == 403
    assert Client().get("/sources/").status_code == 302  # to the login page
    assert 'href="/sources/"' not in text(erin.get("/"))


def test_a_dead_letter_is_listed_and_replayed_from_the_page_after_the_map_is_fixed(
    admin: Client, hooks: FakeApi
) -> None:
    broken = {
        "key": "event-tally",
        "tool": "tally",
        "survey": "support-csat",
        "secret": "s3cret-for-tests",
        "map": {"external_id": {"hidden": "response"}, "unit": {"value": "SUP-EMEA"}},
    }
    apply_config(hooks_config(hooks.base, extra_sources=[broken]))
    assert post_hook("event-tally", TALLY).status == 422
    letter = DeadLetter.objects.get()
    page = text(admin.get("/sources/event-tally/"))
    assert "no response id to use as external_id (map.external_id: hidden 'response' is not in the payload)" in page
    assert f'action="/sources/event-tally/dead-letters/{letter.pk}/replay"' in page

    fixed = {**broken, "map": {"unit": {"value": "SUP-EMEA"}}}
    apply_config(hooks_config(hooks.base, extra_sources=[fixed]))
    reply = admin.post(f"/sources/event-tally/dead-letters/{letter.pk}/replay", follow=True)
    assert f"Dead letter {letter.pk} replayed: Stored 1 response." in text(reply)
    assert Response.objects.get().external_id == "2wgx4n"
    letter.refresh_from_db()
    assert letter.state == "replayed"
    assert "/replay" not in text(admin.get("/sources/event-tally/"))
    # Sent again (a second tab, a double click): the event is stored already.
    admin.post(f"/sources/event-tally/dead-letters/{letter.pk}/replay")
    assert Response.objects.count() == 1
    assert HookDelivery.objects.filter(outcome="duplicate", replay=True).count() == 1


def test_the_test_form_shows_what_would_be_stored_and_stores_nothing(admin: Client) -> None:
    reply = admin.post("/sources/event-tally/test", {"body": TALLY.decode(), "headers": "", "query": ""})
    assert reply.status_code == 200
    page = text(reply)
    assert (
        "2wgx4n: would be <strong>new</strong> (valid); "
        "problems: map.customer.email: '[email protected]' is not an email address" in page
    )
    assert '"answers": {\n          "score": 8,\n          "comment": "Hello world"\n        }' in page
    assert not Response.objects.exists()
    assert not HookDelivery.objects.exists()


def test_the_test_form_checks_the_signature_when_asked_and_says_why_it_refuses(admin: Client) -> None:
    headers = "\n".join(f"{name}: {value}" for name, value in sign("tally", TALLY).items())
    ok = admin.post("/sources/event-tally/test", {"body": TALLY.decode(), "headers": headers, "verify": "on"})
    assert '"verified": true' in text(ok)
    refused = admin.post(
        "/sources/event-tally/test", {"body": TALLY.decode(), "headers": "Tally-Signature: bm9wZQ==", "verify": "on"}
    )
    assert "Refused: 401: the Tally-Signature signature does not match the body" in text(refused)
    bad_headers = admin.post("/sources/event-tally/test", {"body": "{}", "headers": "no colon here"})
    assert bad_headers.status_code == 422
    assert "Line 1 is not 'Name: value'." in text(bad_headers)
    assert not Response.objects.exists()
    assert json.loads(TALLY)["eventId"] not in text(bad_headers)


def test_the_pages_are_labelled_and_navigable(admin: Client) -> None:
    post_hook("visit-jotform", b"rawRequest=%7Bbroken", content_type="application/x-www-form-urlencoded")
    tested = admin.post("/sources/event-tally/test", {"body": TALLY.decode()})
    for content in (admin.get("/sources/").content, admin.get("/sources/visit-jotform/").content, tested.content):
        facts = PageFacts()
        facts.feed(content.decode())
        assert facts.h1 == 1
        assert facts.skip_link and "main" in facts.ids
        assert [control for control in facts.controls if control not in facts.labels] == []
