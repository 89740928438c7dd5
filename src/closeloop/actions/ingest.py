"""Ingest: store a batch of responses, raise their alerts, plan the deliveries and open the cases, in one
transaction, so that "201" means the alert, its messages and the case exist (or nothing does)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from closeloop.alerts.detection import (
    Detection,
    move_alerts_with_response,
    raise_alerts_for_existing,
    raise_alerts_for_new,
)
from closeloop.alerts.models import Alert
from closeloop.alerts.planning import plan_alert_deliveries
from closeloop.alerts.text_judging import JudgeFirst
from closeloop.audit.log import record_many
from closeloop.audit.models import AuditEvent
from closeloop.cases.models import Case
from closeloop.cases.queries import remember_related_rows
from closeloop.cases.services import do_move_case_to_unit, open_cases_for_existing, open_cases_for_new
from closeloop.config.snapshot import Snapshot, current
from closeloop.feedback.models import Response
from closeloop.feedback.store import (
    EVERYONE,
    ContactChange,
    IngestResult,
    Notes,
    RejectedInput,
    Sender,
    mark_needing_recovery,
    store_responses,
    update_responses,
)
from closeloop.feedback.text_judgements import keep_text_judgements
from closeloop.org.stamp import pinned

log = logging.getLogger(__name__)

# A batch that collides with concurrent writers this often is a bug, not bad luck.
ATTEMPTS = 3


def ingest_responses(
    items: Sequence[Mapping[str, Any]],
    *,
    source: str,
    now: datetime,
    notes: Notes = None,
    merge: bool = False,
    imported: bool = False,
    historic: bool = False,
    sender: Sender = EVERYONE,
    caller_judges: bool = False,
) -> list[IngestResult | RejectedInput]:
    """Validate and store a batch in one transaction; one outcome per item, in order.

    Rejected items are reported, not stored; everything else is committed together, with its
    alerts, cases and deliveries, or not at all. `notes` (in step with `items`) are kept with the
    new responses. `merge`: an item whose survey + external_id was stored before by the same source
    updates that response and evaluates it again (only rules that newly match raise alerts; never a
    second case) instead of being a replay; one stored by another source stays a replay, so a source
    cannot rewrite what another sent. `sender` limits what the batch may change beyond its own new
    responses (feedback.store.Sender); each change of a customer record's contact details or consent is
    recorded in the audit log.

    A new response submitted longer ago than the organisation's `alert_max_age` (every new one, with
    `historic`) is historic: stored, evaluated and counted like any other, but its alerts are delivered to
    nobody and it opens no case. The age applies to `imported` files, and to every other way in only when
    `alert_max_age_for` is `everywhere`.

    Words a `text` condition needs judged are judged outside our transaction, which then runs again (see
    alerts.text_judging.JudgeFirst). Inside a caller's transaction they are judged in it, unless the caller
    `caller_judges`: then JudgeFirst reaches the caller, which rolls its transaction back, judges, and runs
    it again with `caller_judges=False` (the judge answers from its cache).
    """
    in_callers_transaction = transaction.get_connection().in_atomic_block
    judge_outside = caller_judges or not in_callers_transaction
    collisions = 0
    while True:
        try:
            with transaction.atomic():
                snapshot = current()
                with pinned(snapshot.token):
                    return _ingest_in_transaction(
                        items,
                        snapshot,
                        source=source,
                        now=now,
                        notes=notes,
                        merge=merge,
                        imported=imported,
                        historic=historic,
                        sender=sender,
                        judge_outside=judge_outside,
                    )
        except JudgeFirst as first:
            if in_callers_transaction:
                raise
            first.judge()
            # The second run finds every judgement in the judge's cache.
            judge_outside = False
        except IntegrityError:
            # A concurrent writer stored one of these external_ids between our read and our
            # insert; on the next attempt those items are replays.
            collisions += 1
            if collisions == ATTEMPTS:
                raise
            log.info("ingest batch collided with a concurrent writer; retrying")


def _ingest_in_transaction(
    items: Sequence[Mapping[str, Any]],
    snapshot: Snapshot,
    *,
    source: str,
    now: datetime,
    notes: Notes,
    merge: bool,
    imported: bool,
    historic: bool,
    sender: Sender,
    judge_outside: bool,
) -> list[IngestResult | RejectedInput]:
    """The batch's work inside its transaction, with the configuration of `snapshot` throughout."""
    stored = store_responses(
        items,
        catalog=snapshot.catalog,
        source=source,
        now=now,
        notes=notes,
        tiers=snapshot.tiers,
        sender=sender,
    )
    _audit_contact_changes(stored.contact_changes, sender, source, now)
    # Every new response, the quarantined ones too: fixing one later must not alert either.
    created = [o.response for o in stored.outcomes if isinstance(o, IngestResult) and o.created]
    org = snapshot.directory.organization
    if historic or imported or org.alert_max_age_for == "everywhere":
        mark_historic(created, org.alert_max_age, now, force=historic)
    detection = raise_alerts_for_new(
        stored.to_evaluate,
        catalog=snapshot.catalog,
        rules=snapshot.rules,
        superseded=stored.superseded,
        now=now,
        judge_outside=judge_outside,
    )
    cases = _follow_through(detection, stored.to_evaluate, snapshot, stored.superseded, now, new=True)
    _remember_what_was_created(created, detection.alerts, cases, stored.superseded)
    if merge:
        return _merge_replays(
            items,
            stored.outcomes,
            snapshot,
            notes,
            now,
            source=source,
            sender=sender,
            judge_outside=judge_outside,
        )
    return stored.outcomes


def ingest_response(item: Mapping[str, Any], *, source: str, now: datetime, sender: Sender = EVERYONE) -> IngestResult:
    """Store one response; raises RejectedInput with every bad field."""
    (outcome,) = ingest_responses([item], source=source, now=now, sender=sender)
    if isinstance(outcome, RejectedInput):
        raise outcome
    return outcome


def mark_historic(responses: Sequence[Response], max_age: timedelta, now: datetime, *, force: bool = False) -> None:
    """Flag the just-stored responses that are too old to alert (or all of them, `force`): one UPDATE."""
    old = [response for response in responses if force or now - response.submitted_at > max_age]
    for response in old:
        response.historic = True
    if old:
        Response.objects.filter(pk__in=[response.pk for response in old]).update(historic=True)


def _merge_replays(
    items: Sequence[Mapping[str, Any]],
    outcomes: list[IngestResult | RejectedInput],
    snapshot: Snapshot,
    notes: Notes,
    now: datetime,
    *,
    source: str,
    sender: Sender,
    judge_outside: bool = False,
) -> list[IngestResult | RejectedInput]:
    """Update the responses this source stored before this batch with their items, then evaluate them again."""
    created = {o.response.pk for o in outcomes if isinstance(o, IngestResult) and o.created}
    positions = [
        index
        for index, outcome in enumerate(outcomes)
        if isinstance(outcome, IngestResult)
        and not outcome.created
        and outcome.response.pk not in created
        and outcome.response.source == source
    ]
    if not positions:
        return outcomes
    merged = update_responses(
        [(outcomes[index].response, items[index]) for index in positions],  # type: ignore[union-attr]
        catalog=snapshot.catalog,
        now=now,
        notes=[notes[index] for index in positions] if notes is not None else None,
        tiers=snapshot.tiers,
        sender=sender,
    )
    _audit_contact_changes(merged.contact_changes, sender, source, now)
    result = list(outcomes)
    for index, outcome in zip(positions, merged.outcomes, strict=True):
        result[index] = outcome
    for response, previous_unit in merged.moved:
        # As when a person fixes the unit: the alerts and the case go with the response.
        move_alerts_with_response(response)
        do_move_case_to_unit(response, previous_unit, actor=None, now=now)
    if merged.to_evaluate:
        evaluate_stored(merged.to_evaluate, snapshot=snapshot, now=now, judge_outside=judge_outside)
    return result


def _audit_contact_changes(changes: Sequence[ContactChange], sender: Sender, source: str, now: datetime) -> None:
    """One audit event per customer record whose contact details or consent changed. The event names the
    response that brought the change and the fields, never the values (the log is kept for ever)."""
    record_many(
        [
            {
                "action": AuditEvent.Action.CONTACT_CHANGED,
                "target": f"response:{change.response.pk}" if change.response is not None else "customer",
                "actor": sender.person,
                "actor_name": sender.name or source,
                "detail": {"customer": change.customer.pk, "fields": list(change.fields), "source": source},
            }
            for change in changes
        ],
        now=now,
    )


def evaluate_stored(
    responses: Sequence[Response], *, snapshot: Snapshot, now: datetime, judge_outside: bool = False
) -> Detection:
    """Evaluate responses that were stored before (a quarantined response just fixed) as if they had just
    arrived; call inside the caller's transaction."""
    detection = raise_alerts_for_existing(
        responses, catalog=snapshot.catalog, rules=snapshot.rules, superseded={}, now=now, judge_outside=judge_outside
    )
    _follow_through(detection, responses, snapshot, {}, now, new=False)
    return detection


def _follow_through(
    detection: Detection,
    evaluated: Sequence[Response],
    snapshot: Snapshot,
    superseded: Mapping[int, Response],
    now: datetime,
    *,
    new: bool,
) -> list[Case]:
    """What follows from a detection: flag the responses, plan the messages, open or hand over the cases
    (returned: those opened and those handed over)."""
    mark_needing_recovery(detection.needing_recovery)
    keep_text_judgements(evaluated, detection.text_judgements)
    # A historic response's alerts are kept (the reports count them) but reach nobody and open no case.
    historic = {response.pk for response in evaluated if response.historic}
    live = [alert for alert in detection.alerts if alert.response_id not in historic]
    planned = [(alert, notify) for alert, notify in detection.planned() if alert.response_id not in historic]
    if planned:
        plan_alert_deliveries(planned, org=snapshot.directory, endpoints=snapshot.endpoints, now=now)
    grouped = _alerts_by_response(evaluated, live)
    if new:
        return open_cases_for_new(grouped, superseded=superseded, now=now)
    return open_cases_for_existing(grouped, superseded=superseded, now=now)


def _remember_what_was_created(
    created: Sequence[Response], alerts: Sequence[Alert], cases: Sequence[Case], superseded: Mapping[int, Response]
) -> None:
    """Give each new response the alerts and the case this transaction made for it, so that the API's 201
    body is built without reading them back. A response that replaced an earlier one of its ticket took
    over that one's case, with its notes and alerts moved: those are read back as before."""
    alerts_of: dict[int, list[Alert]] = {}
    for alert in alerts:
        alerts_of.setdefault(alert.response_id, []).append(alert)
    case_of = {case.response_id: case for case in cases}
    # A batch may carry two responses of one ticket: the first is replaced by the second in this very
    # transaction, and its alerts and case moved on. Both are read back.
    replacing = set(superseded) | {earlier.pk for earlier in superseded.values()}
    for response in created:
        if response.pk not in replacing:
            remember_related_rows(response, alerts_of.get(response.pk, []), case_of.get(response.pk))


def _alerts_by_response(responses: Sequence[Response], alerts: Iterable[Alert]) -> dict[int, list[Alert]]:
    """Every evaluated response (also those without new alerts: they may replace one with a case)."""
    grouped: dict[int, list[Alert]] = {response.pk: [] for response in responses}
    for alert in alerts:
        grouped.setdefault(alert.response_id, []).append(alert)
    return grouped
