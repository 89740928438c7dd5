from __future__ import annotations

import base64

import pytest
from standardwebhooks import Webhook

from closeloop.notify.channels import PermanentError, TemporaryError, get_channel
from closeloop.notify.channels.webhook import sign
from closeloop.notify.models import WebhookEndpoint
from closeloop.notify.outbox import enqueue
from tests.notify.conftest import NOW, free_port

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + base64.b64encode(b"a shared secret of 32 bytes!!!!!").decode()
PAYLOAD = {"type": "alert.created", "alert": {"id": 7, "kind": "recovery"}, "text": "Ünïcode « quotes »"}


@pytest.fixture
def endpoint(http_sink) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(key="crm", url=f"{http_sink.base_url}/hooks/closeloop", secret=SECRET)


def make_webhook(key: str = "alert:7:webhook:crm", address: str = "crm"):
    return enqueue(channel="webhook", address=address, payload=PAYLOAD, idempotency_key=key, now=NOW)


def test_webhook_posts_json_that_verifies_with_standard_webhooks(endpoint, http_sink):
    get_channel("webhook").send(make_webhook())
    [request] = http_sink.requests
    assert request.path == "/hooks/closeloop"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == "alert:7:webhook:crm"
    assert Webhook(SECRET).verify(request.body, request.headers) == PAYLOAD


def test_a_tampered_body_does_not_verify(endpoint, http_sink):
    get_channel("webhook").send(make_webhook())
    request = http_sink.requests[0]
    with pytest.raises(Exception, match="signature"):
        Webhook(SECRET).verify(request.body.replace(b"recovery", b"praise"), request.headers)


def test_signature_matches_the_reference_implementation():
    from datetime import UTC, datetime

    body = b'{"a":1}'
    expected = Webhook(SECRET).sign("msg_1", datetime.fromtimestamp(1700000000, tz=UTC), body.decode())
    assert sign(SECRET, "msg_1", 1700000000, body) == expected


@pytest.mark.parametrize("status", [500, 502, 503, 429, 408])
def test_server_errors_and_throttling_are_temporary(endpoint, http_sink, status):
    http_sink.statuses.append(status)
    with pytest.raises(TemporaryError, match=str(status)):
        get_channel("webhook").send(make_webhook())


@pytest.mark.parametrize("status", [400, 401, 404, 410, 302])
def test_client_errors_and_redirects_are_permanent(endpoint, http_sink, status):
    http_sink.statuses.append(status)
    with pytest.raises(PermanentError, match=str(status)):
        get_channel("webhook").send(make_webhook())


def test_an_unreachable_endpoint_is_temporary(endpoint):
    endpoint.url = f"http://127.0.0.1:{free_port()}/hook"
    endpoint.save()
    with pytest.raises(TemporaryError, match="cannot reach"):
        get_channel("webhook").send(make_webhook())


def test_an_unknown_or_inactive_endpoint_is_permanent(endpoint):
    with pytest.raises(PermanentError, match="no such webhook endpoint"):
        get_channel("webhook").send(make_webhook(key="k2", address="nope"))
    endpoint.active = False
    endpoint.save()
    with pytest.raises(PermanentError, match="inactive"):
        get_channel("webhook").send(make_webhook(key="k3"))
