from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closeloop.core.durations import BadDuration, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("24h", timedelta(hours=24)),
        ("3d", timedelta(days=3)),
        ("2w", timedelta(weeks=2)),
        (" 4h ", timedelta(hours=4)),
    ],
)
def test_parse_reads_one_number_and_one_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["soon", "", "4", "h4", "1.5h", "-3d", "3 days", "2h30m", "3D"])
def test_parse_rejects_anything_else_with_the_example_message(text: str) -> None:
    with pytest.raises(BadDuration) as caught:
        parse_duration(text)
    assert str(caught.value) == f"{text!r} is not a duration like 30m, 24h, 3d or 2w"


def test_parse_rejects_a_number_that_is_not_text() -> None:
    with pytest.raises(BadDuration, match="24 is not a duration"):
        parse_duration(24)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(hours=24), "1d"),
        (timedelta(hours=48), "2d"),
        (timedelta(days=14), "2w"),
        (timedelta(hours=36), "36h"),
        (timedelta(seconds=90), "90s"),
        (timedelta(minutes=90), "90m"),
        (timedelta(0), "0s"),
        (86400, "1d"),
    ],
)
def test_format_uses_the_largest_exact_unit(value: timedelta | int, text: str) -> None:
    assert format_duration(value) == text


def test_format_refuses_what_cannot_be_written_exactly() -> None:
    with pytest.raises(BadDuration):
        format_duration(timedelta(milliseconds=1500))
    with pytest.raises(BadDuration):
        format_duration(timedelta(seconds=-5))


@given(st.integers(min_value=0, max_value=10**9))
def test_format_then_parse_gives_back_the_same_duration(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == timedelta(seconds=seconds)
