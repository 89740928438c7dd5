"""The daily service-recovery digest: the worker step that runs due digests.

Each (digest, unit) has a DigestSchedule row whose `next_run_at` is the next scheduled instant. A worker
claims a due row by moving `next_run_at` on inside the transaction that records the run, its items and its
outbox rows, so the whole run commits or none of it does, and two workers never run the same instant
(`select_for_update(skip_locked=True)` on PostgreSQL; on SQLite the IMMEDIATE transaction serialises
writers and the conditional update re-checks the claim). DigestRun's unique key is the last guard.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from closeloop.core.routing import resolve
from closeloop.core.schedule import digest_window, next_run_at, reported_day_words, sms_time
from closeloop.feedback.models import Response
from closeloop.notify.models import Delivery
from closeloop.notify.outbox import enqueue_all, planned
from closeloop.notify.render import make_message
from closeloop.org.directory import directory
from closeloop.org.models import Person, Unit
from closeloop.org.stamp import stored_token
from closeloop.reports.models import Digest, DigestItem, DigestRun, DigestSchedule
from closeloop.reports.service_report import build_report, combine_reports, render_pdf, report_url

logger = logging.getLogger("closeloop.digests")

ONE_DAY = timedelta(days=1)
IDEMPOTENCY_KEY_MAX: int = Delivery._meta.get_field("idempotency_key").max_length or 200

# The configuration token the schedules were last synced for, so an idle worker does not re-read the
# digests every poll; any configuration change (digest, unit, time zone) writes a new token.
_synced_for: str | None = None


def forget_sync() -> None:
    """Make the next step re-read the digests (tests call it between cases)."""
    global _synced_for
    _synced_for = None


def sync_schedules(now: datetime) -> None:
    """One schedule row per configured (digest, unit); rows of removed digests or units are deleted.

    A new row first runs at the latest `at` within the past window when there is one, so a digest
    configured (or a first tick run) just after its time still reports the day that has just closed;
    otherwise at the next `at`. A row whose time or time zone changed moves to the next new `at`: its
    recent days were reported at the old time already.
    """
    org = directory()
    units = org.units
    wanted: dict[tuple[int, int], tuple[Digest, Unit, str]] = {}
    for digest in Digest.objects.all():
        for code in digest.units:
            unit = units.get(code)
            if unit is not None:
                wanted[(digest.pk, unit.pk)] = (digest, unit, org.time_zone_of(unit))
    existing = {(s.digest_id, s.unit_id): s for s in DigestSchedule.objects.all()}
    stale = [s.pk for key, s in existing.items() if key not in wanted]
    if stale:
        DigestSchedule.objects.filter(pk__in=stale).delete()
    new = []
    for key, (digest, unit, zone) in wanted.items():
        schedule = existing.get(key)
        if schedule is None:
            # At most one day back: the last run that would have happened, never a backlog of days.
            first = next_run_at(digest.at, zone, now - min(digest.window, ONE_DAY))
            new.append(DigestSchedule(digest=digest, unit=unit, at=digest.at, time_zone=zone, next_run_at=first))
        elif (schedule.at, schedule.time_zone) != (digest.at, zone):
            DigestSchedule.objects.filter(pk=schedule.pk, at=schedule.at, time_zone=schedule.time_zone).update(
                at=digest.at, time_zone=zone, next_run_at=next_run_at(digest.at, zone, now)
            )
    # Another worker may be creating the same rows right now: the unique key keeps one of each.
    DigestSchedule.objects.bulk_create(new, ignore_conflicts=True)


def responses_for_run(digest: Digest, unit: Unit, window: tuple[datetime, datetime]) -> QuerySet[Response]:
    """What a run reports: the subtree's valid, current responses needing recovery submitted in the window,
    valid by the run's instant (a response fixed later was invalid when the digest ran), and in no earlier
    digest of this unit. Oldest first."""
    start, end = window
    already = DigestItem.objects.filter(digest=digest, unit=unit, response=OuterRef("pk"))
    return (
        Response.objects.filter(
            unit__path__startswith=unit.path,
            status=Response.Status.VALID,
            superseded_by__isnull=True,
            needs_recovery=True,
            submitted_at__gte=start,
            submitted_at__lt=end,
        )
        .filter(Q(valid_since__isnull=True) | Q(valid_since__lte=end))
        .filter(~Exists(already))
        .select_related("survey", "unit", "agent", "customer")
        .order_by("submitted_at", "id")
    )


def headline(count: int, units: Unit | Sequence[Unit], day_words: str = "yesterday") -> str:
    """ "2 unhappy customers yesterday at Support EMEA" (or "... on Saturday at Support EMEA and Support UK")."""
    names = [units.name] if isinstance(units, Unit) else [unit.name for unit in units]
    where = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    if count == 0:
        return f"No unhappy customers {day_words} at {where}"
    noun = "unhappy customer" if count == 1 else "unhappy customers"
    return f"{count} {noun} {day_words} at {where}"


@dataclass(frozen=True)
class RunContext:
    digest: Digest
    unit: Unit
    time_zone: str
    run_at: datetime
    window: tuple[datetime, datetime]

    @property
    def day(self) -> date:
        """The local date of the run: the `date` of the report's URL."""
        return self.run_at.astimezone(ZoneInfo(self.time_zone)).date()

    @property
    def reported_day(self) -> date:
        """The day the window starts ("yesterday"), in the organisation's time zone, as the notes dialog
        reads its `date`."""
        return self.window[0].astimezone(ZoneInfo(directory().organization.time_zone)).date()

    @property
    def ref(self) -> str:
        return f"digest:{self.digest.key}:{self.unit.code}:{self.run_at:%Y%m%dT%H%M%SZ}"

    def key(self, channel: str, person: Person) -> str:
        return _bounded(f"{self.ref}:{channel}:{person.key}")


def _bounded(key: str) -> str:
    # Long digest keys and unit codes could overflow the column; a digest of the key is as unique.
    return key if len(key) <= IDEMPOTENCY_KEY_MAX else f"digest:{hashlib.sha256(key.encode()).hexdigest()}"


@dataclass(frozen=True)
class UnitRun:
    """One unit's part of a run: its context and the responses it reports."""

    context: RunContext
    responses: list[Response]


def _recipients(context: RunContext) -> list[Person]:
    org = directory()
    chosen = [
        r.person for r in resolve(list(context.digest.to or []), unit=context.unit.code, agent=None, tree=org.tree)
    ]
    people = org.people_by_key(set(chosen))
    return [people[key] for key in chosen if key in people]


def _plan_messages(runs: Sequence[UnitRun], now: datetime) -> list[Delivery]:
    """The messages of one run instant of a digest: per person, one SMS and one email covering every unit of
    the run they are responsible for (`report_per: person`), or one of each per unit (`report_per: unit`)."""
    digest = runs[0].context.digest
    if digest.report_per == Digest.ReportPer.UNIT:
        return [d for run in runs for person in _recipients(run.context) for d in _plan_report([run], person, now)]
    theirs: dict[str, tuple[Person, list[UnitRun]]] = {}
    for run in runs:
        for person in _recipients(run.context):
            theirs.setdefault(person.key, (person, []))[1].append(run)
    return [d for person, their_runs in theirs.values() for d in _plan_report(their_runs, person, now)]


def _plan_report(runs: list[UnitRun], person: Person, now: datetime) -> list[Delivery]:
    """One person's SMS and email about the units of `runs`. Units with nothing to report are left out when
    the digest skips empty ones; nothing at all is planned when every unit is empty then."""
    first = runs[0].context
    digest = first.digest
    if digest.when_empty == Digest.WhenEmpty.SKIP:
        runs = [run for run in runs if run.responses]
        if not runs:
            return []
        first = runs[0].context
    units = [run.context.unit for run in runs]
    count = len({response.pk for run in runs for response in run.responses})
    if len(runs) == 1:
        ref, key = first.ref, lambda channel: first.key(channel, person)
    else:
        ref = f"digest:{digest.key}:{first.run_at:%Y%m%dT%H%M%SZ}"
        key = lambda channel: _bounded(f"{ref}:{channel}:{person.key}")  # noqa: E731
    common: dict[str, Any] = {"topic": "digest", "ref": ref[:100], "person": person}
    pdf_url = report_url(units if len(units) > 1 else units[0], first.day)
    deliveries = []
    if digest.sms:
        # Weekend SMS wait for Monday's alert time, and then name the day they are about; the email goes now.
        sms_at = max(sms_time(first.run_at, first.time_zone, digest.at, digest.weekend_sms), now)
        words = reported_day_words(first.run_at, first.time_zone, sms_at)
        sms = planned(
            channel="sms",
            address=person.phone,
            text=f"{headline(count, units, words)}: {pdf_url}",
            idempotency_key=key("sms"),
            now=now,
            skipped_because="" if person.phone else "no phone number",
            **common,
        )
        if sms.status == Delivery.Status.PENDING:
            sms.next_attempt_at = sms_at
        deliveries.append(sms)
    if digest.email_pdf:
        deliveries.append(_planned_email(runs, person, headline(count, units), pdf_url, key("email"), now, common))
    return deliveries


def _planned_email(
    runs: list[UnitRun],
    person: Person,
    title: str,
    pdf_url: str,
    idempotency_key: str,
    now: datetime,
    common: dict[str, Any],
) -> Delivery:
    """The report for one recipient: their name is on it, so each gets their own PDF."""
    if not person.email:
        return planned(
            channel="email",
            subject=f"Service Recovery Report: {title}",
            idempotency_key=idempotency_key,
            now=now,
            skipped_because="no email address",
            **common,
        )
    reports = [
        build_report(
            run.context.unit,
            run.responses,
            window=run.context.window,
            time_zone=run.context.time_zone,
            recipient=person.name,
            notes_day=run.context.reported_day,
        )
        for run in runs
    ]
    report = (
        reports[0] if len(reports) == 1 else combine_reports(reports, recipient=person.name, period=reports[0].period)
    )
    message = make_message("digest", {"title": title, "report": report, "pdf_url": pdf_url})
    day = runs[0].context.day.isoformat()
    codes = "+".join(run.context.unit.code for run in runs)
    attachment = {
        "filename": f"service-recovery-{codes}-{day}.pdf",
        "content_type": "application/pdf",
        "content_base64": base64.b64encode(render_pdf(report)).decode("ascii"),
    }
    return planned(
        channel="email",
        address=person.email,
        subject=message.subject,
        text=message.text,
        html=message.html,
        payload={"attachments": [attachment]},
        idempotency_key=idempotency_key,
        now=now,
        **common,
    )


def _claim(schedule_ids: Sequence[int], run_at: datetime) -> list[DigestSchedule]:
    """Lock the schedule rows that still wait for `run_at`, in id order, for this transaction.

    Another worker running the same instant holds them until it commits, having moved them on: this worker
    then finds none still waiting. A run instant is claimed whole, so no person gets the report in halves.
    """
    due = DigestSchedule.objects.select_related("digest", "unit").filter(pk__in=list(schedule_ids), next_run_at=run_at)
    if connection.vendor == "postgresql":
        due = due.select_for_update(of=("self",))
    return list(due.order_by("id"))


def _prepare(contexts: Sequence[RunContext], now: datetime) -> tuple[list[UnitRun], list[Delivery]]:
    runs = [
        UnitRun(context, list(responses_for_run(context.digest, context.unit, context.window))) for context in contexts
    ]
    return runs, _plan_messages(runs, now)


def run_schedules(schedule_ids: Sequence[int], now: datetime) -> list[DigestRun]:
    """Run the digest of due schedule rows of one digest and one instant together (one report per person
    across their units) and move each row to its next instant. Returns the runs recorded."""
    schedules = list(
        DigestSchedule.objects.select_related("digest", "unit")
        .filter(pk__in=list(schedule_ids), next_run_at__lte=now)
        .order_by("id")
    )
    if not schedules:
        return []
    run_at = schedules[0].next_run_at
    schedules = [s for s in schedules if s.next_run_at == run_at and s.digest_id == schedules[0].digest_id]

    def context_of(schedule: DigestSchedule) -> RunContext:
        window = digest_window(run_at, schedule.digest.window, schedule.time_zone)
        return RunContext(schedule.digest, schedule.unit, schedule.time_zone, run_at, window)

    contexts = {schedule.pk: context_of(schedule) for schedule in schedules}
    # The PDFs take a fraction of a second each: they are made before the transaction, because on SQLite a
    # transaction holds the database's only write lock and ingest must not wait for them.
    runs, deliveries = _prepare(list(contexts.values()), now)
    recorded = []
    with transaction.atomic():
        moved = []
        for schedule in _claim(list(contexts), run_at):
            following = next_run_at(schedule.at, schedule.time_zone, run_at)
            # The claim proper: only the worker that still sees the instant it read moves it on.
            if DigestSchedule.objects.filter(pk=schedule.pk, next_run_at=run_at).update(next_run_at=following):
                moved.append(contexts[schedule.pk])
        if not moved:
            return []
        now_reported = [list(responses_for_run(c.digest, c.unit, c.window).values_list("id", flat=True)) for c in moved]
        if [run.context for run in runs] != moved or now_reported != [[r.pk for r in run.responses] for run in runs]:
            # A response was fixed, replaced or reported meanwhile: prepare again, now under the claim.
            runs, deliveries = _prepare(moved, now)
        for run in runs:
            context = run.context
            silent = not run.responses and context.digest.when_empty == Digest.WhenEmpty.SKIP
            digest_run, created = DigestRun.objects.get_or_create(
                digest=context.digest,
                unit=context.unit,
                run_at=run_at,
                defaults={
                    "window_start": context.window[0],
                    "window_end": context.window[1],
                    "status": DigestRun.Status.SKIPPED if silent else DigestRun.Status.SENT,
                    "responses": len(run.responses),
                    "created_at": now,
                },
            )
            if not created:
                continue
            DigestItem.objects.bulk_create(
                [
                    DigestItem(run=digest_run, digest=context.digest, unit=context.unit, response=r)
                    for r in run.responses
                ]
            )
            recorded.append(digest_run)
        if recorded:
            enqueue_all(deliveries)
    for digest_run in recorded:
        logger.info(
            "digest %s for %s at %s: %d responses",
            digest_run.digest.key,
            digest_run.unit.code,
            run_at.isoformat(),
            digest_run.responses,
        )
    return recorded


def run_schedule(schedule_id: int, now: datetime) -> DigestRun | None:
    """Run the digest of one due schedule row on its own (see `run_schedules`)."""
    runs = run_schedules([schedule_id], now)
    return runs[0] if runs else None


def run_due_digests(now: datetime) -> int:
    """The `digests` worker step: run every digest instant that is due at `now`; returns how many ran."""
    global _synced_for
    token = stored_token()
    if token != _synced_for:
        sync_schedules(now)
        _synced_for = token
    done = 0
    due = DigestSchedule.objects.filter(next_run_at__lte=now).order_by("next_run_at", "id")
    # The units of one digest due at one instant run together: each person gets one report for all of theirs.
    groups: dict[tuple[int, datetime], list[int]] = {}
    for schedule_id, digest_id, run_at in due.values_list("id", "digest_id", "next_run_at"):
        groups.setdefault((digest_id, run_at), []).append(schedule_id)
    for schedule_ids in groups.values():
        done += len(run_schedules(schedule_ids, now))
    return done
