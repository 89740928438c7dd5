"""Closed cases of customers who may be asked afterwards, and the real SMTP sink of the notify tests."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from closeloop.actions.close_case import change_case_status
from closeloop.cases.models import Case
from closeloop.cases.services import do_add_note
from closeloop.loop.models import FollowUp
from closeloop.notify.models import Delivery
from closeloop.worker.runner import run_due_work
from tests.notify.conftest import smtp, smtp_sink  # noqa: F401  (fixtures shared with the channel tests)
from tests.web.conftest import ingest


def closed_case(*, closed_at: datetime, resolution: str = "resolved", contacted: bool = True, **customer: Any) -> Case:
    """A failed installation in SUP-EMEA, opened a day before `closed_at` and closed then."""
    opened_at = closed_at - timedelta(days=1)
    response = ingest(at=opened_at, **({"customer": customer} if customer else {}))
    case = Case.objects.get(response=response)
    if contacted:
        do_add_note(case, text="Called the customer.", spoke_to_customer=True, now=opened_at + timedelta(hours=1))
    return change_case_status(case, status="Closed", resolution=resolution, actor=None, now=closed_at)


@pytest.fixture
def recent_close(acme: None) -> Case:
    """Closed three days ago, so its follow-up (2 days after closing) went due yesterday."""
    return closed_case(closed_at=timezone.now() - timedelta(days=3))


LINK = re.compile(r"https?://\S+/follow-up/(\S+)/(yes|no)")


def send(case: Case) -> tuple[FollowUp, dict[str, str]]:
    """Run the worker when the follow-up is due; returns it and its links by answer (path only)."""
    follow_up = FollowUp.objects.get(case=case)
    run_due_work(follow_up.due_at)
    follow_up.refresh_from_db()
    delivery = Delivery.objects.get(idempotency_key=f"follow-up:{follow_up.pk}:email")
    links = {answer: f"/follow-up/{token}/{answer}" for token, answer in LINK.findall(delivery.text)}
    return follow_up, links
