"""The one place connectors reach the network: a GET with a timeout, for tools whose events carry only ids."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping

from closeloop.connectors.errors import FetchFailed

DEFAULT_TIMEOUT = 10.0
# Tool APIs answer a response in well under a megabyte; more is not a response.
MAX_BYTES = 5 * 1024 * 1024
USER_AGENT = "closeloop-connectors"


def fetch(url: str, headers: Mapping[str, str], *, timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """GET `url`; any failure (refused, timed out, non-2xx, too large) raises FetchFailed naming the host."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers}, method="GET")
    host = request.host
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            body = reply.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise FetchFailed(f"{host} answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchFailed(f"{host} could not be reached ({reason})") from None
    if len(body) > MAX_BYTES:
        raise FetchFailed(f"{host} answered more than {MAX_BYTES} bytes")
    return body
