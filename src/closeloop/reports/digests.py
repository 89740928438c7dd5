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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from closeloop.core.routing import resolve
from closeloop.core.schedule import digest_window, next_run_at, sms_time
from closeloop.feedback.models import Response
from closeloop.notify.models import Delivery
from closeloop.notify.outbox import enqueue_all, planned
from closeloop.notify.render import make_message
from closeloop.org.directory import directory
from closeloop.org.models import Person, Unit
from closeloop.org.stamp import stored_token
from closeloop.reports.models import Digest, DigestItem, DigestRun, DigestSchedule
from closeloop.reports.service_report import build_report, render_pdf, report_url

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


def headline(count: int, unit: Unit) -> str:
    if count == 0:
        return f"No unhappy customers yesterday at {unit.name}"
    noun = "unhappy customer" if count == 1 else "unhappy customers"
    return f"{count} {noun} yesterday at {unit.name}"


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
        key = f"{self.ref}:{channel}:{person.key}"
        # Long digest keys and unit codes could overflow the column; a digest of the key is as unique.
        return key if len(key) <= IDEMPOTENCY_KEY_MAX else f"digest:{hashlib.sha256(key.encode()).hexdigest()}"


def _plan_messages(context: RunContext, responses: list[Response], now: datetime) -> list[Delivery]:
    digest, unit = context.digest, context.unit
    selectors = list(digest.to or [])
    org = directory()
    chosen = [r.person for r in resolve(selectors, unit=unit.code, agent=None, tree=org.tree)]
    people = org.people_by_key(set(chosen))
    recipients = [people[key] for key in chosen if key in people]
    title = headline(len(responses), unit)
    text = f"{title}: {report_url(unit, context.day)}"
    deliveries = []
    sms_at = sms_time(context.run_at, context.time_zone, digest.at, digest.weekend_sms)
    for person in recipients:
        common: dict[str, Any] = {"topic": "digest", "ref": context.ref[:100], "person": person}
        if digest.sms:
            sms = planned(
                channel="sms",
                address=person.phone,
                text=text,
                idempotency_key=context.key("sms", person),
                now=now,
                skipped_because="" if person.phone else "no phone number",
                **common,
            )
            if sms.status == Delivery.Status.PENDING:
                # Weekend SMS wait for Monday's alert time; the email below still goes now.
                sms.next_attempt_at = max(sms_at, now)
            deliveries.append(sms)
        if digest.email_pdf:
            deliveries.append(_planned_email(context, responses, person, title, now, common))
    return deliveries


def _planned_email(
    context: RunContext, responses: list[Response], person: Person, title: str, now: datetime, common: dict[str, Any]
) -> Delivery:
    """The report for one recipient: their name is on it, so each gets their own PDF."""
    if not person.email:
        return planned(
            channel="email",
            subject=f"Service Recovery Report: {title}",
            idempotency_key=context.key("email", person),
            now=now,
            skipped_because="no email address",
            **common,
        )
    report = build_report(
        context.unit,
        responses,
        window=context.window,
        time_zone=context.time_zone,
        recipient=person.name,
        notes_day=context.reported_day,
    )
    message = make_message(
        "digest", {"title": title, "report": report, "pdf_url": report_url(context.unit, context.day)}
    )
    filename = f"service-recovery-{context.unit.code}-{context.day.isoformat()}.pdf"
    attachment = {
        "filename": filename,
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
        idempotency_key=context.key("email", person),
        now=now,
        **common,
    )


def _claim(schedule_id: int, run_at: datetime) -> DigestSchedule | None:
    """Lock the schedule row for this transaction if it still waits for `run_at`; None when another worker
    has it or has run it."""
    due = DigestSchedule.objects.select_related("digest", "unit").filter(pk=schedule_id, next_run_at=run_at)
    if connection.vendor == "postgresql":
        return due.select_for_update(skip_locked=True, of=("self",)).first()
    return due.first()


@dataclass
class _Prepared:
    responses: list[Response]
    silent: bool  # nothing to report and `when_empty: skip`
    deliveries: list[Delivery]


def _prepare(context: RunContext, now: datetime) -> _Prepared:
    responses = list(responses_for_run(context.digest, context.unit, context.window))
    silent = not responses and context.digest.when_empty == Digest.WhenEmpty.SKIP
    return _Prepared(responses, silent, [] if silent else _plan_messages(context, responses, now))


def run_schedule(schedule_id: int, now: datetime) -> DigestRun | None:
    """Run the digest of one due schedule row at its scheduled instant and move the row to the next one."""
    schedule = (
        DigestSchedule.objects.select_related("digest", "unit").filter(pk=schedule_id, next_run_at__lte=now).first()
    )
    if schedule is None:
        return None
    digest, unit, run_at = schedule.digest, schedule.unit, schedule.next_run_at
    context = RunContext(
        digest, unit, schedule.time_zone, run_at, digest_window(run_at, digest.window, schedule.time_zone)
    )
    # The PDFs take a fraction of a second each: they are made before the transaction, because on SQLite a
    # transaction holds the database's only write lock and ingest must not wait for them.
    prepared = _prepare(context, now)
    with transaction.atomic():
        if _claim(schedule.pk, run_at) is None:
            return None
        following = next_run_at(schedule.at, schedule.time_zone, run_at)
        # The claim proper: only the worker that still sees the instant it read moves it on.
        if not DigestSchedule.objects.filter(pk=schedule.pk, next_run_at=run_at).update(next_run_at=following):
            return None
        ids = list(responses_for_run(digest, unit, context.window).values_list("id", flat=True))
        if ids != [response.pk for response in prepared.responses]:
            # A response was fixed, replaced or reported meanwhile: prepare again, now under the claim.
            prepared = _prepare(context, now)
        responses = prepared.responses
        run, created = DigestRun.objects.get_or_create(
            digest=digest,
            unit=unit,
            run_at=run_at,
            defaults={
                "window_start": context.window[0],
                "window_end": context.window[1],
                "status": DigestRun.Status.SKIPPED if prepared.silent else DigestRun.Status.SENT,
                "responses": len(responses),
                "created_at": now,
            },
        )
        if not created:
            return None
        DigestItem.objects.bulk_create(
            [DigestItem(run=run, digest=digest, unit=unit, response=response) for response in responses]
        )
        enqueue_all(prepared.deliveries)
    logger.info("digest %s for %s at %s: %d responses", digest.key, unit.code, run_at.isoformat(), len(responses))
    return run


def run_due_digests(now: datetime) -> int:
    """The `digests` worker step: run every digest instant that is due at `now`; returns how many ran."""
    global _synced_for
    token = stored_token()
    if token != _synced_for:
        sync_schedules(now)
        _synced_for = token
    done = 0
    due = DigestSchedule.objects.filter(next_run_at__lte=now).order_by("next_run_at", "id")
    for schedule_id in list(due.values_list("id", flat=True)):
        if run_schedule(schedule_id, now) is not None:
            done += 1
    return done
