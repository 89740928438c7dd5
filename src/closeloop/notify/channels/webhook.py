"""Signed JSON POSTs per the Standard Webhooks specification (https://www.standardwebhooks.com)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any

from closeloop.notify.channels.base import Channel, PermanentError, SendResult, TemporaryError, register
from closeloop.notify.models import Delivery, WebhookEndpoint

WEBHOOK_TIMEOUT_SECONDS = 10
SECRET_PREFIX = "whsec_"


def secret_key_bytes(secret: str) -> bytes:
    """The HMAC key: the base64-decoded part after `whsec_`."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        # Unpadded secrets are common; extra padding is ignored by the decoder.
        key = base64.b64decode(encoded + "==")
    except binascii.Error as exc:
        raise PermanentError("the endpoint's secret is not whsec_ + base64") from exc
    if not key:
        raise PermanentError("the endpoint's secret is empty")
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value: v1,<base64 HMAC-SHA256 of id.timestamp.body>."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirected POST would lose its body or be replayed elsewhere; the endpoint's URL must be fixed instead.
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects())


def classify_http_status(status: int) -> TemporaryError | PermanentError:
    if status in (408, 429) or status >= 500:
        return TemporaryError(f"webhook endpoint answered HTTP {status}")
    return PermanentError(f"webhook endpoint answered HTTP {status}")


@register
class WebhookChannel(Channel):
    slug = "webhook"

    def send(self, delivery: Delivery) -> SendResult:
        endpoint = WebhookEndpoint.objects.filter(key=delivery.address).first()
        if endpoint is None:
            raise PermanentError("no such webhook endpoint")
        if not endpoint.active:
            raise PermanentError("the webhook endpoint is inactive")
        body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
        # The signature time is the wall clock, not the scheduler's `now`: receivers reject stale timestamps.
        timestamp = int(time.time())
        request = urllib.request.Request(
            endpoint.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "closeloop",
                "webhook-id": delivery.idempotency_key,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign(endpoint.secret, delivery.idempotency_key, timestamp, body),
            },
        )
        try:
            with _opener.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
                status = response.status
                request_id = response.headers.get("X-Request-Id", "")
        except urllib.error.HTTPError as exc:
            exc.close()
            raise classify_http_status(exc.code) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise TemporaryError(
                f"cannot reach the webhook endpoint ({type(exc).__name__})", unreachable=True
            ) from None
        if not 200 <= status < 300:
            raise classify_http_status(status)
        return SendResult(request_id or f"webhook:{delivery.idempotency_key}")
