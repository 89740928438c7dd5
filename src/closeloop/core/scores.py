"""How good an overall score is, read from the score itself and its scale: low, middling or high.

The colour a list gives a score follows this, not whether the response happened to raise an alert: a
quarantined 1/10 raised nothing yet and is still a low score, and an 8/10 that a keyword rule flagged is
still an 8 (the page says why it was flagged beside it). Pure.
"""

from __future__ import annotations

from typing import Literal

Band = Literal["low", "mid", "high"]

# The top fifth of a scale reads as high: 9 and 10 of 1..10, 5 of 1..5.
HIGH_SHARE = 0.8
NPS_PASSIVE_FROM = 7
NPS_PROMOTER_FROM = 9


def score_band(score: float, *, low: float, high: float, threshold: float, nps: bool = False) -> Band:
    """The band of `score` on the scale `low`..`high`; at or below `threshold` is low, as recovery counts it.

    NPS reads as its own groups: detractors (0-6) low, passives (7-8) middling, promoters (9-10) high,
    unless the threshold puts a passive among the low ones.
    """
    if high <= low:
        raise ValueError(f"the scale's top ({high:g}) must be above its bottom ({low:g})")
    if score <= threshold:
        return "low"
    if nps:
        if score >= NPS_PROMOTER_FROM:
            return "high"
        return "mid" if score >= NPS_PASSIVE_FROM else "low"
    if score >= low + HIGH_SHARE * (high - low):
        return "high"
    return "mid"
