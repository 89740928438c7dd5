"""The `spikes` worker step: once a day, warn when one category of complaints jumps at one unit.

Only about one unhappy customer in 25 complains, so a handful more complaints than usual about one thing
at one place can stand for many silent customers. Each day the check counts the recovery alerts of the
day that has just ended (organisation's time zone) per unit and category, compares them with the same
weekday of earlier weeks (core.spikes.detect_spikes) and emails the unit's leads and the admins about
each new spike. A spike stays open while it lasts, so it is announced once, and clears on the first
checked day that is back to normal.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from closeloop.alerts.models import Alert
from closeloop.core.spikes import Spike, detect_spikes
from closeloop.feedback.models import Question
from closeloop.feedback.queries import local_day_bounds
from closeloop.loop.models import SpikeAlert, SpikeCheck
from closeloop.notify.links import absolute_url
from closeloop.notify.outbox import enqueue_all, planned
from closeloop.notify.render import make_message
from closeloop.org.directory import current_organization, directory
from closeloop.org.models import Person, Role, Unit

MAX_EXAMPLES = 5
EXAMPLE_LENGTH = 300

Key = tuple[int, str]  # (unit id, category)


@dataclass(frozen=True)
class SpikeSettings:
    """What counts as a spike; Django settings CLOSELOOP_SPIKE_* override these defaults."""

    window_days: int = 1
    baseline_weeks: int = 4
    factor: float = 3
    min_count: int = 5

    @classmethod
    def load(cls) -> SpikeSettings:
        return cls(
            window_days=int(getattr(settings, "CLOSELOOP_SPIKE_WINDOW_DAYS", cls.window_days)),
            baseline_weeks=int(getattr(settings, "CLOSELOOP_SPIKE_BASELINE_WEEKS", cls.baseline_weeks)),
            factor=float(getattr(settings, "CLOSELOOP_SPIKE_FACTOR", cls.factor)),
            min_count=int(getattr(settings, "CLOSELOOP_SPIKE_MIN_COUNT", cls.min_count)),
        )


def _window(day: date, window_days: int, zone: str) -> tuple[datetime, datetime]:
    return local_day_bounds(day - timedelta(days=window_days - 1), zone)[0], local_day_bounds(day, zone)[1]


def _recovery_alerts(start: datetime, end: datetime) -> QuerySet[Alert]:
    return Alert.objects.filter(
        kind="recovery",
        unit__isnull=False,
        response__submitted_at__gte=start,
        response__submitted_at__lt=end,
        response__superseded_by__isnull=True,
    )


def daily_counts(day: date, window_days: int, baseline_weeks: int, zone: str) -> dict[Key, list[tuple[date, int]]]:
    """Recovery alerts per (unit, category) per local day, over the window and the baseline weeks before it."""
    first = day - timedelta(days=7 * baseline_weeks + window_days - 1)
    start, end = local_day_bounds(first, zone)[0], local_day_bounds(day, zone)[1]
    local = ZoneInfo(zone)
    counts: dict[Key, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for unit_id, category, submitted_at in _recovery_alerts(start, end).values_list(
        "unit_id", "category", "response__submitted_at"
    ):
        counts[(unit_id, category)][submitted_at.astimezone(local).date()] += 1
    return {key: sorted(days.items()) for key, days in counts.items()}


def _examples(key: Key, start: datetime, end: datetime) -> list[dict[str, object]]:
    unit_id, category = key
    alerts = (
        _recovery_alerts(start, end)
        .filter(unit_id=unit_id, category=category)
        .select_related("response")
        .order_by("-response__submitted_at", "-id")
    )
    text_questions = set(Question.objects.filter(type=Question.Type.TEXT).values_list("survey_id", "key"))
    examples: list[dict[str, object]] = []
    seen: set[int] = set()
    for alert in alerts:
        response = alert.response
        if response.pk in seen:
            continue
        seen.add(response.pk)
        texts = [
            value.strip()
            for question, value in (response.answers or {}).items()
            if (response.survey_id, question) in text_questions and isinstance(value, str) and value.strip()
        ]
        if response.interviewer_notes.strip():
            texts.append(response.interviewer_notes.strip())
        text = " / ".join(texts)
        if len(text) > EXAMPLE_LENGTH:
            text = text[: EXAMPLE_LENGTH - 1] + "\u2026"
        examples.append({"response": response.pk, "text": text, "link": absolute_url("response", response.pk)})
        if len(examples) == MAX_EXAMPLES:
            break
    return examples


def _usual(baseline: float) -> str:
    return f"{baseline:.1f}".removesuffix(".0")


def _recipients(unit: Unit) -> list[Person]:
    keys = set(directory().tree.leads_of(unit.code))
    keys |= set(Role.objects.filter(role=Role.Kind.ADMIN).values_list("person__key", flat=True))
    people = directory().people_by_key(keys)
    return sorted((p for p in people.values() if p.active), key=lambda p: p.key)


def _announce(spike: SpikeAlert, now: datetime) -> None:
    unit = spike.unit
    message = make_message(
        "spike", {"spike": spike, "day": f"{spike.day:%a %d %b %Y}", "usual": _usual(spike.baseline)}
    )
    deliveries = []
    for person in _recipients(unit):
        common: dict[str, Any] = {
            "channel": "email",
            "subject": message.subject,
            "text": message.text,
            "now": now,
            "topic": "spike",
        }
        common |= {"idempotency_key": f"spike:{spike.pk}:{person.key}:email", "ref": f"spike:{spike.pk}"}
        if person.email:
            deliveries.append(planned(address=person.email, person=person, **common))
        else:
            deliveries.append(planned(person=person, skipped_because=f"no email address for {person.name}", **common))
    enqueue_all(deliveries)


def _record(day: date, found: list[Spike[Key]], now: datetime, window_days: int, zone: str) -> int:
    """Open and announce the new spikes, clear the open ones that are over; returns how many were announced."""
    open_spikes = {(s.unit_id, s.category): s for s in SpikeAlert.objects.filter(cleared_on__isnull=True)}
    found_keys = {spike.key for spike in found}
    over = [s.pk for key, s in open_spikes.items() if key not in found_keys]
    SpikeAlert.objects.filter(pk__in=over).update(cleared_on=day)
    start, end = _window(day, window_days, zone)
    units = Unit.objects.in_bulk([spike.key[0] for spike in found])
    announced = 0
    for spike in found:
        if spike.key in open_spikes:
            continue  # still the same spike: already announced
        unit_id, category = spike.key
        record = SpikeAlert.objects.create(
            unit=units[unit_id],
            category=category,
            day=day,
            count=spike.count,
            baseline=spike.baseline,
            examples=_examples(spike.key, start, end),
            created_at=now,
        )
        _announce(record, now)
        announced += 1
    return announced


def check_spikes(now: datetime) -> int:
    """The `spikes` worker step: check the day that ended last, once; returns 1 when it ran, else 0."""
    zone = current_organization().time_zone
    day = now.astimezone(ZoneInfo(zone)).date() - timedelta(days=1)
    if SpikeCheck.objects.filter(day=day).exists():
        return 0
    rules = SpikeSettings.load()
    try:
        with transaction.atomic():
            # The unique day makes concurrent workers agree on who checks it.
            check = SpikeCheck.objects.create(day=day, ran_at=now)
            found = detect_spikes(
                daily_counts(day, rules.window_days, rules.baseline_weeks, zone),
                day,
                rules.window_days,
                rules.baseline_weeks,
                rules.factor,
                rules.min_count,
            )
            check.spikes = _record(day, found, now, rules.window_days, zone)
            check.save(update_fields=["spikes"])
    except IntegrityError:
        return 0
    return 1
