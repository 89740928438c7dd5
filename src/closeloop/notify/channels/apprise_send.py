"""Send through Apprise and turn its yes/no answer into a temporary or permanent error.

Apprise tells only whether a send worked; the reason is in its log lines. Its plugins
report HTTP failures as "...error=<status>." and network failures as "A Connection
error occurred...", so the log lines of the call are searched for those two forms
(Apprise 2 returns them with the result; with Apprise 1 the lines this thread logs
during the call are captured). What cannot be told apart (a plugin that logs neither,
or a provider that answers 200 with an error in the body) is treated as temporary and
bounded by the attempt limit.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

import apprise

from closeloop.notify.channels.base import PermanentError, TemporaryError

_HTTP_STATUS = re.compile(r"error=(\d{3})\b")
_NETWORK_FAILURE = re.compile(r"connection error|timed out|timeout|socket exception", re.IGNORECASE)


class _ThreadLogCapture(logging.Handler):
    """Keeps the apprise log lines emitted by one thread (several workers may send at once)."""

    def __init__(self, thread_id: int) -> None:
        super().__init__(level=logging.DEBUG)
        self.thread_id = thread_id
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread_id:
            self.lines.append(record.getMessage())


def _notify(notifier: apprise.Apprise, **kwargs: Any) -> tuple[bool, list[str]]:
    """Send; returns whether it worked and the log lines of this very call."""
    logger = logging.getLogger("apprise")
    capture = _ThreadLogCapture(threading.get_ident())
    logger.addHandler(capture)
    try:
        result = notifier.notify(**kwargs)
    finally:
        logger.removeHandler(capture)
    if hasattr(result, "logs"):
        # Apprise 2: the result carries the call's own log entries, whichever thread ran it.
        return bool(result), [entry.message for entry in result.logs()]
    return bool(result), capture.lines


def classify_apprise_failure(log_lines: list[str], what: str) -> TemporaryError | PermanentError:
    """Permanent for an HTTP 4xx other than 408/429; temporary for everything else."""
    for line in log_lines:
        match = _HTTP_STATUS.search(line)
        if match:
            status = int(match.group(1))
            if 400 <= status < 500 and status not in (408, 429):
                return PermanentError(f"{what} provider answered HTTP {status}")
            return TemporaryError(f"{what} provider answered HTTP {status}")
    if any(_NETWORK_FAILURE.search(line) for line in log_lines):
        return TemporaryError(f"cannot reach the {what} provider", unreachable=True)
    return TemporaryError(f"{what} provider reported a failure without a status")


def send_with_apprise(url: str, *, body: str, title: str, what: str, body_format: str) -> None:
    """Send one notification to `url`; raise TemporaryError or PermanentError when it fails."""
    # Sequential mode: one service, no thread pool of Apprise's own.
    notifier = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False))
    if not notifier.add(url):
        raise PermanentError(f"the {what} URL is not a valid Apprise URL")
    sent, lines = _notify(notifier, body=body, title=title, body_format=body_format)
    if not sent:
        raise classify_apprise_failure(lines, what)
