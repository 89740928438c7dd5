"""What an escalation tells the person it reaches: the customer and their words, what was missed and by how
much, who was responsible and what they have done so far, and the person's own level.

The facts are gathered once per step (`escalation_facts`); each recipient's email and SMS are rendered from
them with that recipient's level (`escalation_email`, `escalation_sms`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from closeloop.alerts.messages import Contact, answer_lines, contact_of, contact_withheld, overall_score, web_link
from closeloop.cases.models import Case, CaseEvent
from closeloop.cases.notifications import case_link, team_of
from closeloop.core.escalation import CaseClock, Step, step_deadline
from closeloop.core.moments import format_moment
from closeloop.notify.channels.sms import SMS_MAX_CHARS, fit_sms
from closeloop.notify.links import absolute_url
from closeloop.notify.render import Message, make_message
from closeloop.org.directory import current_organization, directory

# Why the step fired, in the words of the message ("... because nobody in the team has opened it").
REASONS = {
    "not_viewed": "nobody in the team has opened it",
    "not_contacted": "nobody has spoken to the customer yet",
    "overdue": "it is past its closure goal and still open",
    "closed_unresolved": "it was closed without resolving the customer's problem",
}
# The step in a few words, for the SMS and the subject.
STEP_NAMES = {
    "not_viewed": "not viewed",
    "not_contacted": "not contacted",
    "overdue": "overdue",
    "closed_unresolved": "closed unresolved",
}


def span(delta: timedelta) -> str:
    """A duration as people say it: "45 min", "3 h 20 min", "2 d 4 h"; never negative."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


@dataclass(frozen=True)
class Activity:
    """What the responsible people have done about the case so far."""

    viewed: str  # "yes, by Erin Diaz on Mon 23 Nov 10:12" or "no"
    contacted: str
    last_note: str  # "Erin Diaz on ...: (Spoke? No) Left a voicemail." or ""


@dataclass(frozen=True)
class EscalationFacts:
    case: Case
    when: str
    step_name: str
    reason: str
    deadline: str  # the instant that was missed, in the unit's time zone
    missed_by: str  # how long ago that was
    closure: str  # the closure deadline and whether it has passed
    customer: str
    tier: str
    score: str
    words: list[str]
    contact: Contact | None
    contact_withheld: bool
    ticket: str
    ticket_url: str
    unit: str
    responsible: list[str]
    activity: Activity
    case_url: str
    previous_case_url: str
    level: int | None = None

    def for_level(self, level: int | None) -> EscalationFacts:
        return replace(self, level=level)


def _local(instant: datetime, zone: ZoneInfo, now: datetime) -> str:
    # Written for people, as every message writes times (the year only when it is not this year's).
    return format_moment(instant, zone, now=now)


def _activity(case: Case, zone: ZoneInfo, now: datetime) -> Activity:
    first_view = (
        CaseEvent.objects.filter(case=case, type=CaseEvent.Type.VIEWED, data__team=True)
        .select_related("actor")
        .order_by("at", "id")
        .first()
    )
    viewed = "no"
    if case.viewed_at is not None:
        who = first_view.actor.name if first_view is not None and first_view.actor is not None else "the team"
        viewed = f"yes, by {who} on {_local(case.viewed_at, zone, now)}"
    contacted = "no"
    if case.contacted_at is not None:
        contacted = f"yes, on {_local(case.contacted_at, zone, now)}"
    note = CaseEvent.objects.filter(case=case, type=CaseEvent.Type.NOTE).order_by("-at", "-id").first()
    last_note = ""
    if note is not None:
        data = note.data or {}
        spoke = "Yes" if data.get("spoke_to_customer") else "No"
        author = note.byline or "someone"
        last_note = f"{author} on {_local(note.at, zone, now)} (Spoke? {spoke}): {data.get('text', '')}"
    return Activity(viewed=viewed, contacted=contacted, last_note=last_note)


def escalation_facts(case: Case, step: Step, clock: CaseClock, now: datetime) -> EscalationFacts:
    """Everything an escalation message about `step` of `case` says, at the moment it fires."""
    zone = ZoneInfo(directory().time_zone_of(case.unit))
    response = case.response
    customer = response.customer
    deadline = step_deadline(step, clock) or now
    if step.when == "closed_unresolved":
        missed = f"closed as unresolved on {_local(deadline, zone, now)}"
        missed_by = ""
    else:
        missed = _local(deadline, zone, now)
        # A worker that fires on time has nothing to add; one that catches up says how late this is.
        missed_by = span(now - deadline) if now - deadline >= timedelta(minutes=1) else ""
    if case.state == Case.State.CLOSED:
        closure = f"due {_local(case.due_at, zone, now)}; closed {_local(case.closed_at or now, zone, now)}"
    elif case.due_at <= now:
        closure = f"due {_local(case.due_at, zone, now)}: overdue by {span(now - case.due_at)}"
    else:
        closure = f"due {_local(case.due_at, zone, now)} (in {span(case.due_at - now)})"
    responsible = [case.owner.name] if case.owner is not None else []
    responsible += [person.name for person in case.managers.all() if person.name not in responsible]
    organization = current_organization()
    return EscalationFacts(
        case=case,
        when=step.when,
        step_name=STEP_NAMES.get(step.when, step.when),
        reason=REASONS.get(step.when, step.when),
        deadline=missed,
        missed_by=missed_by,
        closure=closure,
        # The name only with the consent this response has: the id otherwise.
        customer=((response.contact_ok and response.customer_name) or customer.external_id) if customer else "",
        tier=case.tier,
        score=overall_score(response),
        words=[line.value for line in answer_lines(response) if line.is_text],
        contact=contact_of(response),
        contact_withheld=contact_withheld(response),
        ticket=response.ticket,
        ticket_url=web_link(organization.ticket_link(response.ticket)),
        unit=f"{case.unit.name} ({case.unit.code})",
        responsible=responsible or [person.name for person in team_of(case)],
        activity=_activity(case, zone, now),
        case_url=case_link(case),
        previous_case_url=absolute_url("case", case.previous_case_id) if case.previous_case_id else "",
    )


def escalation_email(facts: EscalationFacts) -> Message:
    """The email for one recipient (`facts.level` is theirs)."""
    return make_message("escalation", {"facts": facts, "case": facts.case})


def escalation_sms(facts: EscalationFacts) -> str:
    """One or two SMS segments: the case, the customer, what was missed, the recipient's level and the link."""
    text = make_message("escalation_sms", {"facts": facts, "case": facts.case}).text
    link = facts.case_url
    return fit_sms(text, SMS_MAX_CHARS - len(link) - 1) + " " + link
