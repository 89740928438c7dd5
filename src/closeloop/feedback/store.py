"""Storing responses: validation, idempotent replays, customers, supersede by ticket, quarantine; and
fixing a quarantined response's placement.

These write only the feedback tables. Raising alerts and opening cases for what was stored is the
caller's next step, in the same transaction (closeloop.actions.ingest, closeloop.actions.fix_response).
A whole batch is stored at once so that a 100k-row file is a few hundred transactions, not 100k; a
single API post is a batch of one.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection
from pydantic import ValidationError

from closeloop.core.answers import answer_problem, customer_words, overall_score
from closeloop.feedback.catalog import Catalog, SurveyInfo
from closeloop.feedback.models import Customer, Response
from closeloop.feedback.schemas import CustomerIn, ResponseFixIn, ResponseIn
from closeloop.org.models import Unit


class FieldError(NamedTuple):
    loc: tuple[str | int, ...]
    msg: str

    def __str__(self) -> str:
        return f"{'.'.join(str(p) for p in self.loc)}: {self.msg}"


class RejectedInput(Exception):
    """The input cannot be accepted; nothing was stored. Maps to HTTP 422."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))


@dataclass
class IngestResult:
    response: Response
    created: bool  # False: the same survey + external_id was stored before (idempotent replay)


def _pydantic_errors(exc: ValidationError) -> list[FieldError]:
    errors = []
    for err in exc.errors():
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        errors.append(FieldError(tuple(err["loc"]), msg))
    return errors


@dataclass
class _Accepted:
    index: int
    data: ResponseIn
    info: SurveyInfo
    submitted_at: datetime


def _check(index: int, item: Mapping[str, Any], catalog: Catalog, now: datetime) -> _Accepted | RejectedInput:
    if not isinstance(item, Mapping):
        return RejectedInput([FieldError((), "expected a JSON object")])
    try:
        data = ResponseIn.model_validate(dict(item))
    except ValidationError as exc:
        return RejectedInput(_pydantic_errors(exc))
    info = catalog.surveys.get(data.survey)
    if info is None:
        return RejectedInput([FieldError(("survey",), f"unknown survey {data.survey!r}")])
    errors = []
    for key, value in data.answers.items():
        spec = info.questions.get(key)
        if spec is None:
            errors.append(FieldError(("answers", key), f"unknown question {key!r} in survey {data.survey!r}"))
        elif problem := answer_problem(spec, value):
            errors.append(FieldError(("answers", key), problem))
    if errors:
        return RejectedInput(errors)
    submitted_at = data.submitted_at or now
    if submitted_at.tzinfo is None:
        # A time without an offset is read in the organisation's time zone, as people wrote it.
        submitted_at = submitted_at.replace(tzinfo=zoneinfo.ZoneInfo(catalog.organization.time_zone))
    return _Accepted(index, data, info, submitted_at)


def _upsert_customers(accepted: Sequence[_Accepted], now: datetime) -> dict[str, Customer]:
    """Create or update every customer of the batch; the last mention of a customer wins."""
    incoming: dict[str, CustomerIn] = {a.data.customer.id: a.data.customer for a in accepted if a.data.customer}
    if not incoming:
        return {}
    existing = {c.external_id: c for c in Customer.objects.filter(external_id__in=incoming)}
    fields = ("name", "email", "phone", "tier", "contact_ok")
    to_create, to_update = [], []
    for external_id, data in incoming.items():
        customer = existing.get(external_id)
        if customer is None:
            to_create.append(Customer(external_id=external_id, updated_at=now, **data.model_dump(include=set(fields))))
            continue
        changed = False
        for name in fields:
            value = getattr(data, name)
            # An empty field in a later survey does not erase what an earlier one told us,
            # but contact consent always follows the latest answer.
            if (value or name == "contact_ok") and getattr(customer, name) != value:
                setattr(customer, name, value)
                changed = True
        if changed:
            customer.updated_at = now
            to_update.append(customer)
    if to_create:
        Customer.objects.bulk_create(to_create)  # SQLite >= 3.35 and PostgreSQL return the new ids
    if to_update:
        Customer.objects.bulk_update(to_update, [*fields, "updated_at"])
    existing.update({c.external_id: c for c in to_create})
    return existing


def _lock_tickets(keys: Sequence[tuple[int, str]]) -> None:
    """Serialise concurrent submissions for the same survey + ticket (PostgreSQL).

    Without it two simultaneous posts for one ticket could both find no current response and
    both stay current. SQLite needs nothing: its IMMEDIATE transactions already serialise writers.
    """
    if connection.vendor != "postgresql" or not keys:
        return
    names = sorted({f"closeloop-ticket:{survey_id}:{ticket}" for survey_id, ticket in keys})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(%s::text[]) AS k ORDER BY k", [names]
        )


@dataclass
class StoredBatch:
    """What storing a batch did: one outcome per item, in order, and what detection must look at next."""

    outcomes: list[IngestResult | RejectedInput]
    # Valid responses inserted by this batch that no later one of the batch replaced.
    to_evaluate: list[Response]
    # A new response's id -> the earlier response of the same ticket it replaced.
    superseded: dict[int, Response]


def store_responses(items: Sequence[Mapping[str, Any]], *, catalog: Catalog, source: str, now: datetime) -> StoredBatch:
    """Validate and store a batch; rejected items are reported, not stored. Call inside a transaction.

    A concurrent writer that stores one of these external_ids first makes the insert raise
    IntegrityError: the caller retries the batch, which then finds those items as replays.
    """
    outcomes: list[IngestResult | RejectedInput | None] = [None] * len(items)
    accepted: list[_Accepted] = []
    for index, item in enumerate(items):
        checked = _check(index, item, catalog, now)
        if isinstance(checked, RejectedInput):
            outcomes[index] = checked
        else:
            accepted.append(checked)

    # Replays: the same survey + external_id stored before, or earlier in this batch.
    wanted: dict[int, set[str]] = {}
    for a in accepted:
        wanted.setdefault(a.info.survey.pk, set()).add(a.data.external_id)
    stored: dict[tuple[int, str], Response] = {}
    for survey_id, external_ids in wanted.items():
        for response in Response.objects.filter(survey_id=survey_id, external_id__in=external_ids):
            stored[(survey_id, response.external_id)] = response
    fresh: list[_Accepted] = []
    first_in_batch: dict[tuple[int, str], _Accepted] = {}
    replays_in_batch: list[tuple[_Accepted, _Accepted]] = []
    for a in accepted:
        key = (a.info.survey.pk, a.data.external_id)
        if key in stored:
            outcomes[a.index] = IngestResult(stored[key], created=False)
        elif key in first_in_batch:
            replays_in_batch.append((a, first_in_batch[key]))
        else:
            first_in_batch[key] = a
            fresh.append(a)

    customers = _upsert_customers(fresh, now)

    ticket_keys = [(a.info.survey.pk, a.data.ticket) for a in fresh if a.data.ticket]
    _lock_tickets(ticket_keys)
    current_by_ticket: dict[tuple[int, str], Response] = {}
    if ticket_keys:
        for survey_id in {k[0] for k in ticket_keys}:
            tickets = {t for s, t in ticket_keys if s == survey_id}
            for response in Response.objects.filter(
                survey_id=survey_id, ticket__in=tickets, superseded_by__isnull=True
            ).order_by("received_at", "id"):
                current_by_ticket[(survey_id, response.ticket)] = response

    new_responses: list[Response] = []
    for a in fresh:
        data = a.data
        problems = catalog.placement_problems(data.unit, data.segment)
        customer = customers.get(data.customer.id) if data.customer else None
        contact_ok = bool(data.customer and data.customer.contact_ok)
        new_responses.append(
            Response(
                survey=a.info.survey,
                external_id=data.external_id,
                source=source,
                submitted_at=a.submitted_at,
                received_at=now,
                valid_since=None if problems else now,
                unit_code=data.unit or "",
                unit=catalog.units.get(data.unit or ""),
                segment=data.segment or "",
                agent_code=data.agent or "",
                agent=catalog.people.get(data.agent or ""),
                ticket=data.ticket or "",
                customer=customer,
                answers=data.answers,
                words=customer_words(a.info.questions.values(), data.answers),
                overall=overall_score(a.info.survey.overall, data.answers),
                interviewer_notes=data.interviewer_notes,
                interviewer_flag=data.interviewer_flag,
                # A recording identifies the customer: keep it only with their consent.
                audio_url=(data.audio_url or "") if contact_ok else "",
                status=Response.Status.INVALID if problems else Response.Status.VALID,
                problems=problems,
            )
        )
    Response.objects.bulk_create(new_responses)

    superseded: dict[int, Response] = {}  # new response id -> the response it replaced
    for a, response in zip(fresh, new_responses, strict=True):
        outcomes[a.index] = IngestResult(response, created=True)
        if response.ticket:
            key = (a.info.survey.pk, response.ticket)
            previous = current_by_ticket.get(key)
            if previous is not None:
                Response.objects.filter(pk=previous.pk).update(superseded_by=response)
                previous.superseded_by = response
                superseded[response.pk] = previous
            current_by_ticket[key] = response
    for a, first in replays_in_batch:
        outcomes[a.index] = IngestResult(outcomes[first.index].response, created=False)  # type: ignore[union-attr]

    return StoredBatch(
        outcomes=outcomes,  # type: ignore[arg-type]
        to_evaluate=[r for r in new_responses if r.status == Response.Status.VALID and r.superseded_by_id is None],
        superseded=superseded,
    )


def mark_needing_recovery(responses: Sequence[Response]) -> None:
    """Flag responses that detection found to need service recovery."""
    for response in responses:
        response.needs_recovery = True
    if responses:
        Response.objects.bulk_update(responses, ["needs_recovery"])


@dataclass
class PlacementFix:
    """A response after its unit and/or segment were set."""

    response: Response
    was_valid: bool
    previous_unit: Unit | None

    @property
    def became_valid(self) -> bool:
        return not self.was_valid and self.response.status == Response.Status.VALID


def check_placement_fix(changes: Mapping[str, Any], catalog: Catalog) -> ResponseFixIn:
    """The requested unit and/or segment, or RejectedInput naming each bad field."""
    try:
        fix = ResponseFixIn.model_validate(dict(changes))
    except ValidationError as exc:
        raise RejectedInput(_pydantic_errors(exc)) from None
    if not fix.model_fields_set:
        raise RejectedInput([FieldError((), "nothing to change: give unit and/or segment")])
    errors = []
    if "unit" in fix.model_fields_set and (not fix.unit or fix.unit not in catalog.units):
        errors.append(FieldError(("unit",), f"unknown unit {fix.unit!r}"))
    if "segment" in fix.model_fields_set and catalog.segments and fix.segment not in catalog.segments:
        errors.append(FieldError(("segment",), f"unknown segment {fix.segment!r}"))
    if errors:
        raise RejectedInput(errors)
    return fix


def fix_placement(response: Response, fix: ResponseFixIn, *, catalog: Catalog, now: datetime) -> PlacementFix:
    """Set the unit and/or segment of a response and re-check whether it can be routed. Call inside a
    transaction; the response row is locked until it ends."""
    locked = Response.objects.select_for_update().get(pk=response.pk)
    was_valid = locked.status == Response.Status.VALID
    previous_unit = response.unit
    if "unit" in fix.model_fields_set:
        locked.unit_code = fix.unit or ""
        locked.unit = catalog.units[locked.unit_code]
    if "segment" in fix.model_fields_set:
        locked.segment = fix.segment or ""
    locked.problems = catalog.placement_problems(locked.unit_code, locked.segment)
    locked.status = Response.Status.INVALID if locked.problems else Response.Status.VALID
    if locked.status == Response.Status.VALID and not was_valid:
        locked.valid_since = now
    locked.save()
    return PlacementFix(locked, was_valid, previous_unit)
