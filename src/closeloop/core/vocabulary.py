"""The words the product is configured and spoken in, defined once: severities, alert kinds, channels,
question types, escalation triggers, srn codes, and what counts as yes, no and a number.

Validation (the configuration file, the API, file imports) and evaluation (rules) read these, so they
can never disagree on what a severity, a yes or a number is. Pure.
"""

from __future__ import annotations

import math
from enum import StrEnum
from numbers import Real


class Severity(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


# Lowest first: "one step more severe" is the next one.
SEVERITIES: tuple[str, ...] = tuple(Severity)


class AlertKind(StrEnum):
    RECOVERY = "recovery"  # an unhappy customer to win back: opens a case
    PRAISE = "praise"  # a "magical moment" for the team
    WATCH = "watch"  # worth knowing (product feedback), no recovery


ALERT_KINDS: tuple[str, ...] = tuple(AlertKind)


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    CHAT = "chat"
    WEBHOOK = "webhook"


CHANNELS: tuple[str, ...] = tuple(Channel)


class QuestionType(StrEnum):
    SCALE = "scale"
    NPS = "nps"
    YES_NO = "yes_no"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    TEXT = "text"


QUESTION_TYPES: tuple[str, ...] = tuple(QuestionType)
NUMERIC_QUESTION_TYPES = frozenset({QuestionType.SCALE.value, QuestionType.NPS.value})
WORDED_QUESTION_TYPES = frozenset({QuestionType.CHOICE.value, QuestionType.MULTI_CHOICE.value, QuestionType.TEXT.value})


class EscalationTrigger(StrEnum):
    NOT_VIEWED = "not_viewed"
    NOT_CONTACTED = "not_contacted"
    OVERDUE = "overdue"
    CLOSED_UNRESOLVED = "closed_unresolved"


ESCALATION_TRIGGERS: tuple[str, ...] = tuple(EscalationTrigger)
# Triggers counted from the case's opening, so they need an `after`; the others fire at a moment of their own.
TRIGGERS_WITH_DELAY = frozenset({EscalationTrigger.NOT_VIEWED.value, EscalationTrigger.NOT_CONTACTED.value})


class WebhookEvent(StrEnum):
    """What a webhook endpoint may subscribe to (`webhooks[].events`); without a list, alerts only."""

    ALERT_CREATED = "alert.created"
    CASE_OPENED = "case.opened"
    CASE_STATUS = "case.status"
    CASE_ESCALATED = "case.escalated"
    CASE_CLOSED = "case.closed"
    CASE_REOPENED = "case.reopened"


WEBHOOK_EVENTS: tuple[str, ...] = tuple(WebhookEvent)
DEFAULT_WEBHOOK_EVENTS: tuple[str, ...] = (WebhookEvent.ALERT_CREATED.value,)
# What a case manager picks from when closing, unless the case's template lists its own root causes.
DEFAULT_ROOT_CAUSES: tuple[str, ...] = ("Product", "Process", "People", "Price", "Other")


class Srn(StrEnum):
    """The service-recovery filter of the responses list, report and notes dialog (seed 003)."""

    ALL = "y"
    NEEDS_RECOVERY = "r"
    NO_NOTES = "x"  # needing recovery, without any note
    WITH_NOTES = "w"
    NOT_SPOKEN_TO = "v"  # with notes, none of which spoke to the customer
    SPOKEN_TO = "s"  # at least one note spoke to the customer
    WITHOUT_NOTES = "n"  # all responses, their notes not shown ("srn=n tells not to show the notes")


def shows_notes(srn: str) -> bool:
    """Whether a list or report asked for with this `srn` shows the responses' notes (all but `n` do)."""
    return srn != Srn.WITHOUT_NOTES


SRN_CODES: tuple[str, ...] = tuple(Srn)

# How people write yes and no in files, APIs and rule conditions.
TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "0"})


def is_number(value: object) -> bool:
    """A finite real number; `True` is an int to Python but not a score. Integers are always finite (one
    too large for a float is a number, which comparisons then refuse to treat as a score)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        return False
    if isinstance(value, int):
        return True
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def yes_no(value: object) -> bool | None:
    """True, False, or None when `value` is not a yes/no answer (bool, 0/1, or a yes/no word)."""
    if isinstance(value, bool):
        return value
    if is_number(value) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().casefold()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return None
