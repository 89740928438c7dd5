"""Authentic requests that cannot be read are kept whole; replayed after the source's map is fixed they are
stored like a fresh delivery, and an event stored since is never stored twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from closeloop.actions.receive_hook import replay_dead_letter
from closeloop.config.apply import apply_config
from closeloop.feedback.models import Response
from closeloop.intake.models import DeadLetter, HookDelivery
from tests.connectors.tool_api import FakeApi
from tests.intake.conftest import TOOLS, hooks_config, payload, post_hook

TYPEFORM = payload("typeform_form_response.json")
JOTFORM = payload("jotform_webhook_zulip.multipart").replace(b"\n", b"\r\n")
NO_ID = "no response id to use as external_id (map.external_id: hidden 'response_id' is not in the payload)"


def typeform_source(external_id: Any = None) -> dict[str, Any]:
    source: dict[str, Any] = {
        "key": "install-typeform-2",
        "tool": "typeform",
        "survey": "upgrade-install",
        "secret": "s3cret-for-tests",
        "map": {"answers": {"completed": {"ref": "readable_ref_yes_no"}}, "unit": {"value": "SUP-EMEA"}},
    }
    if external_id is not None:
        source["map"]["external_id"] = external_id
    return source


@pytest.fixture
def broken(hooks: FakeApi, monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    """A Typeform source whose map looks for the response id where the form has none."""
    monkeypatch.setitem(TOOLS, "install-typeform-2", "typeform")
    apply_config(hooks_config(hooks.base, extra_sources=[typeform_source({"hidden": "response_id"})]))
    return hooks


def fix_the_map(api: FakeApi) -> None:
    apply_config(hooks_config(api.base, extra_sources=[typeform_source()]))


def test_a_request_the_map_cannot_read_waits_as_a_dead_letter_until_the_map_is_fixed(broken: FakeApi) -> None:
    reply = post_hook("install-typeform-2", TYPEFORM)
    assert (reply.status, reply.body["detail"]) == (422, f"Unreadable: {NO_ID}.")
    letter = DeadLetter.objects.get()
    assert (letter.state, letter.reason) == ("waiting", NO_ID)
    # Replayed before the fix: still unreadable, still waiting, the reason brought up to date.
    again = replay_dead_letter(letter, now=timezone.now())
    assert again.status == 422
    letter.refresh_from_db()
    assert (letter.state, letter.replays, letter.last_problem) == ("waiting", 1, NO_ID)
    assert DeadLetter.objects.count() == 1

    fix_the_map(broken)
    replayed = replay_dead_letter(letter, now=timezone.now())
    assert (replayed.status, replayed.body()["outcome"]) == (200, "stored")
    response = Response.objects.get()
    assert (response.external_id, response.source) == ("a3a12ec67a1365927098a606107fac15", "hook:install-typeform-2")
    assert list(response.alerts.values_list("rule_key", flat=True)) == ["install-failed"]
    letter.refresh_from_db()
    assert (letter.state, letter.replays, letter.responses) == ("replayed", 2, [response.pk])
    stored = HookDelivery.objects.get(outcome="stored")
    assert (stored.replay, stored.event_id, stored.responses) == (True, "LtWXD3crgy", [response.pk])


def test_replaying_an_event_that_was_stored_since_changes_nothing(broken: FakeApi) -> None:
    post_hook("install-typeform-2", TYPEFORM)
    post_hook("install-typeform-2", TYPEFORM)  # the tool retried while the map was broken
    first, second = DeadLetter.objects.order_by("pk")
    fix_the_map(broken)
    assert replay_dead_letter(first, now=timezone.now()).body()["outcome"] == "stored"
    duplicate = replay_dead_letter(second, now=timezone.now())
    assert (duplicate.status, duplicate.body()["outcome"]) == (200, "duplicate")
    assert Response.objects.count() == 1
    second.refresh_from_db()
    assert second.state == "replayed"
    # And the tool's own retry after the fix is a duplicate too.
    assert post_hook("install-typeform-2", TYPEFORM).body["outcome"] == "duplicate"
    assert Response.objects.count() == 1


def test_a_replay_keeps_the_arrival_time_and_needs_no_token(hooks: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    broken_jotform = {
        "key": "visit-jotform-2",
        "tool": "jotform",
        "survey": "upgrade-install",
        "secret": "s3cret-for-tests",
        "map": {"external_id": {"meta": "responseID"}, "unit": {"value": "SUP-EMEA"}},
    }
    monkeypatch.setitem(TOOLS, "visit-jotform-2", "jotform")
    apply_config(hooks_config(hooks.base, extra_sources=[broken_jotform]))
    arrival = datetime(2026, 11, 23, 10, 4, tzinfo=UTC)
    with time_machine.travel(arrival, tick=False):
        reply = post_hook(
            "visit-jotform-2",
            JOTFORM,
            content_type="multipart/form-data; boundary=------------------------J1JNT4vbVO4FCC1qLG4HSv",
        )
    assert reply.status == 422
    letter = DeadLetter.objects.get()
    assert letter.query == {}
    fixed = {**broken_jotform, "map": {"unit": {"value": "SUP-EMEA"}}}
    apply_config(hooks_config(hooks.base, extra_sources=[fixed]))
    replay_dead_letter(letter, now=arrival + timedelta(hours=3))
    response = Response.objects.get()
    # Jotform sends no time: the response was given when it first arrived, not when it was replayed.
    assert response.submitted_at == arrival
    assert response.received_at == arrival + timedelta(hours=3)
