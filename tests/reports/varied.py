"""The varied month of cases the loop report's tests read: contacted, closed, reopened, assigned and answered
in every way the report's figures tell apart; and the reference response counts of closeloop.core.metrics."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db.models import QuerySet

from closeloop.cases.models import Case
from closeloop.cases.services import do_add_note, do_assign, do_change_status, do_reopen
from closeloop.core.metrics import UnitActivity
from closeloop.feedback.models import Response
from closeloop.loop.models import FollowUp
from tests.web.conftest import ingest

START = datetime(2026, 11, 16, 14, 0, tzinfo=UTC)
FIRST, LAST = date(2026, 11, 16), date(2026, 11, 19)
UNITS = ["SUP-EMEA", "SUP-UK", "SUP-US"]
TIERS = ["Gold", "Silver", "Bronze", "Other"]


def reference_activity(responses: QuerySet[Response]) -> list[UnitActivity]:
    """The reference's response counts: one UnitActivity per response, alert categories by kind."""
    activity = []
    for response in responses.select_related("unit").prefetch_related("alerts"):
        alerts = list(response.alerts.all())
        praise = tuple(alert.category for alert in alerts if alert.kind == "praise")
        activity.append(
            UnitActivity(
                unit=response.unit.code,
                responses=1,
                needing_recovery=int(response.needs_recovery),
                alert_categories=tuple(alert.category for alert in alerts if alert.kind == "recovery"),
                praise_count=len(praise),
                praise_categories=praise,
                watch_categories=tuple(alert.category for alert in alerts if alert.kind == "watch"),
            )
        )
    return activity


@pytest.fixture
def varied(acme: None) -> None:
    """Forty responses over four days, most unhappy; their cases contacted after delays on and around the
    report's windows (1 h, 24 h, 48 h exactly included), some before the case opened, some never; closed
    within and past their goals, resolved or not, with and without a root cause; some assigned; follow-up
    answers yes and no, from the customer's own survey and from follow-ups this system sent."""
    rng = random.Random(15)
    for n in range(40):
        at = START + timedelta(hours=n * 2.3)
        happy = n % 6 == 5
        answers = {"ease": 9, "completed": True, "comment": "Fine."} if happy else None
        ingest(answers, at=at, unit=UNITS[n % 3], tier=TIERS[n % 4])
    cases = list(Case.objects.order_by("id").select_related("response__customer"))
    assert len(cases) > 25
    delays = [None, 0.5, 1, 1.0001, 24, 30, 48, 49, 3, None, 12]
    for i, case in enumerate(cases):
        delay = delays[i % len(delays)]
        if delay is not None:
            do_add_note(case, text="Spoke.", spoke_to_customer=True, now=case.opened_at + timedelta(hours=delay))
        elif i % 4 == 0:
            do_add_note(case, text="No answer.", spoke_to_customer=False, now=case.opened_at + timedelta(hours=2))
        if i % 5 == 1:
            # Only the case's team may own it; take turns among them.
            team = [*case.managers.order_by("key"), *case.members.order_by("key")]
            do_assign(case, owner=team[i % len(team)], now=case.opened_at + timedelta(minutes=5))
        if i % 3 == 0:
            do_change_status(case, status="Pending", now=case.opened_at + timedelta(hours=rng.uniform(0.1, 5)))
        if i % 2 == 0:
            # Every third closes exactly at its due time: that still meets the goal.
            closed_at = case.due_at if i % 3 == 0 else case.opened_at + timedelta(hours=rng.choice([2, 20, 30, 80]))
            do_change_status(case, status="Closed", resolution=rng.choice(["resolved", "unresolved"]), now=closed_at)
            if i % 10 == 4:
                do_reopen(case, now=closed_at + timedelta(hours=1))
            if i % 4 == 0:
                Case.objects.filter(pk=case.pk).update(root_cause=rng.choice(["Training", "Product bug"]))
            customer = case.response.customer
            if i % 8 == 0 and customer is not None:
                ingest(
                    {"resolved": i % 16 == 0},
                    survey="recovery-check",
                    customer={"id": customer.external_id},
                    at=closed_at + timedelta(hours=5),
                )
            elif i % 8 == 2:
                FollowUp.objects.create(
                    case=case, sent_at=closed_at, nonce=f"n{i}", created_at=closed_at, answer=i % 3 == 0 or None
                )
    # A note that predates its case (a replacing response took the case over): no delay, within every window.
    Case.objects.filter(pk=cases[1].pk).update(contacted_at=cases[1].opened_at - timedelta(hours=3))
