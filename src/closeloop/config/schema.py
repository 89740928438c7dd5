"""The configuration file's shape, one pydantic model per entry.

Each model checks what one entry can check on its own (types, allowed words, durations,
time zones, formats). References between entries are checked in `validate.py`.
Selectors (`unit_leads`, `{person: ID}`, `{level: N}`) and condition trees are kept as
plain data here and checked there too, so their messages name the exact place.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator
from pydantic_core import PydanticCustomError

from closeloop.core.durations import BadDuration, parse_duration
from closeloop.core.hosts import host_problem
from closeloop.core.text import DEFAULT_LANGUAGE, stemmer_languages
from closeloop.core.vocabulary import DEFAULT_ROOT_CAUSES, SEVERITIES, TRIGGERS_WITH_DELAY

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CASE_EVENTS = ("opened", "viewed", "note", "status", "assigned", "escalated", "notified", "closed", "reopened", "moved")


def _problem(message: str, at: str | None = None) -> PydanticCustomError:
    """A problem with our own wording; `at` names the field of the entry it is about."""
    return PydanticCustomError("closeloop", message, {"at_field": at} if at else None)


def _check_key(value: str) -> str:
    # Keys end up in URLs, usernames and unit paths ("/ROOT/CHILD/"), so they stay plain.
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.@+-]*", value):
        raise _problem(f"{value!r} is not a key: use letters, digits and _ . @ + - (no spaces or slashes)")
    return value


def _check_duration(value: str) -> str:
    try:
        parse_duration(value)
    except BadDuration as exc:
        raise _problem(str(exc)) from None
    return value


def _check_host(value: str) -> str:
    problem = host_problem(value)
    if problem:
        raise _problem(problem)
    return value.strip().lower()


def _check_clock(value: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise _problem(f'{value!r} is not a time like "09:00" (HH:MM, in quotes)')
    return value


def _check_time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise _problem(f"unknown time zone {value!r} (use an IANA name such as Europe/London)") from None
    return value


def _check_country(value: str) -> str:
    if value not in holidays.list_supported_countries():
        raise _problem(f"unknown holidays country {value!r} (use a code such as US, GB or IE)")
    return value


def _check_email(value: str) -> str:
    if not value:
        return value
    try:
        validate_email(value)
    except DjangoValidationError:
        raise _problem(f"{value!r} is not an email address") from None
    return value


def _check_phone(value: str) -> str:
    if value and not re.fullmatch(r"\+?[0-9][0-9 ()-]{3,}[0-9]", value):
        raise _problem(f'{value!r} is not a phone number like "+15555550101"')
    return value


def _check_apprise_url(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9+.-]*://\S+", value):
        raise _problem(f"{value!r} is not an Apprise URL like slack://TOKEN_A/TOKEN_B/TOKEN_C")
    return value


def _check_http_url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+\S*", value):
        raise _problem(f"{value!r} is not an http:// or https:// URL")
    return value


def _check_webhook_secret(value: str) -> str:
    encoded = value.removeprefix("whsec_")
    try:
        valid = value.startswith("whsec_") and len(base64.b64decode(encoded, validate=True)) >= 16
    except (binascii.Error, ValueError):
        valid = False
    if not valid:
        raise _problem("must be whsec_ followed by at least 16 bytes in base64, as Standard Webhooks defines")
    return value


Key = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_check_key)]
Text = Annotated[str, Field(min_length=1, max_length=200)]
Duration = Annotated[str, AfterValidator(_check_duration)]
Clock = Annotated[str, AfterValidator(_check_clock)]
TimeZone = Annotated[str, AfterValidator(_check_time_zone)]
# Spelled out for the type checker; tests/config checks each against closeloop.core.vocabulary.
Severity = Literal["low", "normal", "high", "urgent"]
Channel = Literal["email", "sms", "chat", "webhook"]
AlertKind = Literal["recovery", "praise", "watch"]
QuestionType = Literal["scale", "nps", "yes_no", "choice", "multi_choice", "text"]
EscalationTrigger = Literal["not_viewed", "not_contacted", "overdue", "closed_unresolved"]
WebhookEvent = Literal["alert.created", "case.opened", "case.status", "case.escalated", "case.closed", "case.reopened"]


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CalendarSpec(Entry):
    days: Annotated[list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]], Field(min_length=1)]
    start: Clock
    end: Clock
    holidays: Annotated[str, AfterValidator(_check_country)] | None = None

    @model_validator(mode="after")
    def _end_after_start(self) -> CalendarSpec:
        if self.end <= self.start:
            raise _problem(f"end {self.end} must be after start {self.start}", "end")
        if len(set(self.days)) != len(self.days):
            raise _problem("days lists a weekday twice", "days")
        return self


class OrganizationSpec(Entry):
    name: Text
    time_zone: TimeZone = "UTC"
    ticket_url: Annotated[str, Field(max_length=500)] = ""
    recovery_threshold: float = 6
    repeat_window: Duration = "90d"
    alert_max_age: Duration = "7d"
    alert_max_age_for: Literal["files", "everywhere"] = "files"
    segment_required: bool = False
    threshold_unless: Literal["any_rule", "recovery_rule"] = "any_rule"
    # Hosts whose https addresses an `audio_url` (from the API or a file) may link to in messages and pages.
    audio_hosts: list[Annotated[str, AfterValidator(_check_host)]] = []
    calendars: dict[Key, CalendarSpec] = {}

    @model_validator(mode="after")
    def _ticket_placeholder(self) -> OrganizationSpec:
        if self.ticket_url and "{ticket}" not in self.ticket_url:
            raise _problem("ticket_url needs {ticket} where the ticket number goes", "ticket_url")
        return self

    @model_validator(mode="after")
    def _some_alert_age(self) -> OrganizationSpec:
        if parse_duration(self.alert_max_age).total_seconds() <= 0:
            raise _problem("must be longer than 0s: with 0s no response would ever alert", "alert_max_age")
        return self


class UnitSpec(Entry):
    code: Key
    name: Text
    time_zone: TimeZone | None = None
    calendar: str | None = None
    # Checked node by node in validate.py, so one bad child does not hide its siblings.
    children: list[Any] = []


class RoleSpec(Entry):
    unit: str
    role: Literal["lead", "also_alert", "member", "admin"]


class PersonSpec(Entry):
    id: Key
    name: Text
    email: Annotated[str, AfterValidator(_check_email)] = ""
    phone: Annotated[str, AfterValidator(_check_phone)] = ""
    chat: Annotated[str, Field(max_length=500), AfterValidator(_check_apprise_url)] | None = None
    login: bool = False
    roles: list[RoleSpec] = []


class QuestionSpec(Entry):
    key: Key
    type: QuestionType
    label: Annotated[str, Field(max_length=500)] = ""
    min: float | None = None
    max: float | None = None
    options: list[Annotated[str, Field(min_length=1)]] = []

    @model_validator(mode="after")
    def _fits_its_type(self) -> QuestionSpec:
        if self.type == "scale":
            if self.min is None or self.max is None:
                raise _problem("a scale question needs min and max", "min" if self.min is None else "max")
            if self.min >= self.max:
                raise _problem(f"min ({self.min:g}) must be below max ({self.max:g})", "min")
        elif self.min is not None or self.max is not None:
            range_note = "an nps question is always 0..10" if self.type == "nps" else f"a {self.type} question"
            raise _problem(
                f"min and max are only for scale questions ({range_note})", "min" if self.min is not None else "max"
            )
        if self.type in ("choice", "multi_choice"):
            if not self.options:
                raise _problem(f"a {self.type} question needs options", "options")
            if len(set(self.options)) != len(self.options):
                raise _problem("options lists a value twice", "options")
        elif self.options:
            raise _problem("options are only for choice and multi_choice questions", "options")
        return self


def _check_language(value: str) -> str:
    if value not in stemmer_languages():
        known = ", ".join(sorted(stemmer_languages()))
        raise _problem(f"unknown language {value!r}; use an ISO 639-1 code with a stemmer: {known}")
    return value


class SurveySpec(Entry):
    key: Key
    name: Text
    overall: str | None = None
    # In the overall question's own scale (checked in validate.py, which knows the questions).
    recovery_threshold: float | None = None
    language: Annotated[str, AfterValidator(_check_language)] = DEFAULT_LANGUAGE
    questions: list[Any] = Field(min_length=1)


# Channels used for a severity the rule's `channels` leaves out.
DEFAULT_CHANNELS: dict[str, list[str]] = {
    "low": ["email"],
    "normal": ["email"],
    "high": ["email", "sms"],
    "urgent": ["email", "sms"],
}


class NotifySpec(Entry):
    to: list[Any] = ["unit_leads", "unit_also_alerts"]
    channels: dict[Severity, list[Channel]] = {}
    mode: Literal["immediate", "digest"] = "immediate"

    def stored(self) -> dict[str, Any]:
        """The form kept on the rule: every severity spelled out, so readers need no defaults."""
        chosen: dict[str, list[Channel]] = {str(severity): list(ways) for severity, ways in self.channels.items()}
        channels = {severity: list(chosen.get(severity, DEFAULT_CHANNELS[severity])) for severity in SEVERITIES}
        return {"to": list(self.to), "channels": channels, "mode": self.mode}


class RuleSpec(Entry):
    key: Key
    name: Text
    kind: AlertKind
    survey: str | None = None
    when: Any
    category: Text
    severity: Severity = "normal"
    notify: NotifySpec = NotifySpec()
    open_case: str | None = None


class TeamSpec(Entry):
    managers: list[Any] = ["unit_leads"]
    members: list[Any] = ["unit_members"]


class SlaSpec(Entry):
    severity: Severity
    closure_goal: Duration


class StatusSpec(Entry):
    """A status written as a mapping: `{name: Contacted, contacted: true}`."""

    name: Text
    contacted: bool = False


# Which form a status is written in; the tags stay out of problem paths (see validate.py).
UNION_TAGS = frozenset({"status name", "status mapping"})
Status = Annotated[
    Annotated[Text, Tag("status name")] | Annotated[StatusSpec, Tag("status mapping")],
    Discriminator(lambda value: "status mapping" if isinstance(value, dict | StatusSpec) else "status name"),
]


class CaseTemplateSpec(Entry):
    key: Key
    category: Text
    # A plain name, or a mapping for a status that says more about the case (`contacted`).
    statuses: Annotated[list[Status], Field(min_length=2)]
    root_causes: Annotated[list[Text], Field(min_length=1, max_length=50)] = list(DEFAULT_ROOT_CAUSES)
    team: TeamSpec = TeamSpec()
    sla: dict[Annotated[str, Field(min_length=1, max_length=50)], SlaSpec] = {}
    calendar: str | None = None
    notify_on: list[
        Literal[
            "opened", "viewed", "note", "status", "assigned", "escalated", "notified", "closed", "reopened", "moved"
        ]
    ] = []
    escalation: str | None = None
    auto_close_on_recovered: bool = False

    @property
    def status_names(self) -> list[str]:
        return [status if isinstance(status, str) else status.name for status in self.statuses]

    @property
    def contacted_statuses(self) -> list[str]:
        return [status.name for status in self.statuses if isinstance(status, StatusSpec) and status.contacted]

    @model_validator(mode="after")
    def _distinct_statuses(self) -> CaseTemplateSpec:
        names = self.status_names
        if len(set(names)) != len(names):
            raise _problem("statuses lists a status twice", "statuses")
        if len({cause.casefold() for cause in self.root_causes}) != len(self.root_causes):
            raise _problem("root_causes lists a root cause twice", "root_causes")
        return self


class StepSpec(Entry):
    when: EscalationTrigger
    after: Duration | None = None
    notify: Annotated[list[Any], Field(min_length=1)]

    @model_validator(mode="after")
    def _delay_fits_trigger(self) -> StepSpec:
        if self.when not in TRIGGERS_WITH_DELAY and self.after is not None:
            raise _problem(f"after does not apply to {self.when}: that step fires as soon as it happens", "after")
        if self.when in TRIGGERS_WITH_DELAY and self.after is None:
            raise _problem(f"{self.when} needs after, e.g. after: 24h", "after")
        return self


class EscalationPolicySpec(Entry):
    key: Key
    steps: Annotated[list[StepSpec], Field(min_length=1)]


class DigestSpec(Entry):
    key: Key
    units: Annotated[list[str], Field(min_length=1)]
    at: Clock
    window: Duration = "24h"
    to: list[Any] = ["unit_leads"]
    sms: bool = True
    email_pdf: bool = True
    weekend_sms: bool = True
    when_empty: Literal["skip", "send"] = "skip"
    report_per: Literal["person", "unit"] = "person"


Weekday = Literal[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mon",
    "tue",
    "wed",
    "thu",
    "fri",
    "sat",
    "sun",
]


class SummarySpec(Entry):
    """A weekly programme summary: each unit (with its subtree) gets its own email on `day` at `at`."""

    key: Key
    units: Annotated[list[str], Field(min_length=1)]
    day: Weekday = "monday"
    at: Clock
    to: list[Any] = ["unit_leads"]
    themes: Annotated[int, Field(ge=0)] = 5

    @property
    def weekday(self) -> int:
        """0 Monday .. 6 Sunday."""
        return WEEKDAYS.index(self.day[:3])


class FollowUpSpec(Entry):
    after_close: Duration
    survey: str


class WebhookSpec(Entry):
    key: Key
    url: Annotated[str, Field(max_length=1000), AfterValidator(_check_http_url)]
    secret: Annotated[str, Field(max_length=200), AfterValidator(_check_webhook_secret)]
    kinds: list[AlertKind] = []
    units: list[str] = []
    events: list[WebhookEvent] = []


class TextModelSpec(Entry):
    """The `text_model` section: the organisation's own example sentences for the text model.

    `examples` is checked by closeloop.textmodel.example_problems (in validate.py), which names each
    sentence's place."""

    examples: Any = None


# The file's sections in the contract's order (summaries, an addition, beside digests); export writes them
# in this order too.
SECTIONS = (
    "organization",
    "units",
    "segments",
    "people",
    "surveys",
    "rules",
    "case_templates",
    "escalation_policies",
    "digests",
    "summaries",
    "follow_up",
    "webhooks",
    "sources",
    "text_model",
)
LIST_SECTIONS: dict[str, type[Entry]] = {
    "people": PersonSpec,
    "rules": RuleSpec,
    "case_templates": CaseTemplateSpec,
    "escalation_policies": EscalationPolicySpec,
    "digests": DigestSpec,
    "webhooks": WebhookSpec,
    "summaries": SummarySpec,
}
# The field that identifies an entry of each list section.
ID_FIELDS = {
    "units": "code",
    "people": "id",
    "surveys": "key",
    "rules": "key",
    "case_templates": "key",
    "escalation_policies": "key",
    "digests": "key",
    "webhooks": "key",
    "sources": "key",
    "summaries": "key",
}
