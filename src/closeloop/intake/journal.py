"""The record of what each source's endpoint received: deliveries, the claim on an event, dead letters.

A delivery never holds the request's body. A dead letter does (it was authentic but unreadable, and
is kept to be replayed), without the token a tool puts in the URL or a custom header.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from django.db import IntegrityError, transaction

from closeloop.connectors import Inbound
from closeloop.connectors.signatures import TOKEN_HEADER, TOKEN_PARAMETER
from closeloop.intake.models import DeadLetter, HookDelivery, Source

# Never kept with a dead letter: they authenticate, and a replay does not verify again.
_SECRET_HEADERS = frozenset({"authorization", "cookie", TOKEN_HEADER.lower()})
_SECRET_PARAMETERS = frozenset({TOKEN_PARAMETER})


def record_delivery(
    source: Source,
    *,
    now: datetime,
    outcome: str,
    status: int,
    event_id: str = "",
    problem: str = "",
    responses: Iterable[int] = (),
    replay: bool = False,
) -> HookDelivery:
    return HookDelivery.objects.create(
        source=source,
        received_at=now,
        event_id=event_id[:200],
        outcome=outcome,
        status_code=status,
        problem=problem,
        responses=list(responses),
        replay=replay,
    )


def stored_delivery(source: Source, event_id: str) -> HookDelivery | None:
    """The delivery that stored this event before, if any."""
    return HookDelivery.objects.filter(source=source, event_id=event_id[:200], outcome="stored").first()


def claim_event(source: Source, event_id: str, *, now: datetime, replay: bool = False) -> HookDelivery | None:
    """Record that this request stores the event; None when another request stored it first.

    Call inside the transaction that ingests the event: the claim commits with the responses or not at
    all. Two simultaneous deliveries of one event meet at the unique constraint, and the second one waits
    for the first to commit (PostgreSQL) or starts after it (SQLite), then finds the claim taken.
    """
    if stored_delivery(source, event_id) is not None:
        return None
    try:
        with transaction.atomic():
            return record_delivery(
                source, now=now, outcome=HookDelivery.Outcome.STORED, status=200, event_id=event_id, replay=replay
            )
    except IntegrityError:
        return None


def finish_claim(claim: HookDelivery, responses: Iterable[int], problem: str = "") -> None:
    claim.responses = list(responses)
    claim.problem = problem
    claim.save(update_fields=["responses", "problem"])


def keep_dead_letter(source: Source, inbound: Inbound, reason: str, *, now: datetime) -> DeadLetter:
    headers = {name: value for name, value in inbound.headers.items() if name.lower() not in _SECRET_HEADERS}
    query = {name: value for name, value in inbound.query.items() if name not in _SECRET_PARAMETERS}
    return DeadLetter.objects.create(
        source=source,
        received_at=inbound.received_at or now,
        method=inbound.method,
        headers=headers,
        query=query,
        body=inbound.body,
        reason=reason,
    )


def inbound_of(letter: DeadLetter) -> Inbound:
    """The request as it arrived (less its token), with its original arrival time."""
    headers: Mapping[str, str] = letter.headers or {}
    return Inbound.build(
        bytes(letter.body),
        headers.items(),
        query=dict(letter.query or {}),
        received_at=letter.received_at,
        method=letter.method,
    )


def letter_replayed(
    letter: DeadLetter, *, now: datetime, state: str, problem: str = "", responses: Iterable[int] = ()
) -> None:
    letter.replays += 1
    letter.replayed_at = now
    letter.state = state
    letter.last_problem = problem
    if state == DeadLetter.State.REPLAYED:
        letter.responses = list(responses)
    letter.save(update_fields=["replays", "replayed_at", "state", "last_problem", "responses"])
