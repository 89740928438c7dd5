"""The demo's survey responses: believable, varied and the same on every run.

Pure: built from the demo configuration (parsed YAML) and an anchor instant with a seeded
random generator, so the external ids and contents never change for a given anchor and
loading the demo twice stores nothing new. Each item is exactly a `POST /api/v1/responses`
body; `arrival` is when the survey tool would have delivered it.
"""

from __future__ import annotations

import random
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from closeloop.demo import comments
from closeloop.demo.comments import DELIGHTED, NEUTRAL, UNHAPPY
from closeloop.demo.names import Customer, make_customers

SEED = 20261123
RESPONSE_COUNT = 500
CUSTOMER_COUNT = 360
DAYS = 30
EXTERNAL_ID_PREFIX = "demo-"
CSAT_SURVEY = "support-csat"
NPS_SURVEY = "relationship-nps"
NPS_SHARE = 0.22
RECORDINGS_URL = "https://recordings.brightline.example/interviews/{external_id}.mp3"

# Mood mix (unhappy, neutral, delighted) per unit; Support West is having a hard month
# and the London store a good one, so the reports have something to show.
DEFAULT_MOODS = (22, 30, 48)
UNIT_MOODS = {"SUP-WEST": (36, 30, 34), "ST-201": (12, 26, 62)}
NPS_MOODS = (26, 34, 40)
SCORES = {
    UNHAPPY: {1: 8, 2: 9, 3: 14, 4: 18, 5: 20, 6: 12},
    NEUTRAL: {6: 12, 7: 42, 8: 46},
    DELIGHTED: {8: 10, 9: 38, 10: 52},
}
NPS_SCORES = {
    UNHAPPY: {0: 4, 1: 3, 2: 6, 3: 9, 4: 12, 5: 16, 6: 18},
    NEUTRAL: {7: 50, 8: 50},
    DELIGHTED: {9: 45, 10: 55},
}
RESOLVED_CHANCE = {UNHAPPY: 0.3, NEUTRAL: 0.85, DELIGHTED: 0.98}
COMMENT_CHANCE = {UNHAPPY: 0.95, NEUTRAL: 0.75, DELIGHTED: 0.82}
RISK_CHANCE = {UNHAPPY: 0.22, NEUTRAL: 0.03, DELIGHTED: 0.0}
PHONE_INTERVIEW_CHANCE = 0.18
# Units and segments the configuration does not know: these responses are quarantined as
# invalid until someone fixes them, which the demo shows on purpose (every 60th response).
MISPLACED_EVERY = 60
MISPLACEMENTS = [("unit", "SUP-CENTRAL"), ("unit", "ST-103"), ("unit", "ST-103"), ("unit", ""), ("segment", "EDU")]
SUPERSEDED_TICKETS = 3

# Relative chance of a response in each local hour: office hours heavy, a quieter evening.
HOUR_WEIGHTS = [
    0.05, 0.03, 0.02, 0.02, 0.03, 0.08, 0.25, 0.6, 1.2, 1.6, 1.7, 1.6,
    1.4, 1.6, 1.7, 1.6, 1.4, 1.2, 0.9, 0.75, 0.6, 0.45, 0.25, 0.12,
]  # fmt: skip
WEEKDAY_WEIGHTS = [1.0, 1.0, 1.0, 1.0, 0.95, 0.45, 0.3]


@dataclass(frozen=True)
class Unit:
    code: str
    region: str
    time_zone: str
    is_store: bool
    agents: tuple[str, ...]


@dataclass
class DemoResponse:
    item: dict[str, Any]
    arrival: datetime
    mood: str = field(compare=False)
    misplaced: bool = field(default=False, compare=False)  # sent with an unknown unit or segment


def demo_units(config: Mapping[str, Any]) -> list[Unit]:
    """The units responses are about (the leaves of the tree), with their region and agents."""
    agents: dict[str, list[str]] = {}
    for person in config.get("people", []):
        for role in person.get("roles", []):
            if role["role"] == "member":
                agents.setdefault(role["unit"], []).append(person["id"])
    leaves: list[Unit] = []

    def walk(node: Mapping[str, Any], region: str, time_zone: str) -> None:
        zone = node.get("time_zone", time_zone)
        children = node.get("children") or []
        for child in children:
            walk(child, region, zone)
        if not children:
            is_store = "store" in node["name"].lower()
            leaves.append(Unit(node["code"], region, zone, is_store, tuple(agents.get(node["code"], ()))))

    org_zone = config["organization"].get("time_zone", "UTC")
    for root in config["units"]:
        # The root is the company; its children are the regions customers belong to.
        for region in root.get("children", []):
            walk(region, region["code"], root.get("time_zone", org_zone))
    return leaves


class _Generator:
    def __init__(self, config: Mapping[str, Any], anchor: datetime, seed: int) -> None:
        self.rng = random.Random(seed)
        self.anchor = anchor
        self.units = demo_units(config)
        self.customers = make_customers(self.rng, CUSTOMER_COUNT)
        self.first_names = {p["id"]: p["name"].split()[0] for p in config.get("people", [])}

    def submitted_at(self, unit: Unit) -> datetime:
        zone = zoneinfo.ZoneInfo(unit.time_zone)
        today = self.anchor.astimezone(zone).date()
        days = [today - timedelta(days=back) for back in range(DAYS + 1)]
        weights = [WEEKDAY_WEIGHTS[d.weekday()] for d in days]
        while True:
            day: date = self.rng.choices(days, weights=weights)[0]
            hour = self.rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
            moment = datetime.combine(day, time(hour, self.rng.randrange(60), self.rng.randrange(60)), zone)
            # Resample rather than clamp, so the edges of the window are not crowded.
            if self.anchor - timedelta(days=DAYS) <= moment <= self.anchor - timedelta(minutes=10):
                return moment

    def customer_fields(self, customer: Customer) -> dict[str, Any]:
        fields: dict[str, Any] = {"id": customer.id, "name": customer.name, "email": customer.email}
        if self.rng.random() < 0.95:
            fields["phone"] = customer.phone
        if customer.tier:
            fields["tier"] = customer.tier
        fields["contact_ok"] = customer.contact_ok
        return fields

    def response(self, number: int) -> DemoResponse:
        rng = self.rng
        customer = rng.choice(self.customers)
        units = [u for u in self.units if u.region == customer.region]
        unit = rng.choices(units, weights=[1.0 if u.is_store else 2.6 for u in units])[0]
        locale = comments.UK if customer.region == "EMEA" else comments.US
        nps = rng.random() < NPS_SHARE
        mood = rng.choices(
            (UNHAPPY, NEUTRAL, DELIGHTED), weights=NPS_MOODS if nps else UNIT_MOODS.get(unit.code, DEFAULT_MOODS)
        )[0]
        risk = rng.random() < RISK_CHANCE[mood]
        external_id = f"{EXTERNAL_ID_PREFIX}{number:04d}"
        item: dict[str, Any] = {
            "survey": NPS_SURVEY if nps else CSAT_SURVEY,
            "external_id": external_id,
            "unit": unit.code,
            "segment": customer.segment,
            "customer": self.customer_fields(customer),
        }
        answers: dict[str, Any] = {}
        if nps:
            answers["nps"] = _weighted(rng, NPS_SCORES[mood])
            if rng.random() < COMMENT_CHANCE[mood] or risk:
                answers["comment"] = comments.relationship_comment(rng, mood=mood, locale=locale, risk=risk)
        else:
            agent = rng.choice(unit.agents) if unit.agents else ""
            if agent:
                item["agent"] = agent
            answers["overall"] = _weighted(rng, SCORES[mood])
            answers["resolved"] = rng.random() < RESOLVED_CHANCE[mood]
            picked = rng.sample(["Speed", "Knowledge", "Courtesy", "Follow-up"], k=rng.choice([0, 1, 1, 2, 2, 3]))
            if picked:
                answers["factors"] = picked
            if rng.random() < COMMENT_CHANCE[mood] or risk:
                answers["comment"] = comments.support_comment(
                    rng, mood=mood, agent=self.first_names.get(agent, ""), store=unit.is_store, locale=locale, risk=risk
                )
        item["answers"] = answers
        if rng.random() < PHONE_INTERVIEW_CHANCE:
            self.add_interview(item, mood, customer)
        if number % MISPLACED_EVERY == 0:
            field_name, wrong = MISPLACEMENTS[number // MISPLACED_EVERY % len(MISPLACEMENTS)]
            if wrong:
                item[field_name] = wrong
            else:
                del item[field_name]
        submitted = self.submitted_at(unit)
        item["submitted_at"] = submitted.isoformat()
        misplaced = number % MISPLACED_EVERY == 0
        return DemoResponse(item, arrival=self.arrival(submitted), mood=mood, misplaced=misplaced)

    def add_interview(self, item: dict[str, Any], mood: str, customer: Customer) -> None:
        """A phone interview: the interviewer's notes, their flag, and sometimes the recording."""
        rng = self.rng
        if rng.random() < 0.7:
            item["interviewer_notes"] = comments.interviewer_note(rng, mood=mood)
        # Interviewers flag what the scores may not show: unhappy calls, and some middling ones.
        if (mood == UNHAPPY and rng.random() < 0.5) or (
            mood == NEUTRAL and "interviewer_notes" in item and rng.random() < 0.5
        ):
            item["interviewer_flag"] = True
        if customer.contact_ok and rng.random() < 0.4:
            item["audio_url"] = RECORDINGS_URL.format(external_id=item["external_id"])

    def arrival(self, submitted: datetime) -> datetime:
        return min(submitted + timedelta(minutes=self.rng.randint(2, 45)), self.anchor)

    def re_survey(self, earlier: DemoResponse, number: int) -> DemoResponse:
        """The same ticket surveyed again after the team called back: it supersedes `earlier`."""
        rng = self.rng
        item = {
            key: value
            for key, value in earlier.item.items()
            if key not in ("interviewer_notes", "interviewer_flag", "audio_url")
        }
        item["external_id"] = f"{EXTERNAL_ID_PREFIX}{number:04d}"
        submitted = datetime.fromisoformat(earlier.item["submitted_at"]) + timedelta(
            days=rng.randint(1, 3), hours=rng.randint(0, 6)
        )
        item["submitted_at"] = submitted.isoformat()
        locale = comments.UK if item["unit"] in {u.code for u in self.units if u.region == "EMEA"} else comments.US
        item["answers"] = {
            "overall": rng.choice([8, 9, 9, 10]),
            "resolved": True,
            "factors": ["Follow-up"],
            "comment": comments.follow_up_comment(
                rng, agent=self.first_names.get(item.get("agent", ""), ""), locale=locale
            ),
        }
        return DemoResponse(item, arrival=self.arrival(submitted), mood=DELIGHTED)


def _weighted(rng: random.Random, weights: Mapping[int, float]) -> int:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _tickets(rng: random.Random) -> Iterator[str]:
    number = 10400
    while True:
        number += rng.randint(1, 9)
        yield f"T-{number}"


def demo_responses(
    config: Mapping[str, Any], anchor: datetime, *, count: int = RESPONSE_COUNT, seed: int = SEED
) -> list[DemoResponse]:
    """`count` responses submitted in the 30 days before `anchor`, oldest first."""
    if anchor.tzinfo is None:
        raise ValueError("anchor: needs a time zone")
    generator = _Generator(config, anchor, seed)
    responses = [generator.response(number) for number in range(1, count - SUPERSEDED_TICKETS + 1)]
    responses.sort(key=lambda r: r.arrival)
    tickets = _tickets(generator.rng)
    for response in responses:
        if response.item["survey"] == CSAT_SURVEY:
            response.item["ticket"] = next(tickets)
    # Unhappy, valid support responses from the older half get a second, happier survey.
    candidates = [
        r
        for r in responses[: len(responses) // 2]
        if r.item["survey"] == CSAT_SURVEY and r.mood == UNHAPPY and not r.misplaced and "agent" in r.item
    ]
    number = count - SUPERSEDED_TICKETS + 1
    for earlier in generator.rng.sample(candidates, min(SUPERSEDED_TICKETS, len(candidates))):
        responses.append(generator.re_survey(earlier, number))
        number += 1
    responses.sort(key=lambda r: r.arrival)
    return responses
