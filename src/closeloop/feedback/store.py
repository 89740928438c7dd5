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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from django.db import connection
from pydantic import ValidationError

from closeloop.core.answers import answer_problem, customer_words, overall_score
from closeloop.core.hosts import link_allowed
from closeloop.core.limits import unsafe_value
from closeloop.core.tiers import read_tier
from closeloop.feedback.catalog import Catalog, SurveyInfo
from closeloop.feedback.models import Customer, Response, is_placement_problem
from closeloop.feedback.schemas import CustomerIn, ResponseFixIn, ResponseIn
from closeloop.org.models import Person, Unit


@dataclass(frozen=True)
class Sender:
    """Who sends a batch: what it may change beyond its own new responses, and which links it may give.

    `units`: the unit codes it may write (each with everything below it), from `token create --units`;
    None: every unit (a token without units, a survey tool's endpoint, a file import). `audio_hosts`: the
    allow-list its `audio_url`s must be on to become links (core.hosts); None: the organisation's.
    `name` and `person` say who it was in the audit log.
    """

    name: str = ""
    units: tuple[str, ...] | None = None
    audio_hosts: tuple[str, ...] | None = None
    person: Person | None = None

    def scope(self, catalog: Catalog) -> UnitScope:
        if self.units is None:
            return UnitScope(None)
        # A code no longer configured matches nothing: a limited sender never widens by a unit's removal.
        return UnitScope(tuple(catalog.units[code].path for code in self.units if code in catalog.units))

    def hosts(self, catalog: Catalog) -> tuple[str, ...]:
        if self.audio_hosts is not None:
            return self.audio_hosts
        return tuple(catalog.organization.audio_hosts or ())


@dataclass(frozen=True)
class UnitScope:
    """The unit paths a sender may write; None: every unit (and a response without one)."""

    paths: tuple[str, ...] | None

    def writes(self, unit_path: str | None) -> bool:
        if self.paths is None:
            return True
        return unit_path is not None and any(unit_path.startswith(path) for path in self.paths)


EVERYONE = Sender()


@dataclass(frozen=True)
class ContactChange:
    """A customer record's contact details (name, email, phone) or consent changed: an audit event each."""

    customer: Customer
    fields: tuple[str, ...]
    # The response whose details made the change (for a withdrawal, the response that withdrew).
    response: Response | None = None


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
    updated: bool = False  # a merge changed the stored response (a later phase of the same response)


@dataclass(frozen=True)
class IntakeNote:
    """What a sender said about one item beyond its body: the problems its data had, kept with the response.

    `hold`: part of the item was refused, so the response waits in quarantine until a person looks at it
    (fixing its unit or segment releases it), instead of alerting on what is left.
    """

    problems: tuple[str, ...] = ()
    hold: bool = False


Notes = Sequence[IntakeNote | None] | None


def _note(notes: Notes, index: int) -> IntakeNote:
    return (notes[index] if notes is not None else None) or IntakeNote()


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
    # What is odd but not wrong enough to refuse or quarantine (an unknown agent or tier): listed in `problems`.
    notices: list[str] = field(default_factory=list)


# A survey answered before 1970 is a broken clock or a placeholder date ("0001-01-01"), and one more than
# a few minutes ahead of ours is a sender's clock that is wrong; either would sit at the top or bottom of
# every list and make date arithmetic on it fail.
EARLIEST_SUBMISSION = datetime(1970, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(minutes=5)


def submitted_at_problem(submitted_at: datetime, now: datetime, *, as_sent: datetime | None = None) -> str | None:
    """Why `submitted_at` (aware) cannot be when a customer answered, or None; `as_sent` is the value as the
    sender wrote it (without an offset, if it had none), for the message."""
    shown = (as_sent or submitted_at).isoformat()
    # The year is looked at first: an instant near year 1 cannot even be moved to UTC.
    if submitted_at.year < EARLIEST_SUBMISSION.year or submitted_at < EARLIEST_SUBMISSION:
        return f"{shown} is before 1970; send the time the customer answered"
    if submitted_at > now + FUTURE_TOLERANCE:
        return (
            f"{shown} is more than {int(FUTURE_TOLERANCE.total_seconds() // 60)} minutes "
            "in the future; check the sending system's clock"
        )
    return None


def _check(
    index: int, item: Mapping[str, Any], catalog: Catalog, now: datetime, tiers: Mapping[str, str]
) -> _Accepted | RejectedInput:
    if not isinstance(item, Mapping):
        return RejectedInput([FieldError((), "expected a JSON object")])
    # Files and webhook receivers reach this without the API's request guard: the same limits apply.
    unsafe = unsafe_value(dict(item))
    if unsafe is not None:
        return RejectedInput([FieldError(*unsafe)])
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
    submitted_at = data.submitted_at or now
    if submitted_at.tzinfo is None:
        # A time without an offset is read in the organisation's time zone, as people wrote it.
        submitted_at = submitted_at.replace(tzinfo=zoneinfo.ZoneInfo(catalog.organization.time_zone))
    if problem := submitted_at_problem(submitted_at, now, as_sent=data.submitted_at):
        errors.append(FieldError(("submitted_at",), problem))
    if errors:
        return RejectedInput(errors)
    notices = []
    if data.agent and data.agent not in catalog.people:
        # The praise still reaches the unit's leads, who can pass it on; the misspelt id is shown to fix.
        notices.append(f"agent: unknown person {data.agent!r}")
    if data.customer is not None and data.customer.tier:
        reading = read_tier(data.customer.tier, tiers)
        data.customer.tier = reading.tier
        if reading.problem:
            notices.append(reading.problem)
    return _Accepted(index, data, info, submitted_at, notices)


CONTACT_FIELDS = ("name", "email", "phone")


@dataclass
class _Customers:
    """The customers of a batch after their records were written, and what changed."""

    by_id: dict[str, Customer]
    # The external ids whose record the sender may write: a new customer, or one whose responses are all in
    # units the sender may write. Only these records take a response's details, and only these responses
    # take what the record knows for the fields they leave out.
    writable: set[str]
    # The items (by index in the batch) whose consent a later item of the batch withdraws.
    withdrawn_later: set[int]
    # Each record whose contact details or consent changed, the fields, and the item that changed them.
    changes: list[tuple[Customer, tuple[str, ...], int]]


def _writable(customers: Sequence[Customer], scope: UnitScope) -> set[str]:
    if scope.paths is None:
        return {c.external_id for c in customers}
    blocked = {
        pk
        for pk, path in Response.objects.filter(customer__in=customers, unit__isnull=False)
        .values_list("customer_id", "unit__path")
        .distinct()
        if not scope.writes(path)
    }
    return {c.external_id for c in customers if c.pk not in blocked}


def _upsert_customers(accepted: Sequence[_Accepted], now: datetime, scope: UnitScope) -> _Customers:
    """Create or update every customer of the batch.

    A record takes a response's name, email, phone and tier (the last mention of the batch wins; an empty
    field erases nothing) only when the sender may write it; otherwise the details stay with the response.
    Consent is withdrawn by any response (from the record and from every earlier response of the customer),
    but granted by a response for that response alone: a record is created with its first response's
    consent and never granted again.
    """
    mentions = [(a.index, a.data.customer) for a in accepted if a.data.customer is not None]
    if not mentions:
        return _Customers({}, set(), set(), [])
    incoming = {data.id: data for _, data in mentions}  # the last mention of each customer
    first_mention = {data.id: data for _, data in reversed(mentions)}
    last_mention = {data.id: index for index, data in mentions}
    last_refusal = {data.id: index for index, data in mentions if not data.contact_ok}
    withdrawn_later = {index for index, data in mentions if last_refusal.get(data.id, -1) > index}
    existing = {c.external_id: c for c in Customer.objects.filter(external_id__in=incoming)}
    writable = _writable(list(existing.values()), scope) | (set(incoming) - set(existing))
    to_create, to_update = [], []
    changes: list[tuple[Customer, tuple[str, ...], int]] = []
    for external_id, data in incoming.items():
        customer = existing.get(external_id)
        if customer is None:
            consent = first_mention[external_id].contact_ok and external_id not in last_refusal
            details = {name: getattr(data, name) for name in (*CONTACT_FIELDS, "tier")}
            to_create.append(Customer(external_id=external_id, updated_at=now, contact_ok=consent, **details))
            continue
        changed: list[str] = []
        if external_id in writable:
            for name in (*CONTACT_FIELDS, "tier"):
                value = getattr(data, name)
                if value and getattr(customer, name) != value:
                    setattr(customer, name, value)
                    changed.append(name)
        if external_id in last_refusal and customer.contact_ok:
            customer.contact_ok = False
            changed.append("contact_ok")
        if changed:
            customer.updated_at = now
            to_update.append(customer)
            contact = tuple(name for name in changed if name != "tier")
            if contact:
                cause = last_refusal[external_id] if contact == ("contact_ok",) else last_mention[external_id]
                changes.append((customer, contact, cause))
    if to_create:
        Customer.objects.bulk_create(to_create)  # SQLite >= 3.35 and PostgreSQL return the new ids
    if to_update:
        Customer.objects.bulk_update(to_update, [*CONTACT_FIELDS, "tier", "contact_ok", "updated_at"])
    withdrawing = [existing[external_id] for external_id in last_refusal if external_id in existing]
    if withdrawing:
        # A customer who says no now is not to be contacted about what they said before either, in any unit.
        cleared = set(
            Response.objects.filter(customer__in=withdrawing, contact_ok=True).values_list("customer_id", flat=True)
        )
        Response.objects.filter(customer_id__in=cleared, contact_ok=True).update(contact_ok=False)
        noted = {customer.pk for customer, _, _ in changes}
        changes += [
            (customer, ("contact_ok",), last_refusal[customer.external_id])
            for customer in withdrawing
            if customer.pk in cleared and customer.pk not in noted
        ]
    existing.update({c.external_id: c for c in to_create})
    return _Customers(existing, writable, withdrawn_later, changes)


def _own_details(data: CustomerIn | None, customer: Customer | None, *, writable: bool) -> dict[str, str]:
    """A response's own copy of its customer's details: as sent, and for a field left out what the record
    knows, if the sender may write the record (else a sender could read another unit's customer by id)."""
    if data is None:
        return {"customer_name": "", "customer_email": "", "customer_phone": ""}
    fallback = customer if (writable and customer is not None) else None
    return {
        f"customer_{name}": getattr(data, name) or (getattr(fallback, name) if fallback else "")
        for name in CONTACT_FIELDS
    }


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
    # Customer records whose contact details or consent the batch changed (for the audit log).
    contact_changes: list[ContactChange] = field(default_factory=list)


def ticket_conflict(ticket: str) -> str:
    """The problem listed when a response cannot replace the current one of its ticket. It names neither
    that response nor its unit: the sender may not read them."""
    return (
        f"ticket: {ticket!r} was answered before in another unit, which this sender may not submit for; "
        "this response does not replace that one"
    )


def _replaced(candidates: Sequence[Response], response: Response, scope: UnitScope) -> Response | bool | None:
    """Which current response of the ticket `response` replaces: the latest of its own unit; else the latest
    of another unit (a ticket moved between units), when the sender may write both units; else None.
    False when there is one it may not replace (a conflict to list)."""
    if not candidates:
        return None
    own = [c for c in candidates if c.unit_id is not None and c.unit_id == response.unit_id]
    if own:
        return own[-1]
    latest = candidates[-1]
    if scope.writes(latest.unit.path if latest.unit else None) and scope.writes(
        response.unit.path if response.unit else None
    ):
        return latest
    return False


def store_responses(
    items: Sequence[Mapping[str, Any]],
    *,
    catalog: Catalog,
    source: str,
    now: datetime,
    notes: Notes = None,
    tiers: Mapping[str, str] | None = None,
    sender: Sender = EVERYONE,
) -> StoredBatch:
    """Validate and store a batch; rejected items are reported, not stored. Call inside a transaction.

    `notes`, in step with `items` when given, are stored with each new response (see IntakeNote).
    `tiers` are the configured customer tiers by case-folded name (config.tiers): a customer's tier is
    stored in the configured spelling, an unknown one as sent with a problem listed. `sender` decides what
    the batch may change beyond its own responses (customer records, another unit's ticket) and which of its
    `audio_url`s become links.

    A concurrent writer that stores one of these external_ids first makes the insert raise
    IntegrityError: the caller retries the batch, which then finds those items as replays.
    """
    outcomes: list[IngestResult | RejectedInput | None] = [None] * len(items)
    accepted: list[_Accepted] = []
    for index, item in enumerate(items):
        checked = _check(index, item, catalog, now, tiers or {})
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

    scope = sender.scope(catalog)
    customers = _upsert_customers(fresh, now, scope)
    hosts = sender.hosts(catalog)

    ticket_keys = [(a.info.survey.pk, a.data.ticket) for a in fresh if a.data.ticket]
    _lock_tickets(ticket_keys)
    current_by_ticket: dict[tuple[int, str], list[Response]] = {}
    if ticket_keys:
        for survey_id in {k[0] for k in ticket_keys}:
            tickets = {t for s, t in ticket_keys if s == survey_id}
            for response in (
                Response.objects.filter(survey_id=survey_id, ticket__in=tickets, superseded_by__isnull=True)
                .select_related("unit")
                .order_by("received_at", "id")
            ):
                current_by_ticket.setdefault((survey_id, response.ticket), []).append(response)

    new_responses: list[Response] = []
    replacing: list[Response | None] = []
    for a in fresh:
        data = a.data
        note = _note(notes, a.index)
        placement = catalog.placement_problems(data.unit, data.segment)
        problems = [*placement, *a.notices, *note.problems]
        held = bool(placement) or note.hold
        customer = customers.by_id.get(data.customer.id) if data.customer else None
        contact_ok = bool(data.customer and data.customer.contact_ok) and a.index not in customers.withdrawn_later
        own = _own_details(
            data.customer, customer, writable=bool(data.customer and data.customer.id in customers.writable)
        )
        # A recording identifies the customer: keep it only with their consent.
        audio_url = (data.audio_url or "") if contact_ok else ""
        response = Response(
            survey=a.info.survey,
            external_id=data.external_id,
            source=source,
            submitted_at=a.submitted_at,
            received_at=now,
            valid_since=None if held else now,
            unit_code=data.unit or "",
            unit=catalog.units.get(data.unit or ""),
            segment=data.segment or "",
            agent_code=data.agent or "",
            agent=catalog.people.get(data.agent or ""),
            ticket=data.ticket or "",
            customer=customer,
            contact_ok=contact_ok,
            **own,
            answers=data.answers,
            words=customer_words(a.info.questions.values(), data.answers),
            overall=overall_score(a.info.survey.overall, data.answers),
            interviewer_notes=data.interviewer_notes,
            interviewer_flag=data.interviewer_flag,
            audio_url=audio_url,
            audio_url_allowed=bool(audio_url) and link_allowed(audio_url, hosts),
            status=Response.Status.INVALID if held else Response.Status.VALID,
            problems=problems,
            intake_problems=list(note.problems),
        )
        previous: Response | None = None
        if response.ticket:
            # Decided in the batch's order, so a later item of the batch sees the earlier ones as current.
            candidates = current_by_ticket.setdefault((a.info.survey.pk, response.ticket), [])
            found = _replaced(candidates, response, scope)
            if found is False:
                response.problems = [*response.problems, ticket_conflict(response.ticket)]
            elif isinstance(found, Response):
                previous = found
                candidates.remove(found)
            candidates.append(response)
        new_responses.append(response)
        replacing.append(previous)
    Response.objects.bulk_create(new_responses)

    superseded: dict[int, Response] = {}  # new response id -> the response it replaced
    for a, response, previous in zip(fresh, new_responses, replacing, strict=True):
        outcomes[a.index] = IngestResult(response, created=True)
        if previous is not None:
            Response.objects.filter(pk=previous.pk).update(superseded_by=response)
            previous.superseded_by = response
            superseded[response.pk] = previous
    for a, first in replays_in_batch:
        outcomes[a.index] = IngestResult(outcomes[first.index].response, created=False)  # type: ignore[union-attr]

    by_index = {a.index: response for a, response in zip(fresh, new_responses, strict=True)}
    return StoredBatch(
        outcomes=outcomes,  # type: ignore[arg-type]
        to_evaluate=[r for r in new_responses if r.status == Response.Status.VALID and r.superseded_by_id is None],
        superseded=superseded,
        contact_changes=[
            ContactChange(customer, fields, by_index.get(index)) for customer, fields, index in customers.changes
        ],
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
    placement = catalog.placement_problems(locked.unit_code, locked.segment)
    # Problems that never made it invalid (an unknown agent or tier) stay listed.
    kept = [problem for problem in locked.problems or [] if not is_placement_problem(problem)]
    locked.problems = placement + kept
    locked.status = Response.Status.INVALID if placement else Response.Status.VALID
    if locked.status == Response.Status.VALID and not was_valid:
        locked.valid_since = now
    locked.save()
    return PlacementFix(locked, was_valid, previous_unit)


# --- merging later deliveries of a stored response ------------------------------------------------------

# What a merge may change; a response whose values here are the same afterwards was only replayed.
_MERGED = (
    "answers",
    "overall",
    "customer_id",
    "customer_name",
    "customer_email",
    "customer_phone",
    "contact_ok",
    "agent_code",
    "interviewer_notes",
    "interviewer_flag",
    "audio_url",
    "audio_url_allowed",
    "unit_code",
    "segment",
    "problems",
    "intake_problems",
    "status",
)


@dataclass
class MergedBatch:
    """What merging did: one outcome per update, in order, and what the caller must do next."""

    outcomes: list[IngestResult | RejectedInput]
    # Changed, valid and current: to be evaluated again (only rules that newly match raise alerts).
    to_evaluate: list[Response]
    # Valid responses the update moved to another unit, with the unit they were in.
    moved: list[tuple[Response, Unit | None]]
    # Customer records whose contact details or consent the updates changed (for the audit log).
    contact_changes: list[ContactChange] = field(default_factory=list)


def update_responses(
    updates: Sequence[tuple[Response, Mapping[str, Any]]],
    *,
    catalog: Catalog,
    now: datetime,
    notes: Notes = None,
    tiers: Mapping[str, str] | None = None,
    sender: Sender = EVERYONE,
) -> MergedBatch:
    """Merge a later delivery of each stored response into it (a comment that follows the score, a changed
    rating). Call inside a transaction; the rows are locked until it ends.

    The answers given are set (the others kept), `overall` is recomputed, the customer and agent are
    updated, and the intake problems become the update's. `received_at`, `submitted_at`, the survey,
    external_id and ticket stay as first stored. A quarantined response takes the update's unit and
    segment and may become valid; a valid one moves only to another known unit or segment (else it
    stays where it is and the update's value is listed as a problem), and never back into quarantine.
    The customer's details and consent in the update are the response's own from then on (see
    `_upsert_customers` for what reaches the customer record).
    """
    checked = [_check(index, item, catalog, now, tiers or {}) for index, (_, item) in enumerate(updates)]
    accepted = [c for c in checked if isinstance(c, _Accepted)]
    customers = _upsert_customers(accepted, now, sender.scope(catalog))
    hosts = sender.hosts(catalog)
    ids = [response.pk for response, _ in updates]
    rows = Response.objects.select_for_update(of=("self",)).select_related("unit", "survey").filter(pk__in=ids)
    locked = {r.pk: r for r in rows}
    batch = MergedBatch(outcomes=[], to_evaluate=[], moved=[])
    by_index: dict[int, Response] = {}
    for (stored, _), check in zip(updates, checked, strict=True):
        if isinstance(check, RejectedInput):
            batch.outcomes.append(check)
            continue
        response = locked[stored.pk]
        previous_unit = response.unit
        was_valid = response.status == Response.Status.VALID
        changed = _merge(
            response, check, _note(notes, check.index), customers, catalog, now, hosts=hosts, was_valid=was_valid
        )
        by_index[check.index] = response
        batch.outcomes.append(IngestResult(response, created=False, updated=changed))
        if not changed:
            continue
        if response.status == Response.Status.VALID and response.superseded_by_id is None:
            batch.to_evaluate.append(response)
        if was_valid and response.unit_id != (previous_unit.pk if previous_unit else None):
            batch.moved.append((response, previous_unit))
    batch.contact_changes = [
        ContactChange(customer, fields, by_index.get(index)) for customer, fields, index in customers.changes
    ]
    return batch


def _merge(
    response: Response,
    accepted: _Accepted,
    note: IntakeNote,
    customers: _Customers,
    catalog: Catalog,
    now: datetime,
    *,
    hosts: Sequence[str],
    was_valid: bool,
) -> bool:
    """Apply one update to the locked response and save it if anything changed; whether it did."""
    data = accepted.data
    given = data.model_fields_set
    before = {name: getattr(response, name) for name in _MERGED}
    problems = [*accepted.notices, *note.problems]
    response.answers = {**(response.answers or {}), **data.answers}
    response.overall = overall_score(accepted.info.survey.overall, response.answers)
    if data.customer is not None:
        response.customer = customers.by_id.get(data.customer.id)
        response.contact_ok = data.customer.contact_ok and accepted.index not in customers.withdrawn_later
        # A field the update leaves out keeps what this response said.
        for name in CONTACT_FIELDS:
            setattr(response, f"customer_{name}", getattr(data.customer, name) or getattr(response, f"customer_{name}"))
    if data.agent:
        response.agent_code = data.agent
        response.agent = catalog.people.get(data.agent)
    if "interviewer_notes" in given:
        response.interviewer_notes = data.interviewer_notes
    if "interviewer_flag" in given:
        response.interviewer_flag = data.interviewer_flag
    if data.audio_url and response.contact_ok:
        response.audio_url = data.audio_url
        response.audio_url_allowed = link_allowed(data.audio_url, hosts)
    if data.ticket and data.ticket != response.ticket:
        # Another ticket would make this a resubmission of that ticket: the response keeps its own.
        problems.append(f"ticket: a later delivery named {data.ticket!r}; the response keeps {response.ticket!r}")
    unit_code = data.unit or response.unit_code
    segment = data.segment or response.segment
    if was_valid and unit_code != response.unit_code and unit_code not in catalog.units:
        problems.append(f"unit: a later delivery named unknown unit {unit_code!r}; it stays in {response.unit_code}")
        unit_code = response.unit_code
    if was_valid and segment != response.segment and catalog.segments and segment not in catalog.segments:
        problems.append(f"segment: a later delivery named unknown segment {segment!r}; it stays {response.segment!r}")
        segment = response.segment
    response.unit_code = unit_code
    response.unit = catalog.units.get(unit_code)
    response.segment = segment
    placement = catalog.placement_problems(unit_code, segment) if not was_valid else []
    response.intake_problems = problems
    response.problems = [*placement, *problems]
    held = not was_valid and (bool(placement) or note.hold)
    response.status = Response.Status.INVALID if held else Response.Status.VALID
    if not was_valid and not held:
        response.valid_since = now
    if all(getattr(response, name) == value for name, value in before.items()):
        return False
    response.updated_at = now
    response.save()
    return True


# --- what storing would do ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """What storing one item would do, for checking a source's map without storing anything."""

    outcome: str  # new | replay | update | rejected
    status: str = ""  # valid | invalid for a new response; the stored response's status otherwise
    problems: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()  # why the item would be refused
    existing: int | None = None  # the stored response a replay or update is about


def preview_responses(
    items: Sequence[Mapping[str, Any]],
    *,
    catalog: Catalog,
    now: datetime,
    notes: Notes = None,
    merge: bool = False,
    tiers: Mapping[str, str] | None = None,
) -> list[Preview]:
    """For each item: refused (and why), a replay or update of a stored response, or a new one and its status."""
    previews: list[Preview] = []
    for index, item in enumerate(items):
        checked = _check(index, item, catalog, now, tiers or {})
        if isinstance(checked, RejectedInput):
            previews.append(Preview("rejected", errors=tuple(str(error) for error in checked.errors)))
            continue
        note = _note(notes, index)
        stored = Response.objects.filter(survey=checked.info.survey, external_id=checked.data.external_id).first()
        if stored is not None:
            outcome = "update" if merge else "replay"
            previews.append(Preview(outcome, stored.status, tuple(stored.problems), existing=stored.pk))
            continue
        placement = catalog.placement_problems(checked.data.unit, checked.data.segment)
        held = bool(placement) or note.hold
        status = Response.Status.INVALID if held else Response.Status.VALID
        previews.append(Preview("new", str(status), (*placement, *note.problems)))
    return previews
