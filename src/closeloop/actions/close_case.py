"""Changing a case's status; closing it also plans the follow-up survey to the customer."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from closeloop.cases.models import Case
from closeloop.cases.services import do_change_status
from closeloop.loop.services import schedule_follow_up
from closeloop.org.models import Person


def change_case_status(
    case: Case,
    *,
    status: str,
    resolution: str | None = None,
    note: str | None = None,
    actor: Person | None = None,
    now: datetime,
    root_cause: str | None = None,
    action_taken: str | None = None,
    spoke_to_customer: bool = False,
) -> Case:
    """Move the case to one of its template's statuses (see `do_change_status`); a case that ends up closed
    gets its follow-up survey planned in the same transaction."""
    with transaction.atomic():
        changed = do_change_status(
            case,
            status=status,
            resolution=resolution,
            note=note,
            actor=actor,
            now=now,
            root_cause=root_cause,
            action_taken=action_taken,
            spoke_to_customer=spoke_to_customer,
        )
        if changed.state == Case.State.CLOSED and changed.closed_at == now:
            schedule_follow_up(changed, now)
    return changed
