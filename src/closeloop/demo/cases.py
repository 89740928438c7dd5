"""The demo team's work on its cases: views, calls, notes and closings, in the past.

Without it every demo case would sit unopened and the reports would have nothing to show.
Each case's story is drawn from a generator seeded by its response's external id, so it does
not depend on the order of loading; it is told only for cases opened by this run of the demo,
so running the demo again adds nothing. Some cases are left alone on purpose: overdue and
unviewed cases are what the escalations and the recovery report are about.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from closeloop.actions.close_case import change_case_status
from closeloop.cases.models import Case
from closeloop.cases.services import do_add_note, do_view_case
from closeloop.demo import comments
from closeloop.demo.responses import SEED
from closeloop.org.directory import directory
from closeloop.org.models import Person

# The share of cases the unit's lead gets to; Support West is the struggling team of the demo.
HANDLED_SHARE = {"SUP-WEST": 0.55}
DEFAULT_HANDLED_SHARE = 0.88
UNRESOLVED_SHARE = {"SUP-WEST": 0.3}
DEFAULT_UNRESOLVED_SHARE = 0.12
EMEA_UNITS = frozenset({"SUP-EMEA", "ST-201"})
WORK_STARTS, WORK_ENDS = 8, 19


@dataclass
class CaseWork:
    viewed: int = 0
    contacted: int = 0
    closed: int = 0


def _hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(hours=rng.uniform(low, high))


def _working_time(at: datetime, zone: ZoneInfo) -> datetime:
    """`at`, or the next working morning if it falls outside 08:00-19:00 local time: people call by day."""
    local = at.astimezone(zone)
    if local.hour < WORK_STARTS:
        local = local.replace(hour=WORK_STARTS)
    elif local.hour >= WORK_ENDS:
        local = (local + timedelta(days=1)).replace(hour=WORK_STARTS)
    return local.astimezone(at.tzinfo)


def _lead(case: Case) -> Person | None:
    keys = directory().tree.leads_of(case.unit.code)
    people = directory().people_by_key(set(keys))
    return next((people[key] for key in keys if key in people), None)


def work_on_cases(cases: Iterable[Case], *, anchor: datetime) -> CaseWork:
    """Play each case's story up to `anchor`; steps that would fall after it are not taken."""
    work = CaseWork()
    for case in cases:
        response = case.response
        rng = random.Random(f"{SEED}:{response.external_id}")
        lead = _lead(case)
        if lead is None or rng.random() > HANDLED_SHARE.get(case.unit.code, DEFAULT_HANDLED_SHARE):
            continue
        locale = comments.UK if case.unit.code in EMEA_UNITS else comments.US
        customer = response.customer
        first_name = response.customer_name.split()[0] if customer and response.customer_name else ""
        agent = response.agent.name.split()[0] if response.agent else "the agent"
        zone = ZoneInfo(directory().time_zone_of(case.unit))
        # Gold customers are called back sooner: that is what their SLA is for.
        at = _working_time(case.opened_at + (_hours(rng, 0.3, 6) if case.tier == "Gold" else _hours(rng, 1, 30)), zone)
        if at >= anchor:
            continue
        do_view_case(case, actor=lead, now=at)
        work.viewed += 1
        if len(case.statuses) > 2:  # an in-between status such as "Contacting customer"
            change_case_status(case, status=case.statuses[1], actor=lead, now=at + timedelta(minutes=3))
        at = _working_time(at + _hours(rng, 0.2, 8), zone)
        if customer is not None and response.contact_ok:
            if rng.random() < 0.3 and at < anchor:
                text = comments.case_note(
                    rng, comments.NO_ANSWER_NOTES, customer=first_name, agent=agent, locale=locale
                )
                do_add_note(case, text=text, actor=lead, now=at)
                at = _working_time(at + _hours(rng, 2, 26), zone)
            if at >= anchor:
                continue
            finding, actions = rng.choice(comments.CONTACT_STORIES)
            story = f"{finding} {rng.choice(actions)}"
            text = comments.case_note(rng, [story], customer=first_name, agent=agent, locale=locale)
            do_add_note(case, text=text, spoke_to_customer=True, actor=lead, now=at)
            work.contacted += 1
        elif at < anchor:
            text = comments.case_note(rng, comments.INTERNAL_NOTES, customer=first_name, agent=agent, locale=locale)
            do_add_note(case, text=text, actor=lead, now=at)
        at = _working_time(at + _hours(rng, 2, 72), zone)
        if at >= anchor or rng.random() < 0.15:
            continue  # still being worked on
        unresolved = rng.random() < UNRESOLVED_SHARE.get(case.unit.code, DEFAULT_UNRESOLVED_SHARE)
        notes = comments.UNRESOLVED_NOTES if unresolved else comments.RESOLVED_NOTES
        change_case_status(
            case,
            status=case.closed_status,
            resolution=Case.Resolution.UNRESOLVED if unresolved else Case.Resolution.RESOLVED,
            note=comments.case_note(rng, notes, customer=first_name, agent=agent, locale=locale),
            actor=lead,
            now=at,
        )
        work.closed += 1
    return work
