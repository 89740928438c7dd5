"""The weekly programme summary: how a unit's subtree closed the loop last week, and what its customers
complained about, emailed to the programme's owners so that people who never open the reports page hear it.

Scheduled as the digests are (closeloop.reports.digests): each (summary, unit) has a SummarySchedule row whose
`next_run_at` is the next scheduled instant. A worker claims a due row by moving `next_run_at` on inside the
transaction that records the run and enqueues its emails (`select_for_update` on PostgreSQL; on SQLite the
IMMEDIATE transaction serialises writers and the conditional update re-checks the claim); SummaryRun's unique
key is the last guard. The figures and themes are computed before that transaction: grouping the week's
complaints takes the text model seconds, and on SQLite a transaction holds the database's only write lock.

The figures are the loop report's own (`loop_summary_for`, `case_tally_for`, `report_themes` over the same
days and unit), so the email and /reports/ for that week and unit say the same.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction

from closeloop.alerts.text_judging import organization_examples
from closeloop.cases.models import Case
from closeloop.cases.queries import overdue_filter
from closeloop.core.metrics import CaseTally, LoopSummary
from closeloop.core.routing import resolve
from closeloop.core.schedule import DAY_NAMES, Week, next_weekly_run_at, summary_week
from closeloop.loop.themes import ThemeRow
from closeloop.notify.links import absolute_url
from closeloop.notify.models import Delivery
from closeloop.notify.outbox import enqueue_all, planned
from closeloop.notify.render import make_message
from closeloop.org.directory import directory
from closeloop.org.models import Person, Unit
from closeloop.org.stamp import stored_token
from closeloop.reports.models import Summary, SummaryRun, SummarySchedule
from closeloop.reports.queries import case_tally_for, loop_summary_for
from closeloop.reports.themes import report_themes
from closeloop.textmodel import judge_status

logger = logging.getLogger("closeloop.summaries")

ONE_DAY = timedelta(days=1)
IDEMPOTENCY_KEY_MAX: int = Delivery._meta.get_field("idempotency_key").max_length or 200
# Time to first contact is shown against the middle window of the report's (CONTACT_WINDOWS): the first day.
CONTACT_HOURS = 24
QUOTES_PER_THEME = 2
NO_MODEL_LINE = "Complaint themes are not available: the text model is not installed on this server."

# The configuration token the schedules were last synced for (see reports.digests._synced_for).
_synced_for: str | None = None


def forget_sync() -> None:
    """Make the next step re-read the summaries (tests call it between cases)."""
    global _synced_for
    _synced_for = None


def sync_schedules(now: datetime) -> None:
    """One schedule row per configured (summary, unit); rows of removed summaries or units are deleted.

    A new row first runs at its weekday's `at` within the past day when there is one, so a summary configured
    (or a first tick run) just after its time still goes out that morning; otherwise at the next one. A row
    whose weekday, time or time zone changed moves to the next new instant.
    """
    org = directory()
    wanted: dict[tuple[int, int], tuple[Summary, Unit, str]] = {}
    for summary in Summary.objects.all():
        for code in summary.units:
            unit = org.units.get(code)
            if unit is not None:
                wanted[(summary.pk, unit.pk)] = (summary, unit, org.time_zone_of(unit))
    existing = {(s.summary_id, s.unit_id): s for s in SummarySchedule.objects.all()}
    stale = [s.pk for key, s in existing.items() if key not in wanted]
    if stale:
        SummarySchedule.objects.filter(pk__in=stale).delete()
    new = []
    for key, (summary, unit, zone) in wanted.items():
        schedule = existing.get(key)
        if schedule is None:
            first = next_weekly_run_at(summary.day, summary.at, zone, now - ONE_DAY)
            new.append(
                SummarySchedule(
                    summary=summary, unit=unit, day=summary.day, at=summary.at, time_zone=zone, next_run_at=first
                )
            )
        elif (schedule.day, schedule.at, schedule.time_zone) != (summary.day, summary.at, zone):
            SummarySchedule.objects.filter(
                pk=schedule.pk, day=schedule.day, at=schedule.at, time_zone=schedule.time_zone
            ).update(
                day=summary.day,
                at=summary.at,
                time_zone=zone,
                next_run_at=next_weekly_run_at(summary.day, summary.at, zone, now),
            )
    # Another worker may be creating the same rows right now: the unique key keeps one of each.
    SummarySchedule.objects.bulk_create(new, ignore_conflicts=True)


@dataclass(frozen=True)
class Figures:
    """One week's loop figures of a subtree: the loop report's summary and the counts behind it."""

    summary: LoopSummary
    tally: CaseTally

    @property
    def contacted_within(self) -> float | None:
        contact = self.summary.contact
        return contact.within_hours.get(CONTACT_HOURS) if contact is not None else None


@dataclass(frozen=True)
class Line:
    """One row of the email's table: what, this week, the week before."""

    label: str
    current: str
    previous: str


@dataclass(frozen=True)
class SummaryContent:
    """Everything one summary email of one unit says (the same for each of its recipients but the greeting)."""

    summary: Summary
    unit: Unit
    run_at: datetime
    week: Week
    current: Figures
    previous: Figures
    overdue: int
    themes: list[ThemeRow]
    # Why no themes are listed, in one line ("" when some are, or when the summary lists none).
    themes_note: str
    themes_compared: bool

    @property
    def lines(self) -> list[Line]:
        now, before = self.current, self.previous

        def row(label: str, value: Any, previous: Any, unit: str = "") -> Line:
            return Line(label, _shown(value, unit), _shown(previous, unit))

        return [
            row("Responses", now.summary.responses, before.summary.responses),
            row("Unhappy (needing recovery)", now.summary.needing_recovery, before.summary.needing_recovery),
            row("Cases opened", now.summary.cases, before.summary.cases),
            row(f"First contact within {CONTACT_HOURS} h", now.contacted_within, before.contacted_within, " %"),
            row(
                "Median time to first contact",
                now.summary.median_hours_to_contact,
                before.summary.median_hours_to_contact,
                " h",
            ),
            row("Cases closed", now.tally.closed, before.tally.closed),
            row(
                "Closed within goal",
                now.summary.closed_within_goal_percent,
                before.summary.closed_within_goal_percent,
                " %",
            ),
            Line(
                "Recovered (said so in the follow-up)",
                _recovered(now),
                _recovered(before),
            ),
            row("Praise alerts", now.summary.praise_count, before.summary.praise_count),
        ]

    @property
    def empty(self) -> bool:
        return self.current.summary.responses == 0

    @property
    def ref(self) -> str:
        return f"summary:{self.summary.key}:{self.unit.code}:{self.run_at:%Y%m%dT%H%M%SZ}"

    @property
    def reports_url(self) -> str:
        return absolute_url(
            "reports",
            query={
                "date_from": self.week.date_from.isoformat(),
                "date_to": self.week.date_to.isoformat(),
                "unit": self.unit.code,
            },
        )

    @property
    def overdue_url(self) -> str:
        return absolute_url("cases", query={"flag": "overdue", "unit": self.unit.code})

    @property
    def period(self) -> str:
        return _period(self.week)

    @property
    def previous_period(self) -> str:
        return _period(self.week.previous)


def _period(week: Week) -> str:
    start, end = week.date_from, week.date_to
    first = f"{start.day} {start:%b}" + (f" {start.year}" if start.year != end.year else "")
    return f"{DAY_NAMES[start.weekday()][:3]} {first} – {DAY_NAMES[end.weekday()][:3]} {end.day} {end:%b} {end.year}"


def _shown(value: Any, unit: str = "") -> str:
    # "–": nothing to measure (no cases, nobody contacted), never "0 %", as on the reports page.
    if value is None:
        return "–"
    return f"{value:g}{unit}" if isinstance(value, float) else f"{value}{unit}"


def _recovered(figures: Figures) -> str:
    tally = figures.tally
    if not tally.answered:
        return "–"
    return f"{tally.recovered} of {tally.answered} answered ({_shown(figures.summary.recovered_percent, ' %')})"


def build_summary(summary: Summary, unit: Unit, time_zone: str, run_at: datetime) -> SummaryContent:
    """The summary of `unit`'s subtree for the week before `run_at` (in `time_zone`), as at `run_at`."""
    week = summary_week(run_at, time_zone)

    def figures(of: Week) -> Figures:
        return Figures(
            loop_summary_for(of.date_from, of.date_to, unit, now=run_at),
            case_tally_for(of.date_from, of.date_to, unit, now=run_at),
        )

    current = figures(week)
    overdue = Case.objects.filter(overdue_filter(run_at), unit__path__startswith=unit.path).count()
    themes: list[ThemeRow] = []
    note, compared = "", True
    if summary.themes:
        if judge_status(organization_examples(directory().organization)).kind == "fallback":
            # The fallback groups only comments sharing words: a programme's owners would read noise as themes.
            note = NO_MODEL_LINE
        elif current.summary.responses == 0:
            note = "No complaint themes: no responses last week."
        else:
            found = report_themes(week.date_from, week.date_to, unit)
            themes = found.report.themes[: summary.themes]
            compared = found.report.compared
            if not themes:
                note = (
                    "No complaint themes: too few complaints with comments last week."
                    if found.report.complaints < 2
                    else "No complaint themes: no two complaints last week were about the same thing."
                )
    return SummaryContent(
        summary=summary,
        unit=unit,
        run_at=run_at,
        week=week,
        current=current,
        previous=figures(week.previous),
        overdue=overdue,
        themes=themes,
        themes_note=note,
        themes_compared=compared,
    )


def _bounded(key: str) -> str:
    # Long summary keys and unit codes could overflow the column; a digest of the key is as unique.
    return key if len(key) <= IDEMPOTENCY_KEY_MAX else f"summary:{hashlib.sha256(key.encode()).hexdigest()}"


def recipients(summary: Summary, unit: Unit) -> list[Person]:
    org = directory()
    chosen = [r.person for r in resolve(list(summary.to or []), unit=unit.code, agent=None, tree=org.tree)]
    people = org.people_by_key(set(chosen))
    return [people[key] for key in chosen if key in people]


def plan_emails(content: SummaryContent, now: datetime) -> list[Delivery]:
    """One email per recipient of the summary's unit (each greeted by name)."""
    deliveries = []
    for person in recipients(content.summary, content.unit):
        context = {"content": content, "person": person, "quotes": f":{QUOTES_PER_THEME}"}
        common: dict[str, Any] = {
            "topic": "summary",
            "ref": content.ref[:100],
            "person": person,
            "idempotency_key": _bounded(f"{content.ref}:email:{person.key}"),
            "now": now,
        }
        if not person.email:
            subject = make_message("summary", context).subject
            deliveries.append(planned(channel="email", subject=subject, skipped_because="no email address", **common))
            continue
        message = make_message("summary", context)
        deliveries.append(
            planned(
                channel="email",
                address=person.email,
                subject=message.subject,
                text=message.text,
                html=message.html,
                **common,
            )
        )
    return deliveries


def _claim(schedule_id: int, run_at: datetime) -> SummarySchedule | None:
    """Lock the schedule row if it still waits for `run_at` (another worker running the same instant holds it
    until it commits, having moved it on: this one then finds it gone)."""
    due = SummarySchedule.objects.filter(pk=schedule_id, next_run_at=run_at)
    if connection.vendor == "postgresql":
        due = due.select_for_update()
    return due.first()


def run_schedule(schedule_id: int, now: datetime) -> SummaryRun | None:
    """Run the summary of one due schedule row and move the row to its next week; None when there was nothing
    to run (not due, or another worker ran this instant)."""
    schedule = (
        SummarySchedule.objects.select_related("summary", "unit").filter(pk=schedule_id, next_run_at__lte=now).first()
    )
    if schedule is None:
        return None
    run_at = schedule.next_run_at
    content = build_summary(schedule.summary, schedule.unit, schedule.time_zone, run_at)
    deliveries = plan_emails(content, now)
    with transaction.atomic():
        claimed = _claim(schedule.pk, run_at)
        if claimed is None:
            return None
        following = next_weekly_run_at(claimed.day, claimed.at, claimed.time_zone, run_at)
        # The claim proper: only the worker that still sees the instant it read moves it on.
        if not SummarySchedule.objects.filter(pk=claimed.pk, next_run_at=run_at).update(next_run_at=following):
            return None
        run, created = SummaryRun.objects.get_or_create(
            summary=schedule.summary,
            unit=schedule.unit,
            run_at=run_at,
            defaults={
                "date_from": content.week.date_from,
                "date_to": content.week.date_to,
                "responses": content.current.summary.responses,
                "recipients": len(deliveries),
                "created_at": now,
            },
        )
        if not created:
            return None
        enqueue_all(deliveries)
    logger.info(
        "summary %s for %s at %s: %d responses, %d recipients",
        schedule.summary.key,
        schedule.unit.code,
        run_at.isoformat(),
        run.responses,
        run.recipients,
    )
    return run


def run_due_summaries(now: datetime) -> int:
    """The `summaries` worker step: run every summary instant that is due at `now`; returns how many ran.

    A worker that was down runs one due week per schedule row each round; the rounds of `run_due_work`
    catch up the rest, each week for its own days."""
    global _synced_for
    token = stored_token()
    if token != _synced_for:
        sync_schedules(now)
        _synced_for = token
    due = SummarySchedule.objects.filter(next_run_at__lte=now).order_by("next_run_at", "id")
    return sum(1 for schedule_id in due.values_list("id", flat=True) if run_schedule(schedule_id, now) is not None)
