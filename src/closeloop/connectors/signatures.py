"""The pieces every signature scheme is built from, each comparing in constant time.

Every failure raises SignatureInvalid (or StaleTimestamp) with a message naming the header
and what was wrong with it, never the body, the secret or the expected signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Literal

from closeloop.connectors.errors import SignatureInvalid, StaleTimestamp
from closeloop.connectors.inbound import Inbound

DEFAULT_TOLERANCE = timedelta(minutes=5)
# Where a tool without signing sends the shared token: a header where the tool lets the admin
# add headers, else the query string of the webhook URL.
TOKEN_HEADER = "X-Closeloop-Token"
TOKEN_PARAMETER = "token"

Encoding = Literal["base64", "hex"]


def hmac_digest(key: bytes | str, message: bytes, algorithm: str = "sha256") -> bytes:
    raw_key = key.encode("utf-8") if isinstance(key, str) else key
    return hmac.new(raw_key, message, getattr(hashlib, algorithm)).digest()


def required_header(inbound: Inbound, name: str) -> str:
    value = inbound.headers.get(name, "").strip()
    if not value:
        raise SignatureInvalid(f"the {name} header is missing")
    return value


def decode_signature(text: str, encoding: Encoding, header: str) -> bytes:
    """The signature bytes a header carries; malformed text is a failed check, not a crash."""
    try:
        if encoding == "hex":
            return bytes.fromhex(text)
        return base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise SignatureInvalid(f"the {header} header is not a {encoding} signature") from None


def check_digest(expected: bytes, given: bytes, header: str) -> None:
    if not hmac.compare_digest(expected, given):
        raise SignatureInvalid(
            f"the {header} signature does not match the body (wrong secret, or the body was changed)"
        )


def same_text(given: str, expected: str) -> bool:
    """Whether two texts are equal, compared in constant time."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def check_timestamp(
    text: str, *, now: datetime, tolerance: timedelta = DEFAULT_TOLERANCE, header: str = "timestamp"
) -> datetime:
    """The signed time (Unix seconds, or ISO 8601 as Zendesk sends it), if within `tolerance` of `now` either way."""
    moment = _signed_time(text.strip())
    if moment is None:
        raise SignatureInvalid(f"the {header} header is not a Unix or ISO 8601 time")
    if abs(moment - now) > tolerance:
        raise StaleTimestamp(
            f"the {header} header is {abs(moment - now).total_seconds():.0f}s away from now "
            f"(at most {tolerance.total_seconds():.0f}s is accepted)"
        )
    return moment


def _signed_time(text: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(text), tz=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_token(inbound: Inbound, secret: str) -> None:
    """For tools that sign nothing: the shared token must come in the header or the `token` query parameter."""
    given = inbound.headers.get(TOKEN_HEADER, "").strip() or inbound.query.get(TOKEN_PARAMETER, "").strip()
    if not given:
        raise SignatureInvalid(f"no token: add ?{TOKEN_PARAMETER}=… to the webhook URL or send a {TOKEN_HEADER} header")
    if not same_text(given, secret):
        raise SignatureInvalid("the token does not match this source's secret")
