"""What can go wrong with one inbound request, each with the HTTP status the receiving endpoint answers.

The messages are safe to return to the caller and to log: they never contain the request body,
a secret or a signature.
"""

from __future__ import annotations

from typing import ClassVar


class ConnectorError(Exception):
    """Base of every refusal; `status` is the HTTP status for the reply."""

    status: ClassVar[int] = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignatureInvalid(ConnectorError):
    """The request is not provably from the tool: missing, malformed or wrong signature or token."""

    status = 401


class StaleTimestamp(SignatureInvalid):
    """The signature is over a timestamp outside the tolerance: a replay or a badly wrong clock."""

    status = 401


class PayloadUnreadable(ConnectorError):
    """Authentic, but the body cannot be turned into a response; kept as a dead letter."""

    status = 422


class Ignored(ConnectorError):
    """An event closeloop deliberately does nothing with; answered 200 so the tool stops retrying."""

    status = 200


class FetchFailed(ConnectorError):
    """The follow-up call to the tool's API failed; answered 502 so the tool delivers the event again."""

    status = 502
