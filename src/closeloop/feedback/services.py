"""Writes for responses: ingest (API, files, demo) and fixing quarantined responses.

Every item goes through `do_ingest_responses`, which handles a whole batch in one
transaction so that a 100k-row file is a few hundred transactions, not 100k. A single
API post is a batch of one.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.db import IntegrityError, connection, transaction
from pydantic import ValidationError

from closeloop.core.answers import answer_problem, overall_score
from closeloop.feedback.catalog import Catalog, SurveyInfo
from closeloop.feedback.models import Customer, Response
from closeloop.feedback.schemas import CustomerIn, ResponseFixIn, ResponseIn
from closeloop.org.models import Person

log = logging.getLogger(__name__)


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


def _store_batch(items: Sequence[Mapping[str, Any]], source: str, now: datetime) -> list[IngestResult | RejectedInput]:
    from closeloop.alerts.detection import evaluate_responses

    catalog = Catalog.load()
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

    evaluate_responses(
        [r for r in new_responses if r.status == Response.Status.VALID and r.superseded_by_id is None],
        now=now,
        superseded=superseded,
        fresh=True,
    )
    return outcomes  # type: ignore[return-value]


def do_ingest_responses(
    items: Sequence[Mapping[str, Any]], *, source: str, now: datetime
) -> list[IngestResult | RejectedInput]:
    """Validate and store a batch of responses in one transaction; one outcome per item, in order.

    Rejected items are reported, not stored; everything else is committed together, with its
    alerts, cases and deliveries, or not at all.
    """
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _store_batch(items, source, now)
        except IntegrityError:
            # A concurrent writer stored one of these external_ids between our read and our
            # insert; on the next attempt those items are replays.
            if attempt == 2:
                raise
            log.info("ingest batch collided with a concurrent writer; retrying")
    raise AssertionError("unreachable")


def do_ingest_response(item: Mapping[str, Any], *, source: str, now: datetime) -> IngestResult:
    """Store one response; raises RejectedInput with every bad field."""
    (outcome,) = do_ingest_responses([item], source=source, now=now)
    if isinstance(outcome, RejectedInput):
        raise outcome
    return outcome


def do_fix_response(
    response: Response, changes: Mapping[str, Any], *, now: datetime, actor: Person | None = None
) -> Response:
    """Set the unit and/or segment of a response. An invalid response that becomes valid is
    evaluated as if it had just arrived (alerts, case, deliveries)."""
    from closeloop.alerts.detection import evaluate_responses
    from closeloop.alerts.models import Alert
    from closeloop.cases.services import do_move_case_to_unit

    try:
        fix = ResponseFixIn.model_validate(dict(changes))
    except ValidationError as exc:
        raise RejectedInput(_pydantic_errors(exc)) from None
    if not fix.model_fields_set:
        raise RejectedInput([FieldError((), "nothing to change: give unit and/or segment")])
    catalog = Catalog.load()
    errors = []
    if "unit" in fix.model_fields_set and (not fix.unit or fix.unit not in catalog.units):
        errors.append(FieldError(("unit",), f"unknown unit {fix.unit!r}"))
    if "segment" in fix.model_fields_set and catalog.segments and fix.segment not in catalog.segments:
        errors.append(FieldError(("segment",), f"unknown segment {fix.segment!r}"))
    if errors:
        raise RejectedInput(errors)

    with transaction.atomic():
        locked = Response.objects.select_for_update().get(pk=response.pk)
        was_valid = locked.status == Response.Status.VALID
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
        if was_valid:
            # Alerts belong to the unit the response belongs to.
            Alert.objects.filter(response=locked).update(unit=locked.unit)
            do_move_case_to_unit(locked, response.unit, actor=actor, now=now)
        elif locked.status == Response.Status.VALID and locked.superseded_by_id is None:
            evaluate_responses([locked], now=now, superseded={})
    return locked
