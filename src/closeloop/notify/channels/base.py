"""What every channel shares: the result of a send, the two kinds of failure and the registry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from closeloop.notify.models import Delivery

# Provider id of a message kept only in the outbox because no server is configured.
STORED_IN_OUTBOX = "outbox:stored"


def _clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SendResult:
    provider_id: str
    # Made by the channel as the provider hands the message back: the moment it was accepted.
    accepted_at: datetime = field(default_factory=_clock)


class DeliveryError(Exception):
    """A send failed; the message is safe to show to operators (no personal data).

    `at` is when the channel gave up on this attempt, for the delivery's history."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.at = _clock()


class TemporaryError(DeliveryError):
    """Worth trying again later: timeouts, refused connections, 4xx SMTP replies, HTTP 5xx/429.

    `unreachable` says the server itself could not be reached (refused, timed out, dropped): the
    other messages to the same server in the batch then wait for their retry without being tried.
    """

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


class PermanentError(DeliveryError):
    """Trying again cannot help: unknown recipient, rejected request, missing endpoint."""


class Channel(ABC):
    """One way of reaching a person; subclasses set `slug` and implement `send`.

    The worker uses one instance per claimed batch and calls `close` after it, so a channel may
    keep a connection open across the batch.
    """

    slug: ClassVar[str]
    # True when every message of the channel goes through one server (EMAIL_URL, SMS_URL), so one
    # message's answer speaks for all of them; otherwise each address is its own server.
    one_server: ClassVar[bool] = False

    @abstractmethod
    def send(self, delivery: Delivery) -> SendResult:
        """Send one delivery; raise TemporaryError or PermanentError when it cannot be sent."""

    def close(self) -> None:  # noqa: B027 - optional hook: most channels keep nothing open
        """Release what was kept open across a batch (nothing by default)."""


_REGISTRY: dict[str, type[Channel]] = {}


def register(cls: type[Channel]) -> type[Channel]:
    """Class decorator: make the channel available under its slug."""
    _REGISTRY[cls.slug] = cls
    return cls


def get_channel(slug: str) -> Channel:
    try:
        return _REGISTRY[slug]()
    except KeyError:
        raise PermanentError(f"unknown channel {slug!r}") from None


def server_of(delivery: Delivery) -> tuple[str, str]:
    """(channel, address) of the server a delivery goes to; the address is empty for one-server channels."""
    channel = _REGISTRY.get(delivery.channel)
    if channel is not None and channel.one_server:
        return delivery.channel, ""
    # A chat message without a stored URL goes to its person's current one: a server of its own.
    return delivery.channel, delivery.address or f"delivery:{delivery.pk}"


def channel_slugs() -> list[str]:
    return sorted(_REGISTRY)
