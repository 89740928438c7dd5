"""The map's conversions: the scale maths, tables, special words, types, dates and the envelope checks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from closeloop.connectors.mapping import (
    MapInvalid,
    Pick,
    Unconvertible,
    convert_answer,
    convert_field,
    parse_map,
    to_moment,
)
from tests.connectors.conftest import q

TEN = q("ease", "scale", 1, 10)
NPS = q("likely", "nps")


@pytest.mark.parametrize(
    ("value", "scale", "spec", "expected"),
    [
        (1, (1, 5), TEN, 1),
        (5, (1, 5), TEN, 10),
        (3, (1, 5), TEN, 6),  # 5.5 rounds half up
        (2, (1, 5), TEN, 3),  # 1 + 0.25 * 9 = 3.25
        (-103, (-103, 103), NPS, 0),
        (103, (-103, 103), NPS, 10),
        (0, (-103, 103), NPS, 5),
        (4, (5, 1), TEN, 3),  # a reversed scale: 5 is worst
        (3, (1, 5), q("x", "scale", 0, 2.5), 1.25),  # a fractional end: not rounded to whole
    ],
)
def test_linear_scale(value: float, scale: tuple[float, float], spec, expected: float) -> None:
    assert convert_answer(value, Pick("f", "x", scale=scale), spec) == expected


def test_points_are_spread_evenly_by_rank() -> None:
    points = (-103.0, -102.0, -101.0, 100.0, 101.0, 102.0, 103.0)
    got = [convert_answer(p, Pick("f", "x", points=points), q("s", "scale", 1, 7)) for p in points]
    assert got == [1, 2, 3, 4, 5, 6, 7]
    assert convert_answer("100", Pick("f", "x", points=points), NPS) == 5


def test_values_tables_and_special_words() -> None:
    table = {"good": "top", "bad": "bottom", "meh": "middle"}
    assert convert_answer("Good", Pick("f", "x", values=table), TEN) == 10
    assert convert_answer("BAD", Pick("f", "x", values=table), TEN) == 1
    assert convert_answer("meh", Pick("f", "x", values=table), TEN) == 6  # 5.5 half up
    assert convert_answer("good", Pick("f", "x", values=table), q("ok", "yes_no")) is True
    with pytest.raises(Unconvertible, match="middle has no meaning for a yes/no question"):
        convert_answer("meh", Pick("f", "x", values=table), q("ok", "yes_no"))
    with pytest.raises(Unconvertible, match="'fine' is not in the values table"):
        convert_answer("fine", Pick("f", "x", values=table), TEN)


@pytest.mark.parametrize(
    ("value", "spec", "expected"),
    [
        ("4", TEN, 4),
        (["7"], TEN, 7),
        (7.0, TEN, 7),
        ("yes", q("ok", "yes_no"), True),
        (0, q("ok", "yes_no"), False),
        ("london", q("c", "choice", options=("London", "Paris")), "London"),
        (["Paris"], q("c", "choice", options=("London", "Paris")), "Paris"),
        ("London; Paris", q("m", "multi_choice", options=("London", "Paris")), ["London", "Paris"]),
        ("Rome, Italy", q("m", "multi_choice", options=("Rome, Italy", "Paris")), ["Rome, Italy"]),
        ({"first": "Pat", "last": "Lee"}, q("t", "text"), "Pat Lee"),
        (
            [{"url": "https://a.example/1"}, {"url": "https://a.example/2"}],
            q("t", "text"),
            "https://a.example/1, https://a.example/2",
        ),
    ],
)
def test_values_are_converted_to_the_questions_type(value: object, spec, expected: object) -> None:
    assert convert_answer(value, Pick("f", "x"), spec) == expected


@pytest.mark.parametrize(
    ("value", "spec", "message"),
    [
        (True, TEN, "expected a number, got true/false"),
        ("seven", TEN, "'seven' is not a number"),
        (11, TEN, "11 is above the maximum 10"),
        (7.5, NPS, "7.5 is not a whole number from 0 to 10"),
        ("maybe", q("ok", "yes_no"), "'maybe' is not yes or no"),
        (["a", "b"], q("c", "choice", options=("a", "b")), "expected one choice, got 2"),
        (12, TEN, "12 is above the maximum 10"),
    ],
)
def test_unconvertible_values_say_why(value: object, spec, message: str) -> None:
    with pytest.raises(Unconvertible) as caught:
        convert_answer(value, Pick("f", "x"), spec)
    assert str(caught.value) == message


def test_a_value_outside_the_tools_scale_is_a_problem() -> None:
    with pytest.raises(Unconvertible, match=r"7 is outside the tool's scale 1..5"):
        convert_answer(7, Pick("f", "x", scale=(1, 5)), TEN)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1732186844, datetime(2024, 11, 21, 11, 0, 44, tzinfo=UTC)),
        (1732186844000, datetime(2024, 11, 21, 11, 0, 44, tzinfo=UTC)),
        ("2018-01-18T18:17:02Z", datetime(2018, 1, 18, 18, 17, 2, tzinfo=UTC)),
        ("2015-08-28T010:08:16Z", datetime(2015, 8, 28, 10, 8, 16, tzinfo=UTC)),
        ("2016-08-04 13:57:26 -0700", datetime.fromisoformat("2016-08-04T13:57:26-07:00")),
        ("6/7/2015 20:54:13", datetime(2015, 6, 7, 20, 54, 13)),  # noqa: DTZ001
        ("2015/05/04 15:00", datetime(2015, 5, 4, 15, 0)),  # noqa: DTZ001
    ],
)
def test_times_in_the_forms_tools_write_them(value: object, expected: datetime) -> None:
    assert to_moment(value) == expected


def test_an_impossible_time_is_unconvertible() -> None:
    with pytest.raises(Unconvertible, match="is not a valid date and time"):
        to_moment("2015-08-28T30:08:16Z")
    with pytest.raises(Unconvertible, match="'soon' is not a date and time"):
        to_moment("soon")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("customer.email", "[email protected]", "'[email protected]' is not an email address"),
        ("customer.phone", "call me", "'call me' is not a phone number"),
        ("audio_url", "ftp://x/y.mp3", "'ftp://x/y.mp3' is not an absolute http(s) URL"),
        ("unit", "U" * 101, "101 characters, at most 100 fit"),
        ("interviewer_flag", "perhaps", "'perhaps' is not yes or no"),
    ],
)
def test_envelope_fields_are_checked_before_ingest_would_refuse_them(path: str, value: str, message: str) -> None:
    with pytest.raises(Unconvertible) as caught:
        convert_field(path, value, Pick("f", "x"))
    assert str(caught.value) == message


def test_envelope_values_become_text() -> None:
    assert convert_field("ticket", 208, Pick("f", "x")) == "208"
    assert convert_field("customer.contact_ok", "yes", Pick("f", "x")) is True
    assert convert_field("submitted_at", 0, Pick("f", "x")) == "1970-01-01T00:00:00+00:00"


def test_every_problem_of_a_map_is_listed_with_its_path() -> None:
    raw = {
        "answers": {
            "a": {"ref": "x", "scale": [1, 1]},
            "b": {"ref": "x", "points": [1, 1]},
            "c": {"ref": "x", "scale": [1, 5], "points": [1, 2]},
            "d": {"ref": "x", "optional": "yes"},
            "e": {"nope": "x"},
            "f": [],
            "g": 3.5,
        },
        "customer": {"address": "x"},
        "unit": [{"ref": "x"}, {"hidden": "y", "values": []}],
    }
    with pytest.raises(MapInvalid) as caught:
        parse_map(raw, namespaces=("ref", "hidden"), default_namespace="ref")
    assert caught.value.problems == [
        ("map.answers.a.scale", "low and high must differ"),
        ("map.answers.b.points", "lists a value twice"),
        ("map.answers.c", "give scale or points, not both"),
        ("map.answers.d.optional", "'yes' is not true or false"),
        (
            "map.answers.e.nope",
            "unknown key (use one of ref, hidden, path, value, and options values, scale, points, optional)",
        ),
        ("map.answers.f", "an empty list picks nothing (use null to switch the field off)"),
        ("map.answers.g", "must be a field name or a mapping like {ref: NAME}, not 3.5"),
        ("map.customer.address", "unknown key (use id, name, email, phone, tier, contact_ok)"),
        ("map.unit[1].values", "must be a mapping of tool values to our values"),
    ]
