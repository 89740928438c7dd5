"""SMS through Apprise: SMS_URL with `{phone}` replaced by the recipient's URL-encoded number."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from django.conf import settings

from closeloop.notify.channels.apprise_send import send_with_apprise
from closeloop.notify.channels.base import STORED_IN_OUTBOX, Channel, PermanentError, SendResult, register

if TYPE_CHECKING:
    from closeloop.notify.models import Delivery

# Two concatenated SMS segments: long enough for a summary and a link, short enough to stay cheap.
SMS_MAX_CHARS = 320


def fit_sms(text: str, limit: int = SMS_MAX_CHARS) -> str:
    """`text` shortened to `limit` characters, cut at a word boundary and marked with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def sms_url_for(template: str, phone: str) -> str:
    return template.replace("{phone}", quote(phone, safe=""))


@register
class SmsChannel(Channel):
    slug = "sms"
    one_server = True

    def send(self, delivery: Delivery) -> SendResult:
        template = getattr(settings, "SMS_URL", None)
        if not template:
            return SendResult(STORED_IN_OUTBOX)
        phone = delivery.address.strip()
        if not phone:
            raise PermanentError("no phone number")
        send_with_apprise(
            sms_url_for(template, phone), body=fit_sms(delivery.text), title="", what="SMS", body_format="text"
        )
        # Apprise does not hand back the provider's message id.
        return SendResult(f"apprise:{delivery.idempotency_key}")
