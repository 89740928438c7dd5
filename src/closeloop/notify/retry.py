"""When to try a failed delivery again, and when to give up."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings

FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=2)
DEFAULT_MAX_ATTEMPTS = 8


def max_attempts() -> int:
    return int(getattr(settings, "CLOSELOOP_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))


def retry_delay(attempts: int, jitter: Callable[[], float] = random.random) -> timedelta:
    """30 s after the first attempt, doubling each time up to 2 h, then ±10 % jitter.

    The jitter keeps many messages that failed together (an SMTP server restart) from
    all coming back in the same second.
    """
    base = min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)
    return base * (0.9 + 0.2 * jitter())
