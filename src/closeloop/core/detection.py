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


# The organisation's recovery threshold is a point on a scale out of ten (CONTRACT: "overall score <= this").
TEN_POINT_MAX = 10.0


def is_out_of_ten(scale_min: float | None, scale_max: float | None) -> bool:
    """Whether scores are already read out of ten (NPS, 0-10, 1-10): the threshold applies as written."""
    return scale_max == TEN_POINT_MAX and scale_min is not None and 0 <= scale_min < TEN_POINT_MAX


def survey_threshold(
    organization_threshold: float,
    *,
    own_threshold: float | None,
    scale_min: float | None,
    scale_max: float | None,
) -> float:
    """The recovery threshold in a survey's own scale (that of its overall question).

    The survey's own `recovery_threshold` wins. Otherwise the organisation's threshold, which is on the
    0-10 scale, applies as written to scores out of ten, and maps linearly onto any other scale: [0, 10]
    onto [min, max], so 6 of 10 is 3.4 on a 1-5 scale and 60 on a 0-100 one. A scale without a known
    range (an overall question without min and max) reads the threshold as written.
    """
    if own_threshold is not None:
        return own_threshold
    if scale_min is None or scale_max is None or scale_max <= scale_min or is_out_of_ten(scale_min, scale_max):
        return organization_threshold
    return scale_min + organization_threshold / TEN_POINT_MAX * (scale_max - scale_min)


def latest_earlier_failure(
    submitted_at: datetime, earlier_failures: Iterable[tuple[datetime, T]], window: timedelta
) -> T | None:
    """Of the customer's earlier failures (submission time, what identifies it), the latest one this response
    repeats (see `is_repeat_failure`), or None when it is no repeat."""
    within = [(at, ref) for at, ref in earlier_failures if submitted_at - window <= at < submitted_at]
    return max(within, key=lambda item: item[0])[1] if within else None
