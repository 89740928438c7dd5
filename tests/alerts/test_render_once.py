"""A response's alert message is rendered once for all its recipients and filled in for each: every message
equals the one rendered for that person alone, names and recording links included, escaped where HTML is."""

from __future__ import annotations

from unittest import mock

import pytest

from closeloop.alerts import messages
from closeloop.alerts.messages import render_alerts, render_alerts_for
from closeloop.alerts.models import Alert
from closeloop.feedback.models import Response
from closeloop.notify import render
from closeloop.notify.models import Delivery
from closeloop.org.models import Person
from tests.factories import response_body
from tests.helpers import ApiClient, create_token

pytestmark = pytest.mark.usefixtures("acme")

ALLOWED = "https://recordings.example.com/88213.mp3"  # on tests/fixtures/acme.yaml's allow-list


def posted(n: int, *, contact_ok: bool = True, audio_url: str = "") -> Response:
    item = response_body(
        {"ease": 2, "completed": False, "comment": "It failed twice & nobody <came>."},
        prefix="once",
        n=n,
        name="Pat <Lee>",
        contact_ok=contact_ok,
        audio_url=audio_url,
    )
    answer = ApiClient(create_token(["ingest"])).post("/api/v1/responses", item)
    assert answer.status_code == 201, answer.json()
    return Response.objects.get(pk=answer.json()["id"])


def recipients() -> list[Person]:
    people = list(Person.objects.filter(key__in=["erin", "sam", "rita"]).order_by("key"))
    # Names that HTML must escape, and one with quotes.
    people[0].name = 'Erin "E" <Diaz> & co'
    people[1].name = "Rita O'Region"
    return people


@pytest.mark.parametrize("channel", ["email", "sms", "chat"])
@pytest.mark.parametrize("kind", ["plain", "no-consent", "hosted-recording", "uploaded-recording"])
def test_each_filled_in_message_equals_the_one_rendered_for_that_person_alone(channel: str, kind: str) -> None:
    response = posted(1, contact_ok=kind != "no-consent", audio_url=ALLOWED if kind == "hosted-recording" else "")
    if kind == "uploaded-recording":
        Response.objects.filter(pk=response.pk).update(audio_file="once-1.wav", audio_type="audio/wav")
    alerts = list(Alert.objects.filter(response=response).select_related("rule", "unit", "response").order_by("id"))
    response = Response.objects.get(pk=response.pk)
    for alert in alerts:
        alert.response = response
    people = recipients()
    filled = render_alerts_for(alerts, people, channel)
    alone = [render_alerts(alerts, person, channel) for person in people]
    assert filled == alone
    if channel == "email":
        assert "Hello Erin &quot;E&quot; &lt;Diaz&gt; &amp; co," in filled[0].html
        assert 'Hello Erin "E" <Diaz> & co,' in filled[0].text
    if kind == "uploaded-recording" and channel != "sms":
        # Each link is signed for its own recipient.
        links = {message.text.split("/recordings/", 1)[1].split()[0] for message in filled}
        assert len(links) == len(people)


def test_a_response_told_to_several_people_renders_its_email_once() -> None:
    with mock.patch.object(messages, "make_message", wraps=render.make_message) as made:
        response = posted(2)
    emails = Delivery.objects.filter(alert__response=response, channel="email", status="pending")
    assert emails.count() >= 2
    assert made.call_count == 1
    assert len({mail.text.splitlines()[0] for mail in emails}) == emails.count()  # each says hello to its own
