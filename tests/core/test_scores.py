"""The colour of a score follows the score and its scale, not whether an alert happened to be raised."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closeloop.core.scores import score_band


@pytest.mark.parametrize(
    ("score", "band"),
    [(1, "low"), (6, "low"), (7, "mid"), (8, "mid"), (9, "high"), (10, "high")],
)
def test_a_one_to_ten_scale_with_threshold_six(score: float, band: str) -> None:
    assert score_band(score, low=1, high=10, threshold=6) == band


@pytest.mark.parametrize(("score", "band"), [(1, "low"), (3, "low"), (4, "mid"), (5, "high")])
def test_a_one_to_five_scale(score: float, band: str) -> None:
    assert score_band(score, low=1, high=5, threshold=3) == band


@pytest.mark.parametrize(("score", "band"), [(0, "low"), (6, "low"), (7, "mid"), (8, "mid"), (9, "high")])
def test_nps_reads_as_detractors_passives_and_promoters(score: float, band: str) -> None:
    assert score_band(score, low=0, high=10, threshold=5, nps=True) == band


def test_the_threshold_can_make_a_passive_low() -> None:
    assert score_band(7, low=0, high=10, threshold=7, nps=True) == "low"


def test_a_scale_must_have_room() -> None:
    with pytest.raises(ValueError, match="must be above"):
        score_band(3, low=5, high=5, threshold=3)


@given(st.floats(min_value=1, max_value=10), st.floats(min_value=1, max_value=10))
def test_a_better_score_is_never_in_a_worse_band(a: float, b: float) -> None:
    order = {"low": 0, "mid": 1, "high": 2}
    low, high = sorted((a, b))
    assert order[score_band(low, low=1, high=10, threshold=6)] <= order[score_band(high, low=1, high=10, threshold=6)]
