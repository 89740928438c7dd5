"""Decisions about a response beyond its rules: whether it is a repeat failure of the same customer. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TypeVar

T = TypeVar("T")


def is_repeat_failure(submitted_at: datetime, earlier_failures: Iterable[datetime], window: timedelta) -> bool:
    """Whether the customer had another recovery alert for a response submitted within `window` before this
    one (a later or simultaneous one does not count: it cannot be what this response repeats)."""
    return any(submitted_at - window <= at < submitted_at for at in earlier_failures)


def latest_earlier_failure(
    submitted_at: datetime, earlier_failures: Iterable[tuple[datetime, T]], window: timedelta
) -> T | None:
    """Of the customer's earlier failures (submission time, what identifies it), the latest one this response
    repeats (see `is_repeat_failure`), or None when it is no repeat."""
    within = [(at, ref) for at, ref in earlier_failures if submitted_at - window <= at < submitted_at]
    return max(within, key=lambda item: item[0])[1] if within else None
