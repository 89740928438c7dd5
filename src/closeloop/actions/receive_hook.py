"""Receiving a survey tool's request on `/hooks/<key>`: verify, translate, and ingest like an API post, with
the request recorded, a retried event recognised, and an unreadable one kept to be replayed.

The tool's follow-up fetch (SurveyMonkey, Qualtrics) happens before the transaction, through the
connectors' one network call with its timeout; then one transaction claims the event, ingests its
responses (the same action as `POST /api/v1/responses`) and records the delivery, so a 200 means the
responses, their alerts and cases are stored, and the same event again changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction

from closeloop.actions.ingest import ingest_responses
from closeloop.alerts.text_judging import JudgeFirst
from closeloop.config.snapshot import current
from closeloop.connectors import (
    ConnectorError,
    Fetch,
    FetchFailed,
    Ignored,
    Inbound,
    Item,
    PayloadUnreadable,
    SecretUnavailable,
    SignatureInvalid,
    Translation,
    http,
)
from closeloop.feedback.store import FieldError, IngestResult, IntakeNote, RejectedInput, Sender
from closeloop.intake.journal import (
    claim_event,
    finish_claim,
    inbound_of,
    keep_dead_letter,
    letter_replayed,
    record_delivery,
    stored_delivery,
)
from closeloop.intake.models import DeadLetter, HookDelivery, Source
from closeloop.intake.sources import SourceEntry, SourceUnusable, source_entry, usable

log = logging.getLogger("closeloop.hooks")

# Fields an item can lose and still be a response; losing the survey or the id it cannot.
_ESSENTIAL = ("survey", "external_id")


@dataclass
class HookReply:
    """What the endpoint answers: a status, a sentence, and the responses the request is about."""

    status: int
    detail: str
    outcome: str
    event_id: str = ""
    responses: list[dict[str, Any]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        if self.status >= 400:
            return {"detail": self.detail, "errors": [{"loc": [], "msg": self.detail}]}
        data: dict[str, Any] = {"detail": self.detail, "outcome": self.outcome}
        if self.event_id:
            data["event_id"] = self.event_id
        if self.outcome != HookDelivery.Outcome.IGNORED:
            data["responses"] = self.responses
        return data


class _Unstorable(Exception):
    """An item the ingest refuses even without its refused fields: the request becomes a dead letter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def receive_hook(key: str, inbound: Inbound, *, now: datetime, fetch: Fetch = http.fetch) -> HookReply:
    """Handle one request to `/hooks/<key>`."""
    entry = source_entry(key)
    if entry is None:
        return HookReply(404, f"No source {key!r}.", "unknown")
    source = entry.row
    try:
        spec, _ = usable(entry, current().catalog)
        spec.connector.verify(inbound, spec, now)
    except SignatureInvalid as exc:
        # Logged with the reason only: the body of a request that is not the tool's is not kept anywhere.
        log.warning("hook %s refused (%s): %s", key, exc.status, exc.reason)
        return _refusal(source, exc, HookDelivery.Outcome.REFUSED, now)
    except (SecretUnavailable, SourceUnusable) as exc:
        log.error("hook %s cannot be verified: %s", key, exc.reason)
        return _refusal(source, exc, HookDelivery.Outcome.UNAVAILABLE, now)
    return _translate_and_store(entry, inbound, now=now, fetch=fetch, letter=None)


def replay_dead_letter(letter: DeadLetter, *, now: datetime, fetch: Fetch = http.fetch) -> HookReply:
    """Run a kept request through the source's current map again (it was verified when it arrived).

    The replay of an event stored since (the tool delivered it again, or an earlier replay) changes nothing.
    """
    entry = source_entry(letter.source.key)
    if entry is None:
        return HookReply(404, f"Source {letter.source.key!r} is no longer configured.", "unknown")
    return _translate_and_store(entry, inbound_of(letter), now=now, fetch=fetch, letter=letter)


def _translate_and_store(
    entry: SourceEntry, inbound: Inbound, *, now: datetime, fetch: Fetch, letter: DeadLetter | None
) -> HookReply:
    source = entry.row
    replay = letter is not None
    try:
        spec, survey = usable(entry, current().catalog)
        translation = spec.connector.translate(inbound, spec, survey=survey, fetch=fetch)
    except Ignored as exc:
        record_delivery(source, now=now, outcome="ignored", status=200, problem=exc.reason, replay=replay)
        if letter is not None:
            letter_replayed(letter, now=now, state=DeadLetter.State.IGNORED, problem=exc.reason)
        return HookReply(200, f"Ignored: {exc.reason}.", HookDelivery.Outcome.IGNORED)
    except PayloadUnreadable as exc:
        return _dead_letter(source, inbound, exc.reason, now=now, letter=letter)
    except (FetchFailed, SecretUnavailable, SourceUnusable) as exc:
        log.warning("hook %s: %s", source.key, exc.reason)
        outcome = HookDelivery.Outcome.FETCH_FAILED if isinstance(exc, FetchFailed) else "unavailable"
        if letter is not None:
            letter_replayed(letter, now=now, state=DeadLetter.State.WAITING, problem=exc.reason)
        return _refusal(source, exc, outcome, now, replay=replay)
    sender = Sender(name=source.label, audio_hosts=tuple(spec.audio_hosts) if spec.audio_hosts is not None else None)
    try:
        reply = _store(source, translation, now=now, replay=replay, sender=sender)
    except _Unstorable as exc:
        return _dead_letter(source, inbound, exc.reason, now=now, letter=letter, event_id=translation.event_id)
    if letter is not None:
        with transaction.atomic():
            letter_replayed(
                letter, now=now, state=DeadLetter.State.REPLAYED, responses=[r["id"] for r in reply.responses]
            )
    return reply


def _store(source: Source, translation: Translation, *, now: datetime, replay: bool, sender: Sender) -> HookReply:
    event_id = translation.event_id
    # Words a text rule needs are judged with no transaction open (on SQLite ours holds the only write lock,
    # which an API post's alert also waits for); the claim and the ingest then run again, the judge answering
    # from its cache.
    caller_judges = True
    while True:
        try:
            with transaction.atomic():
                claim = claim_event(source, event_id, now=now, replay=replay)
                if claim is None:
                    return _duplicate(source, event_id, now=now, replay=replay)
                outcomes = _ingest(
                    source,
                    translation.items,
                    merge=translation.merge,
                    now=now,
                    sender=sender,
                    caller_judges=caller_judges,
                )
                responses = [_summary(outcome) for outcome in outcomes]
                finish_claim(claim, [r["id"] for r in responses])
            break
        except JudgeFirst as first:
            first.judge()
            caller_judges = False
    count = len(responses)
    detail = f"Stored {count} response{'s' if count != 1 else ''}."
    return HookReply(200, detail, HookDelivery.Outcome.STORED, event_id, responses)


def _ingest(
    source: Source, items: Sequence[Item], *, merge: bool, now: datetime, sender: Sender, caller_judges: bool = False
) -> list[IngestResult]:
    """Ingest the items; an item the ingest refuses is stored without its refused fields and held in quarantine,
    with why listed among its problems, so nothing a verified tool sent is dropped silently."""
    bodies = [item.body for item in items]
    notes: list[IntakeNote | None] = [IntakeNote(item.problems) for item in items]
    outcomes = ingest_responses(
        bodies, source=source.label, now=now, notes=notes, merge=merge, sender=sender, caller_judges=caller_judges
    )
    refused = [index for index, outcome in enumerate(outcomes) if isinstance(outcome, RejectedInput)]
    if refused:
        again = []
        for index in refused:
            errors = outcomes[index].errors  # type: ignore[union-attr]
            body = _without(bodies[index], errors)
            if body is None:
                raise _Unstorable("; ".join(str(error) for error in errors))
            problems = (
                *items[index].problems,
                *(f"{error} (refused; the response waits in quarantine)" for error in errors),
            )
            again.append((index, body, IntakeNote(problems, hold=True)))
        retried = ingest_responses(
            [body for _, body, _ in again],
            source=source.label,
            now=now,
            notes=[note for _, _, note in again],
            merge=merge,
            sender=sender,
            caller_judges=caller_judges,
        )
        for (index, _, _), outcome in zip(again, retried, strict=True):
            if isinstance(outcome, RejectedInput):
                raise _Unstorable(str(outcome))
            outcomes[index] = outcome
    return [outcome for outcome in outcomes if isinstance(outcome, IngestResult)]


def _without(body: Mapping[str, Any], errors: Sequence[FieldError]) -> dict[str, Any] | None:
    """The body less every field an error names; None when an error is about what a response cannot lack."""
    kept = {name: (dict(value) if isinstance(value, dict) else value) for name, value in body.items()}
    for error in errors:
        loc = error.loc
        if not loc or loc[0] in _ESSENTIAL:
            return None
        if loc[0] == "answers" and len(loc) > 1:
            kept.get("answers", {}).pop(str(loc[1]), None)
        elif loc[0] == "answers":
            kept["answers"] = {}
        else:
            kept.pop(str(loc[0]), None)
    return kept


def _summary(outcome: IngestResult) -> dict[str, Any]:
    response = outcome.response
    done = "created" if outcome.created else "updated" if outcome.updated else "replayed"
    summary = {"id": response.pk, "external_id": response.external_id, "outcome": done, "status": response.status}
    if done != "replayed":
        # A replayed response may have come from anyone (another source, the API): what is wrong with it is
        # not this sender's to read. What it sent now, it may.
        summary["problems"] = list(response.problems)
    return summary


def _duplicate(source: Source, event_id: str, *, now: datetime, replay: bool) -> HookReply:
    earlier = stored_delivery(source, event_id)
    ids = list(earlier.responses) if earlier is not None else []
    record_delivery(source, now=now, outcome="duplicate", status=200, event_id=event_id, responses=ids, replay=replay)
    responses = [{"id": pk, "outcome": "replayed"} for pk in ids]
    return HookReply(
        200, f"Already received event {event_id}: nothing changed.", HookDelivery.Outcome.DUPLICATE, event_id, responses
    )


def _dead_letter(
    source: Source,
    inbound: Inbound,
    reason: str,
    *,
    now: datetime,
    letter: DeadLetter | None,
    event_id: str = "",
) -> HookReply:
    replay = letter is not None
    with transaction.atomic():
        record_delivery(
            source, now=now, outcome="unreadable", status=422, event_id=event_id, problem=reason, replay=replay
        )
        if letter is None:
            keep_dead_letter(source, inbound, reason, now=now)
        else:
            letter_replayed(letter, now=now, state=DeadLetter.State.WAITING, problem=reason)
    log.warning("hook %s: unreadable, kept as a dead letter: %s", source.key, reason)
    return HookReply(422, f"Unreadable: {reason}.", HookDelivery.Outcome.UNREADABLE, event_id)


def _refusal(source: Source, exc: ConnectorError, outcome: str, now: datetime, *, replay: bool = False) -> HookReply:
    record_delivery(source, now=now, outcome=outcome, status=exc.status, problem=exc.reason, replay=replay)
    return HookReply(exc.status, _sentence(exc), outcome)


def _sentence(exc: ConnectorError) -> str:
    if isinstance(exc, SignatureInvalid):
        return f"Not verified: {exc.reason}."
    return exc.reason[:1].upper() + exc.reason[1:] + "."
