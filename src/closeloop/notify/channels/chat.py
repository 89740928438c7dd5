"""Chat messages (Slack, Microsoft Teams, Matrix, ...) through the person's Apprise URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from closeloop.notify.channels.apprise_send import send_with_apprise
from closeloop.notify.channels.base import Channel, PermanentError, SendResult, register

if TYPE_CHECKING:
    from closeloop.notify.models import Delivery


def chat_url_of(delivery: Delivery) -> str:
    """The URL stored on the delivery, else the person's current one (it may have been added since)."""
    if delivery.address:
        return delivery.address
    if delivery.person_id is not None and delivery.person is not None:
        return delivery.person.chat_url
    return ""


@register
class ChatChannel(Channel):
    slug = "chat"

    def send(self, delivery: Delivery) -> SendResult:
        url = chat_url_of(delivery)
        if not url:
            raise PermanentError("no chat URL")
        send_with_apprise(url, body=delivery.text, title=delivery.subject, what="chat", body_format="markdown")
        return SendResult(f"apprise:{delivery.idempotency_key}")
