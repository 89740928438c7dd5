"""The demo's generated responses: deterministic, believable and spread like real traffic. No database."""

from __future__ import annotations

import statistics
import zoneinfo
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from closeloop.demo.comments import DELIGHTED, NEUTRAL, UNHAPPY
from closeloop.demo.generate import CONFIG_PATH
from closeloop.demo.responses import DemoResponse, demo_responses, demo_units

ANCHOR = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
CONFIG = yaml.safe_load(CONFIG_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def responses() -> list[DemoResponse]:
    return demo_responses(CONFIG, ANCHOR)


def test_the_same_anchor_gives_the_same_responses(responses: list[DemoResponse]) -> None:
    assert demo_responses(CONFIG, ANCHOR) == responses


def test_external_ids_do_not_depend_on_the_anchor(responses: list[DemoResponse]) -> None:
    later = demo_responses(CONFIG, ANCHOR + timedelta(days=40, hours=5))
    assert {r.item["external_id"] for r in later} == {r.item["external_id"] for r in responses}


def test_about_five_hundred_responses_with_unique_external_ids(responses: list[DemoResponse]) -> None:
    assert len(responses) == 500
    assert len({(r.item["survey"], r.item["external_id"]) for r in responses}) == 500
    assert Counter(r.item["survey"] for r in responses).keys() == {"support-csat", "relationship-nps"}


def test_every_response_falls_in_the_thirty_days_before_the_anchor(responses: list[DemoResponse]) -> None:
    for response in responses:
        submitted = datetime.fromisoformat(response.item["submitted_at"])
        assert ANCHOR - timedelta(days=30) <= submitted < ANCHOR
        assert submitted < response.arrival <= ANCHOR
    days = {datetime.fromisoformat(r.item["submitted_at"]).date() for r in responses}
    assert len(days) >= 28


def test_most_responses_arrive_in_business_hours_on_weekdays(responses: list[DemoResponse]) -> None:
    zones = {unit.code: zoneinfo.ZoneInfo(unit.time_zone) for unit in demo_units(CONFIG)}
    local = [
        datetime.fromisoformat(r.item["submitted_at"]).astimezone(zones[r.item["unit"]])
        for r in responses
        if r.item.get("unit") in zones
    ]
    in_hours = sum(1 for moment in local if 8 <= moment.hour < 18)
    on_weekdays = sum(1 for moment in local if moment.weekday() < 5)
    assert in_hours / len(local) > 0.7
    assert on_weekdays / len(local) > 0.8


def test_scores_follow_the_tone_of_the_comment(responses: list[DemoResponse]) -> None:
    by_mood: dict[str, list[int]] = {UNHAPPY: [], NEUTRAL: [], DELIGHTED: []}
    for response in responses:
        if "overall" in response.item["answers"]:
            by_mood[response.mood].append(response.item["answers"]["overall"])
    assert max(by_mood[UNHAPPY]) <= 6 < min(by_mood[DELIGHTED])
    assert statistics.mean(by_mood[UNHAPPY]) < statistics.mean(by_mood[NEUTRAL]) < statistics.mean(by_mood[DELIGHTED])
    scores = Counter(r.item["answers"].get("overall") for r in responses)
    assert all(scores[score] > 0 for score in range(1, 11))


def test_comments_are_varied(responses: list[DemoResponse]) -> None:
    texts = [r.item["answers"]["comment"] for r in responses if r.item["answers"].get("comment")]
    assert len(set(texts)) >= 300
    assert any("refund" in t or "cancel" in t or "Never again" in t for t in texts)
    assert any("Update:" in t for t in texts)


def test_agents_are_members_of_the_unit(responses: list[DemoResponse]) -> None:
    agents = {unit.code: set(unit.agents) for unit in demo_units(CONFIG)}
    with_agent = [r for r in responses if "agent" in r.item]
    assert len(with_agent) > 300
    assert all(r.item["agent"] in agents[r.item["unit"]] for r in with_agent if r.item.get("unit") in agents)


def test_the_demo_shows_quarantine_interviews_recordings_and_superseded_tickets(responses: list[DemoResponse]) -> None:
    known_units = {unit.code for unit in demo_units(CONFIG)}
    misplaced = [
        r for r in responses if r.item.get("unit") not in known_units or r.item["segment"] not in CONFIG["segments"]
    ]
    assert 5 <= len(misplaced) <= 12
    assert sum(1 for r in responses if r.item.get("interviewer_flag")) >= 10
    assert sum(1 for r in responses if r.item.get("interviewer_notes")) >= 30
    recorded = [r for r in responses if r.item.get("audio_url")]
    assert recorded and all(r.item["customer"]["contact_ok"] for r in recorded)
    tickets = Counter(r.item["ticket"] for r in responses if "ticket" in r.item)
    assert sum(1 for count in tickets.values() if count == 2) == 3
    assert all(t.startswith("T-1") for t in tickets)


def test_customers_look_real(responses: list[DemoResponse]) -> None:
    customers = [r.item["customer"] for r in responses]
    assert Counter(c.get("tier") for c in customers).keys() >= {"Gold", "Silver", "Bronze"}
    assert any(not c["contact_ok"] for c in customers)
    assert all(c["email"].split("@")[1].endswith(("example.com", "example.net", "example.org")) for c in customers)
    names_by_id: dict[str, set[str]] = {}
    for customer in customers:
        names_by_id.setdefault(customer["id"], set()).add(customer["name"])
    assert all(len(names) == 1 for names in names_by_id.values())
    assert len(names_by_id) < len(customers)  # some customers answer more than once


def test_an_anchor_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="anchor"):
        demo_responses(CONFIG, datetime(2026, 11, 23))  # noqa: DTZ001
