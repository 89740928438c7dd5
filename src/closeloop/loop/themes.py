"""Complaint themes, the outer loop: what a period's unhappy customers talk about, and how that moved.

A complaint is the customer's own words in a response that needed recovery or that the text model heard
as unhappy (and not as praise: a low score with "Erin was wonderful" is no complaint about anything).
Two periods' complaints are grouped together (``textmodel.compare_periods``), so a theme is the same theme
in both; each theme gets its label, its count in each period, its rate per response, whether it jumped,
the units it came from and a few quotes.

Grouping needs every complaint's vector, one pass of the model per comment (tens a second; the model keeps
each comment's vector once per process), so a period is capped at its newest ``MAX_COMMENTS`` complaints.

Centring: the package centres comments on the direction all customer comments share (its prototypes'
mean), measured on small sets of several businesses. One organisation's complaints share more than that
(they are all about its own service): on the demo's month of complaints the prototype centre put all 126
of them in one theme, the complaints' own mean split them into what went wrong (installation no-shows,
speeds, billing...). So periods with at least ``OWN_CENTRE_MIN`` complaints are centred on their own mean.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from closeloop.alerts.text_judging import organization_examples, organization_judge
from closeloop.feedback.models import Response
from closeloop.notify.links import absolute_url
from closeloop.org.directory import current_organization
from closeloop.textmodel import Judge, Period, compare_periods, judge_status
from closeloop.textmodel.themes import MIN_INCREASE

MAX_COMMENTS = 300
OWN_CENTRE_MIN = 40
# The period before is a baseline only with at least a quarter as many responses as this one: against the
# few responses of a first day of data every theme would look new and jump.
BASELINE_SHARE = 0.25
QUOTES = 3
QUOTE_LENGTH = 300
# A theme's rate is "up" from a quarter more per response, "down" from a fifth less: enough to say which
# way it went without calling every wobble a trend (a jump, which alerts, is the package's stricter rule).
UP, DOWN = 1.25, 0.8


@dataclass(frozen=True)
class Complaint:
    response: int
    unit: str
    day: date
    text: str


@dataclass(frozen=True)
class Quote:
    response: int
    text: str
    url: str


@dataclass(frozen=True)
class ThemeRow:
    label: str
    count: int  # complaints in the period
    previous: int  # in the period before
    rate: float  # complaints per response
    previous_rate: float
    jumped: bool
    compared: bool  # the period before is a baseline (see BASELINE_SHARE): trends and jumps mean something
    units: tuple[tuple[str, int], ...]  # (unit code, complaints this period), most first
    quotes: tuple[Quote, ...]
    responses: tuple[int, ...]  # this period's responses in the theme, most central first

    @property
    def share(self) -> float:
        """Complaints in the theme per hundred responses of the period."""
        return round(100 * self.rate, 1)

    @property
    def previous_share(self) -> float:
        return round(100 * self.previous_rate, 1)

    @property
    def trend(self) -> str:
        """new | up | down | steady: how the theme's share of responses moved since the period before; "" when
        the period before is no baseline."""
        if not self.compared:
            return ""
        if not self.previous:
            return "new"
        if self.rate >= UP * self.previous_rate:
            return "up"
        if self.rate <= DOWN * self.previous_rate:
            return "down"
        return "steady"


@dataclass(frozen=True)
class ThemeReport:
    themes: list[ThemeRow]
    complaints: int
    previous_complaints: int
    responses: int
    previous_responses: int
    model: str
    fallback: bool  # the lexicon fallback's word vectors: themes only of comments that share words
    capped: bool  # a period had more complaints than were grouped

    @property
    def compared(self) -> bool:
        return comparable(self.previous_responses, self.responses)

    @property
    def jumped(self) -> list[ThemeRow]:
        return [theme for theme in self.themes if theme.jumped]


def comparable(previous_responses: int, responses: int) -> bool:
    """Whether a period of `previous_responses` is a baseline for one of `responses`."""
    return previous_responses > 0 and previous_responses >= BASELINE_SHARE * responses


def complaints_in(responses: QuerySet[Response], zone: str, limit: int = MAX_COMMENTS) -> tuple[list[Complaint], bool]:
    """The newest complaints among `responses` (at most `limit`), and whether there were more."""
    local = ZoneInfo(zone)
    label = "text_judgement__customer__label"
    rows = (
        responses.exclude(words="")
        .filter(Q(needs_recovery=True) | Q(**{label: "unhappy"}))
        # Spelled out for the rows without a judgement, which a plain NOT would drop (NULL is not "not praise").
        .filter(Q(**{f"{label}__isnull": True}) | ~Q(**{label: "praise"}))
        .order_by("-submitted_at", "-id")
        .values_list("id", "unit__code", "submitted_at", "words")[: limit + 1]
    )
    found = [
        Complaint(response=pk, unit=unit or "", day=submitted.astimezone(local).date(), text=" ".join(words.split()))
        for pk, unit, submitted, words in rows
    ]
    return found[:limit], len(found) > limit


def _quote(complaint: Complaint) -> Quote:
    text = complaint.text if len(complaint.text) <= QUOTE_LENGTH else complaint.text[: QUOTE_LENGTH - 1] + "\u2026"
    return Quote(response=complaint.response, text=text, url=absolute_url("response", complaint.response))


def compare_complaints(previous: QuerySet[Response], current: QuerySet[Response]) -> ThemeReport:
    """The themes of `current`'s complaints, with `previous` (the period before) to compare with."""
    organization = current_organization()
    zone = organization.time_zone
    before, capped_before = complaints_in(previous, zone)
    now, capped_now = complaints_in(current, zone)
    judge = organization_judge(organization)
    responses, previous_responses = current.count(), previous.count()
    # Two comments are the least a theme is made of.
    themes = _themes(judge, before, now, previous_responses, responses) if len(now) >= 2 else []
    return ThemeReport(
        themes=themes,
        complaints=len(now),
        previous_complaints=len(before),
        responses=responses,
        previous_responses=previous_responses,
        model=judge.model,
        fallback=judge_status(organization_examples(organization)).kind == "fallback",
        capped=capped_before or capped_now,
    )


def _themes(
    judge: Judge, before: Sequence[Complaint], now: Sequence[Complaint], previous_responses: int, responses: int
) -> list[ThemeRow]:
    texts = [c.text for c in before] + [c.text for c in now]
    vectors = judge.embed(texts)
    split = len(before)
    reference = None if len(texts) >= OWN_CENTRE_MIN else judge.reference
    changes = compare_periods(
        Period(texts=texts[:split], vectors=vectors[:split], responses=previous_responses or None),
        Period(texts=texts[split:], vectors=vectors[split:], responses=responses or None),
        reference=reference,
        embed=judge.embed,
    )
    compared = comparable(previous_responses, responses)
    rows = []
    for change in changes:
        if not change.current_members:
            continue  # a theme of the period before only: nothing to show for this period
        members = [now[i] for i in change.current_members]
        units = Counter(member.unit for member in members if member.unit)
        rows.append(
            ThemeRow(
                label=change.label,
                count=change.current,
                previous=change.previous,
                rate=change.current_rate,
                previous_rate=change.previous_rate,
                jumped=change.jumped and compared,
                compared=compared,
                units=tuple(sorted(units.items(), key=lambda item: (-item[1], item[0]))),
                quotes=tuple(_quote(member) for member in members[:QUOTES]),
                responses=tuple(member.response for member in members),
            )
        )
    # Those that jumped first, then the largest.
    rows.sort(key=lambda row: (not row.jumped, -row.count))
    return rows


def could_jump(current: QuerySet[Response]) -> bool:
    """Whether the period has enough complaints for any theme to jump (else nothing need be embedded)."""
    zone = current_organization().time_zone
    found, _ = complaints_in(current, zone, limit=MIN_INCREASE)
    return len(found) >= MIN_INCREASE


def period_responses(start: datetime, end: datetime) -> QuerySet[Response]:
    """The valid, current, routed responses submitted in [start, end)."""
    return Response.objects.filter(
        status=Response.Status.VALID,
        superseded_by__isnull=True,
        unit__isnull=False,
        submitted_at__gte=start,
        submitted_at__lt=end,
    )
