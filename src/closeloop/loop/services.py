"""The follow-up survey: scheduled when a case closes, emailed by the worker, answered from a one-click link.

The links carry a signed token (django.core.signing) naming the follow-up and its nonce; the answer
(`yes`/`no`) is in the path. Answering is a POST from a confirm page, so mail scanners that fetch every
link in a message never answer for the customer. A follow-up is answered once; its links expire.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse

from closeloop.cases.models import Case
from closeloop.cases.notifications import case_link, send_emails, team_of
from closeloop.core.vocabulary import Severity
from closeloop.feedback.models import Response
from closeloop.feedback.schemas import customer_body
from closeloop.loop.models import FollowUp
from closeloop.notify.links import absolute_url
from closeloop.notify.outbox import enqueue
from closeloop.notify.render import make_message
from closeloop.org.directory import current_organization

SALT = "closeloop.follow-up"
SEND_BATCH = 50
ANSWERS = {"yes": True, "no": False}


def link_lifetime() -> timedelta:
    return timedelta(days=getattr(settings, "CLOSELOOP_FOLLOW_UP_LINK_DAYS", 14))


def _can_ask(response: Response) -> bool:
    """The case's response gave an email address and the consent to use it (and it was not withdrawn since)."""
    return response.customer_id is not None and response.contact_ok and bool(response.customer_email)


def schedule_follow_up(case: Case, now: datetime) -> FollowUp | None:
    """Plan the follow-up survey of a case that has just closed, `follow_up.after_close` later.

    Only for a customer who agreed to be contacted and gave an email address, and only once per case:
    a case closed again after a reopening moves a follow-up that has not gone out yet, and leaves one
    that was sent alone. Call inside the closing transaction.
    """
    organization = current_organization()
    if organization.follow_up_after is None or not organization.follow_up_survey or case.closed_at is None:
        return None
    if not _can_ask(case.response):
        return None
    due_at = case.closed_at + organization.follow_up_after
    follow_up = FollowUp.objects.filter(case=case).first()
    if follow_up is None:
        return FollowUp.objects.create(case=case, due_at=due_at, nonce=secrets.token_urlsafe(16), created_at=now)
    if follow_up.sent_at is None:
        follow_up.due_at = due_at
        follow_up.save(update_fields=["due_at"])
    return follow_up


# --- links ----------------------------------------------------------------------------------------------


def make_token(follow_up: FollowUp, answer: str) -> str:
    """The signed credential of one answer's link: the answer is signed too, so a "yes" link cannot be
    posted as "no" (or the other way round) by editing the address."""
    if answer not in ANSWERS:
        raise ValueError(f"a follow-up answer is yes or no, not {answer!r}")
    return signing.TimestampSigner(salt=SALT).sign(f"{follow_up.pk}.{follow_up.nonce}.{answer}")


def answer_link(follow_up: FollowUp, answer: str) -> str:
    return absolute_url("follow-up", make_token(follow_up, answer), answer)


def answer_path(follow_up: FollowUp, answer: str) -> str:
    """The same link without the site's address, for pages of this site."""
    return reverse("follow-up", args=(make_token(follow_up, answer), answer))


class LinkProblem(Exception):
    """Why a follow-up link cannot be used; `reason` is one of: invalid, expired, used, unavailable (the
    follow-up survey is no longer configured)."""

    def __init__(self, reason: str, follow_up: FollowUp | None = None) -> None:
        self.reason = reason
        self.follow_up = follow_up
        super().__init__(reason)


def follow_up_from_token(token: str, answer: str, now: datetime) -> FollowUp:
    """The follow-up a link for `answer` is for, or LinkProblem when it was altered (including its answer),
    has expired or was already used."""
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(token, max_age=link_lifetime())
    except signing.SignatureExpired:
        raise LinkProblem("expired") from None
    except signing.BadSignature:
        raise LinkProblem("invalid") from None
    pk, nonce, signed_answer = [*value.split("."), "", ""][:3]
    if signed_answer != answer:
        raise LinkProblem("invalid")
    follow_up = (
        FollowUp.objects.select_related("case__unit", "case__response__customer").filter(pk=pk, nonce=nonce).first()
        if pk.isdigit()
        else None
    )
    if follow_up is None or follow_up.sent_at is None:
        raise LinkProblem("invalid")
    if follow_up.answered_at is not None:
        raise LinkProblem("used", follow_up)
    if follow_up.expires_at is not None and now >= follow_up.expires_at:
        raise LinkProblem("expired", follow_up)
    return follow_up


# --- sending --------------------------------------------------------------------------------------------


def _email(follow_up: FollowUp) -> tuple[str, str]:
    message = make_message(
        "follow_up",
        {
            "organization": current_organization(),
            "customer_name": follow_up.case.response.customer_name,
            "yes_url": answer_link(follow_up, "yes"),
            "no_url": answer_link(follow_up, "no"),
            "link_days": link_lifetime().days,
        },
    )
    return message.subject, message.text


def _due(now: datetime) -> list[int]:
    # No lock here: `_send_one` locks each row and checks again that it is unsent, so two workers never
    # both send one follow-up.
    due = FollowUp.objects.filter(sent_at__isnull=True, due_at__lte=now).order_by("due_at", "id")
    return list(due.values_list("id", flat=True)[:SEND_BATCH])


def _send_one(pk: int, now: datetime) -> bool:
    with transaction.atomic():
        follow_up = (
            FollowUp.objects.select_for_update(of=("self",))
            .select_related("case__response__customer")
            .filter(pk=pk, sent_at__isnull=True, due_at__lte=now)
            .first()
        )
        if follow_up is None:
            return False  # another worker sent it in the meantime
        case = follow_up.case
        if case.state != Case.State.CLOSED or not _can_ask(case.response):
            # Reopened since, or consent withdrawn: nothing to send until the case closes again.
            follow_up.due_at = None
            follow_up.save(update_fields=["due_at"])
            return True
        follow_up.sent_at = now
        follow_up.expires_at = now + link_lifetime()
        follow_up.save(update_fields=["sent_at", "expires_at"])
        subject, text = _email(follow_up)
        enqueue(
            now=now,
            idempotency_key=f"follow-up:{follow_up.pk}:email",
            channel="email",
            address=case.response.customer_email,
            subject=subject,
            text=text,
            topic="follow-up",
            ref=f"case:{case.pk}",
            # A survey to the customer can wait behind the alerts of a backlog.
            severity=Severity.LOW,
        )
    return True


def send_due_follow_ups(now: datetime) -> int:
    """The `follow-ups` worker step: email the follow-up surveys that are due; returns how many were handled."""
    return sum(_send_one(pk, now) for pk in _due(now))


# --- answering ------------------------------------------------------------------------------------------


def follow_up_item(follow_up: FollowUp, resolved: bool, now: datetime) -> dict[str, Any]:
    """The customer's answer as an ingest item of the follow-up survey, tied to the case's unit and customer."""
    case = follow_up.case
    original = case.response
    return {
        "survey": current_organization().follow_up_survey,
        # Random, not the follow-up's number: a survey tool's token must not be able to post the answer first.
        "external_id": f"follow-up-{secrets.token_urlsafe(12)}",
        "submitted_at": now.isoformat(),
        "unit": case.unit.code,
        "segment": original.segment or None,
        "agent": original.agent_code or None,
        # Every field the customer gave, so this response does not erase anything (consent included); the
        # contact details a customer without consent has are withheld (null), and an omitted field erases nothing.
        "customer": (
            {key: value for key, value in (customer_body(original) or {}).items() if value is not None}
            if original.customer is not None
            else None
        ),
        "answers": {"resolved": resolved},
    }


def lock_unanswered(token: str, answer: str, now: datetime) -> FollowUp:
    """The follow-up a link is for, locked for answering; LinkProblem when it cannot be answered (any more).
    Call inside the answering transaction."""
    found = follow_up_from_token(token, answer, now)
    follow_up = FollowUp.objects.select_for_update(of=("self",)).get(pk=found.pk)
    if follow_up.answered_at is not None:
        raise LinkProblem("used", follow_up)  # a second click that raced the first one
    follow_up.case = found.case
    return follow_up


def record_answer(follow_up: FollowUp, resolved: bool, response: Response, now: datetime) -> None:
    follow_up.answered_at, follow_up.answer, follow_up.response = now, resolved, response
    follow_up.save(update_fields=["answered_at", "answer", "response"])


def tell_team_not_resolved(case: Case, follow_up: FollowUp, reopened: bool, now: datetime) -> None:
    case = Case.objects.select_related("unit", "owner").get(pk=case.pk)
    message = make_message("follow_up_not_resolved", {"case": case, "case_url": case_link(case), "reopened": reopened})
    send_emails(
        case,
        team_of(case),
        subject=message.subject,
        text=message.text,
        key=f"follow-up-no:{follow_up.pk}",
        now=now,
        topic="follow-up",
    )


def follow_up_answers(case_ids: Iterable[int] | QuerySet[Any]) -> dict[int, bool | None]:
    """For each case whose follow-up survey was sent: the customer's answer, None while unanswered.
    `case_ids` may be a query of ids (one subquery instead of one parameter per case)."""
    if not FollowUp.objects.filter(sent_at__isnull=False).exists():
        return {}  # an organisation that sends no follow-ups should not pay for reading the cases
    rows = FollowUp.objects.filter(case_id__in=case_ids, sent_at__isnull=False).values_list("case_id", "answer")
    return dict(rows)
