"""Closed cases of customers who may be asked afterwards, and the real SMTP sink of the notify tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from closeloop.cases.models import Case
from closeloop.cases.services import do_add_note, do_change_status
from tests.notify.conftest import smtp, smtp_sink  # noqa: F401  (fixtures shared with the channel tests)
from tests.web.conftest import ingest


def closed_case(*, closed_at: datetime, resolution: str = "resolved", contacted: bool = True, **customer: Any) -> Case:
    """A failed installation in SUP-EMEA, opened a day before `closed_at` and closed then."""
    opened_at = closed_at - timedelta(days=1)
    response = ingest(at=opened_at, **({"customer": customer} if customer else {}))
    case = Case.objects.get(response=response)
    if contacted:
        do_add_note(case, text="Called the customer.", spoke_to_customer=True, now=opened_at + timedelta(hours=1))
    return do_change_status(case, status="Closed", resolution=resolution, actor=None, now=closed_at)


@pytest.fixture
def recent_close(acme: None) -> Case:
    """Closed three days ago, so its follow-up (2 days after closing) went due yesterday."""
    return closed_case(closed_at=timezone.now() - timedelta(days=3))
