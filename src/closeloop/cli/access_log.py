"""An access log for the embedded server (waitress has none of its own), in gunicorn's combined format.

Each line goes to the `closeloop.access` logger, whose handler redacts secret URL segments and
formats the line as text or JSON like every other closeloop log line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from closeloop.logs import redact

logger = logging.getLogger("closeloop.access")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _request_target(environ: dict[str, Any]) -> str:
    path = environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    return path + (f"?{query}" if query else "")


class AccessLog:
    """WSGI middleware: one line per request once the response has been sent."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.monotonic()
        seen: dict[str, Any] = {"status": "-", "headers": {}}

        def recording_start_response(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            seen["status"] = status.split(" ", 1)[0]
            seen["headers"] = {name.lower(): value for name, value in headers}
            return start_response(status, headers, *args)

        body = self.app(environ, recording_start_response)
        sent = 0
        try:
            for chunk in body:
                sent += len(chunk)
                yield chunk
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
            self._log(environ, seen, sent, time.monotonic() - started)

    @staticmethod
    def _log(environ: dict[str, Any], seen: dict[str, Any], sent: int, seconds: float) -> None:
        target = redact(_request_target(environ))
        method = environ.get("REQUEST_METHOD", "-")
        referer = redact(environ.get("HTTP_REFERER", "-"))
        agent = environ.get("HTTP_USER_AGENT", "-")
        request_id = seen["headers"].get("x-request-id", "-")
        remote = environ.get("REMOTE_ADDR", "-")
        when = time.strftime("[%d/%b/%Y:%H:%M:%S %z]")
        protocol = environ.get("SERVER_PROTOCOL", "-")
        logger.info(
            '%s - - %s "%s %s %s" %s %s "%s" "%s" %s %dms',
            remote,
            when,
            method,
            target,
            protocol,
            seen["status"],
            sent or "-",
            referer,
            agent,
            request_id,
            int(seconds * 1000),
            extra={"request_id": request_id},
        )
