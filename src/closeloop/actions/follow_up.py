"""A customer answering the follow-up survey from the one-click link in its email."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from closeloop.actions.ingest import ingest_response
from closeloop.cases.models import Case
from closeloop.cases.services import CaseInputError, do_reopen
from closeloop.feedback.store import RejectedInput, Sender
from closeloop.loop.models import FollowUp
from closeloop.loop.services import (
    ANSWERS,
    LinkProblem,
    follow_up_item,
    lock_unanswered,
    record_answer,
    tell_team_not_resolved,
)


@dataclass(frozen=True)
class Answered:
    follow_up: FollowUp
    reopened: bool


def answer_follow_up(token: str, answer: str, *, now: datetime) -> Answered:
    """Record the customer's answer as a response to the follow-up survey, through the normal ingest.

    "No" reopens the case and tells its team. Raises LinkProblem for a bad, expired or used link.
    """
    if answer not in ANSWERS:
        raise LinkProblem("invalid")
    resolved = ANSWERS[answer]
    with transaction.atomic():
        follow_up = lock_unanswered(token, answer, now)
        case = follow_up.case
        # The answer repeats the details the case's response was sent with; as a sender of the case's unit only,
        # it cannot carry details a token of one unit gave into the record of a customer of other units.
        sender = Sender(name="follow-up", units=(case.unit.code,))
        item = follow_up_item(follow_up, resolved, now)
        try:
            response = ingest_response(item, source="follow-up", now=now, sender=sender).response
        except RejectedInput as exc:
            # The follow-up survey was removed or changed in the configuration since the email went out.
            raise LinkProblem("unavailable", follow_up) from exc
        record_answer(follow_up, resolved, response, now)
        reopened = False
        if not resolved:
            reopened = _reopen(case, now)
            tell_team_not_resolved(case, follow_up, reopened, now)
    return Answered(follow_up, reopened)


def _reopen(case: Case, now: datetime) -> bool:
    try:
        do_reopen(case, now=now)
    except CaseInputError:
        return False  # someone reopened it already
    return True
