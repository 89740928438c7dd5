"""Delivery channels, one module per channel, registered by slug.

Importing this package registers every built-in channel; a new channel is a module
here with a `@register`-decorated `Channel` subclass, imported below.
"""

from closeloop.notify.channels import chat, email, sms, webhook
from closeloop.notify.channels.base import (
    STORED_IN_OUTBOX,
    Channel,
    DeliveryError,
    PermanentError,
    SendResult,
    TemporaryError,
    channel_slugs,
    get_channel,
    register,
)

__all__ = [
    "STORED_IN_OUTBOX",
    "Channel",
    "DeliveryError",
    "PermanentError",
    "SendResult",
    "TemporaryError",
    "channel_slugs",
    "chat",
    "email",
    "get_channel",
    "register",
    "sms",
    "webhook",
]
