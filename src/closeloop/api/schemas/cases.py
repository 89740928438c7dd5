"""Input and output shapes of the /api/v1/cases endpoints (validation and the OpenAPI document)."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field


class CaseEventOut(Schema):
    id: int
    at: datetime.datetime
    type: str
    actor: str | None = Field(description="The person's config id; null for the system or a service token")
    actor_name: str
    data: dict[str, Any]


class EscalationToYouOut(Schema):
    level: int | None = Field(description="Your own level (1: one unit up); null when the step names you")
    when: str = Field(description="Why: not_viewed, not_contacted, overdue or closed_unresolved")
    reason: str
    at: datetime.datetime
    step: int


class CaseOut(Schema):
    id: int
    response: int
    template: str
    unit: str
    category: str
    severity: str
    tier: str | None
    status: str
    statuses: list[str]
    state: Literal["open", "closed"]
    opened_at: datetime.datetime
    due_at: datetime.datetime
    overdue: bool
    owner: str | None
    managers: list[str]
    members: list[str]
    viewed_at: datetime.datetime | None
    contacted_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    resolution: Literal["resolved", "unresolved"] | None
    root_cause: str | None = Field(description="Given when closing; null while open or when none was given")
    action_taken: str | None
    root_causes: list[str] = Field(description="The root causes the case can be closed with")
    escalation_level: int
    next_escalation_at: datetime.datetime | None
    satisfied_at: datetime.datetime | None = Field(
        None, description="When a resubmission showed the customer satisfied; pending escalations stopped then"
    )
    previous_case: int | None = Field(None, description="The customer's earlier case, for a repeat failure")
    escalated_to_you: EscalationToYouOut | None = Field(
        None, description="When the case was escalated to the token's person: at which level and why"
    )
    url: str
    events: list[CaseEventOut] | None = Field(None, description="The timeline, oldest first (detail only)")


class CasePageOut(Schema):
    items: list[CaseOut]
    count: int
    next: str | None
    count_estimated: bool = Field(
        False, description="true: `count` is the database's estimate (a list past 10,000 rows on PostgreSQL)"
    )


class CaseFilters(Schema):
    """The query parameters of `GET /api/v1/cases`."""

    state: Literal["open", "closed"] | None = None
    overdue: bool | None = Field(None, description="true: open past the closure goal now; false: not overdue")
    unit: str | None = Field(None, description="A unit code: that unit and every unit below it")
    mine: bool | None = Field(
        None, description="true: the cases the token's person owns, manages, works on or was escalated to"
    )
    page: int = Field(1, ge=1, description="50 cases a page, from 1")


class NoteIn(Schema):
    text: str = Field(min_length=1)
    spoke_to_customer: bool = False
    author: str | None = Field(
        None,
        description="A name to show the note as written on behalf of; the author is the token's person (a token "
        "without a person: the token, or the unit lead when no name is given)",
    )


class NoteOut(Schema):
    id: int
    at: datetime.datetime
    text: str
    spoke_to_customer: bool
    author: str
    on_behalf_of: str | None = Field(None, description="The name the writer gave, when it is not theirs")
    by: str | None


class NotePageOut(Schema):
    items: list[NoteOut]
    count: int
    next: str | None
    count_estimated: bool = Field(
        False, description="true: `count` is the database's estimate (a list past 10,000 rows on PostgreSQL)"
    )


class StatusIn(Schema):
    status: str
    resolution: Literal["resolved", "unresolved"] | None = None
    note: str | None = None
    root_cause: str | None = Field(
        None, description="When closing: one of the case template's `root_causes` (see the case's `root_causes`)"
    )
    action_taken: str | None = Field(None, description="When closing: what was done for the customer")
    spoke_to_customer: bool = Field(
        False, description="The note (or, without one, the action taken) records a conversation with the customer"
    )


class AssignIn(Schema):
    owner: str = Field(description="A person's config id")
