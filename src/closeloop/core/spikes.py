"""Spike detection: a sudden rise of complaints for one key (say a unit and a category).

Only about one unhappy customer in 25 complains, so a handful of extra complaints can stand for many
silent ones. The recent window is compared with the same weekday-aligned windows of earlier weeks, so a
regular Monday peak is its own baseline and does not raise a spike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
_WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Spike(Generic[K]):
    """`count` in the recent window against `baseline`, the mean of the same windows in earlier weeks."""

    key: K
    count: int
    baseline: float


def window_count(counts: Mapping[date, int], last_day: date, window_days: int) -> int:
    """The sum of daily counts over the `window_days` ending with `last_day` (missing days count 0)."""
    return sum(counts.get(last_day - timedelta(days=back), 0) for back in range(window_days))


def detect_spikes(
    series: Mapping[K, Sequence[tuple[date, int]]],
    today: date,
    window_days: int,
    baseline_weeks: int,
    factor: float,
    min_count: int,
) -> list[Spike[K]]:
    """Keys whose count over the `window_days` ending `today` is at least `min_count` and exceeds `factor`
    times the mean over the same windows 1..`baseline_weeks` weeks earlier; the largest excess first.

    Days missing from a series count as 0, so a key with no history has a baseline of 0 and `min_count`
    alone decides. Several entries for one day are added up.
    """
    if not 1 <= window_days <= 7:
        raise ValueError(f"window_days must be 1 to 7 so that weekly windows do not overlap, got {window_days}")
    if baseline_weeks < 1:
        raise ValueError(f"baseline_weeks must be at least 1, got {baseline_weeks}")
    if factor <= 0:
        raise ValueError(f"factor must be positive, got {factor}")
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, got {min_count}")
    spikes = []
    for key, days in series.items():
        counts: dict[date, int] = defaultdict(int)
        for day, count in days:
            counts[day] += count
        recent = window_count(counts, today, window_days)
        if recent < min_count:
            continue
        earlier = [window_count(counts, today - week * _WEEK, window_days) for week in range(1, baseline_weeks + 1)]
        baseline = sum(earlier) / baseline_weeks
        if recent > factor * baseline:
            spikes.append(Spike(key, recent, baseline))
    # Stable sort: keys with equal excess keep the order of `series`, since keys need not be comparable.
    spikes.sort(key=lambda spike: spike.baseline - spike.count)
    return spikes


def same_theme(earlier: Collection[Hashable], later: Collection[Hashable], share: float = 0.5) -> bool:
    """Whether two groups of complaints (their response ids) are one theme seen on two days.

    Windows of consecutive days overlap, so a theme that goes on jumping keeps most of its complaints: the
    same theme when at least `share` of the smaller group is in both. A theme's label may change from one day
    to the next (it is a phrase of its most central comment), its complaints do not.
    """
    small = min(len(earlier), len(later))
    if not small:
        return False
    return len(set(earlier) & set(later)) >= share * small
