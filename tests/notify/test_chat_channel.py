from __future__ import annotations

import pytest

from closeloop.notify.channels import PermanentError, TemporaryError, get_channel
from closeloop.notify.outbox import enqueue
from closeloop.org.models import Person
from tests.notify.conftest import NOW

pytestmark = pytest.mark.django_db


def test_chat_message_goes_to_the_persons_apprise_url(http_sink):
    erin = Person.objects.create(key="erin", name="Erin Diaz", chat_url=f"json://127.0.0.1:{http_sink.port}/chat")
    delivery = enqueue(
        channel="chat",
        address="",
        subject="Recovery",
        text="**2/10** from Pat",
        idempotency_key="c1",
        now=NOW,
        person=erin,
    )
    get_channel("chat").send(delivery)
    [request] = http_sink.requests
    assert request.path == "/chat"
    assert request.json()["title"] == "Recovery"
    assert "**2/10** from Pat" in request.json()["message"]


def test_chat_url_on_the_delivery_wins(http_sink):
    delivery = enqueue(
        channel="chat", address=f"json://127.0.0.1:{http_sink.port}/team", text="hi", idempotency_key="c2", now=NOW
    )
    get_channel("chat").send(delivery)
    assert http_sink.requests[0].path == "/team"


def test_chat_server_error_is_temporary(http_sink):
    http_sink.statuses.append(502)
    delivery = enqueue(
        channel="chat", address=f"json://127.0.0.1:{http_sink.port}/team", text="hi", idempotency_key="c3", now=NOW
    )
    with pytest.raises(TemporaryError, match="502"):
        get_channel("chat").send(delivery)


def test_chat_without_a_url_is_permanent():
    delivery = enqueue(channel="chat", address="", text="hi", idempotency_key="c4", now=NOW)
    with pytest.raises(PermanentError, match="no chat URL"):
        get_channel("chat").send(delivery)


def test_an_invalid_chat_url_is_permanent():
    delivery = enqueue(channel="chat", address="nonsense://", text="hi", idempotency_key="c5", now=NOW)
    with pytest.raises(PermanentError, match="not a valid Apprise URL"):
        get_channel("chat").send(delivery)
