"""The `spikes` worker step: once a day, warn when one category of complaints jumps at one unit.

Only about one unhappy customer in 25 complains, so a handful more complaints than usual about one thing
at one place can stand for many silent customers. Each day the check counts the recovery alerts of the
day that has just ended (organisation's time zone) per unit and category, compares them with the same
weekday of earlier weeks (core.spikes.detect_spikes) and emails the unit's leads and the admins about
each new spike. A spike stays open while it lasts, so it is announced once, and clears on the first
checked day that is back to normal.

The same check follows complaint themes (closeloop.loop.themes): the week ending that day against the
week before, every unit together. A theme whose share of responses at least doubled, with at least three
more complaints, is announced to the admins and the leads of the units its complaints came from, once
while it goes on jumping. Grouping the week's complaints is done before the check's transaction: it takes
the text model seconds, and the check's transaction must not hold up the writers that long.
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
from closeloop.core.spikes import Spike, detect_spikes, same_theme
from closeloop.feedback.models import Question
from closeloop.feedback.queries import local_day_bounds
from closeloop.loop.models import SpikeAlert, SpikeCheck, ThemeSpike
from closeloop.loop.themes import ThemeRow, compare_complaints, could_jump, period_responses
from closeloop.notify.links import absolute_url
from closeloop.notify.outbox import enqueue_all, planned
from closeloop.notify.render import make_message
from closeloop.org.directory import current_organization, directory
from closeloop.org.models import Person, Role, Unit

MAX_EXAMPLES = 5
EXAMPLE_LENGTH = 300
# Themes are compared week on week: a week holds every weekday once, so a busy Monday is no jump.
THEME_WEEK_DAYS = 7

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


def jumping_themes(day: date, zone: str) -> list[ThemeRow]:
    """The complaint themes that jumped in the week ending `day` against the week before."""
    end = local_day_bounds(day, zone)[1]
    start = local_day_bounds(day - timedelta(days=THEME_WEEK_DAYS - 1), zone)[0]
    before = local_day_bounds(day - timedelta(days=2 * THEME_WEEK_DAYS - 1), zone)[0]
    current = period_responses(start, end)
    if not could_jump(current):
        return []
    return compare_complaints(period_responses(before, start), current).jumped


def _theme_recipients(units: list[str]) -> list[Person]:
    tree = directory().tree
    keys = {key for code in units for key in tree.leads_of(code)}
    keys |= set(Role.objects.filter(role=Role.Kind.ADMIN).values_list("person__key", flat=True))
    people = directory().people_by_key(keys)
    return sorted((p for p in people.values() if p.active), key=lambda p: p.key)


def _announce_theme(spike: ThemeSpike, now: datetime) -> None:
    message = make_message("theme_spike", {"spike": spike, "day": f"{spike.day:%a %d %b %Y}"})
    deliveries = []
    for person in _theme_recipients([code for code, _ in spike.units]):
        common: dict[str, Any] = {
            "channel": "email",
            "subject": message.subject,
            "text": message.text,
            "now": now,
            "topic": "theme-spike",
            "idempotency_key": f"theme-spike:{spike.pk}:{person.key}:email",
            "ref": f"theme-spike:{spike.pk}",
        }
        if person.email:
            deliveries.append(planned(address=person.email, person=person, **common))
        else:
            deliveries.append(planned(person=person, skipped_because=f"no email address for {person.name}", **common))
    enqueue_all(deliveries)


def _record_themes(day: date, jumped: list[ThemeRow], now: datetime) -> int:
    """Open and announce the themes that newly jumped, clear the open ones that no longer do."""
    open_spikes = list(ThemeSpike.objects.filter(cleared_on__isnull=True))
    going_on: set[int] = set()
    labels: set[str] = set()
    announced = 0
    for theme in jumped:
        same = next((s for s in open_spikes if same_theme(s.responses, theme.responses)), None)
        if same is not None:
            going_on.add(same.pk)  # still the same theme: already announced
            continue
        if theme.label in labels:
            continue  # two themes with one label on one day: the larger (first) speaks for both
        labels.add(theme.label)
        record = ThemeSpike.objects.create(
            day=day,
            label=theme.label[: ThemeSpike._meta.get_field("label").max_length],
            count=theme.count,
            previous=theme.previous,
            units=[list(pair) for pair in theme.units],
            examples=[{"response": q.response, "text": q.text, "link": q.url} for q in theme.quotes],
            responses=list(theme.responses),
            created_at=now,
        )
        _announce_theme(record, now)
        announced += 1
    ThemeSpike.objects.filter(pk__in=[s.pk for s in open_spikes if s.pk not in going_on]).update(cleared_on=day)
    return announced


def check_spikes(now: datetime) -> int:
    """The `spikes` worker step: check the day that ended last, once; returns 1 when it ran, else 0."""
    zone = current_organization().time_zone
    day = now.astimezone(ZoneInfo(zone)).date() - timedelta(days=1)
    if SpikeCheck.objects.filter(day=day).exists():
        return 0
    themes = jumping_themes(day, zone)
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
            check.spikes = _record(day, found, now, rules.window_days, zone) + _record_themes(day, themes, now)
            check.save(update_fields=["spikes"])
    except IntegrityError:
        return 0
    return 1
