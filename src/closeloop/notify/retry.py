"""When to try a failed delivery again, and when to give up.

A temporary failure (a server down, a 4xx reply, a timeout) is retried with a backoff that
doubles from 30 s up to 10 minutes, for as long as the retry window (`CLOSELOOP_RETRY_FOR`,
24 h unless configured) counted from the delivery's first failure; only then is it marked
failed. A mail server that is down for a night therefore delays the alerts, and loses none.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings

from closeloop.environment import DEFAULT_RETRY_FOR

FIRST_RETRY = timedelta(seconds=30)
# Short enough that a recovered webhook endpoint or chat service gets its backlog within minutes
# (email and SMS bring theirs forward on the first accepted message anyway).
LONGEST_RETRY = timedelta(minutes=10)


def retry_for() -> timedelta:
    """How long temporary failures are retried before a delivery is marked failed."""
    value = getattr(settings, "CLOSELOOP_RETRY_FOR", DEFAULT_RETRY_FOR)
    return value if isinstance(value, timedelta) else timedelta(seconds=float(value))


def gives_up(failing_since: datetime, now: datetime) -> bool:
    return now - failing_since >= retry_for()


def retry_delay(attempts: int, jitter: Callable[[], float] = random.random) -> timedelta:
    """30 s after the first attempt, doubling each time up to 10 minutes, then ±10 % jitter.

    The jitter keeps many messages that failed together (an SMTP server restart) from
    all coming back in the same second.
    """
    # The exponent stops growing long after the cap is reached: a day of retries must not overflow.
    doublings = min(max(attempts - 1, 0), 16)
    base = min(FIRST_RETRY * 2**doublings, LONGEST_RETRY)
    return base * (0.9 + 0.2 * jitter())
