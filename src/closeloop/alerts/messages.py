"""What an alert says, per channel: email (text + HTML), SMS, webhook JSON and chat markdown.

The customer's own words come first, because that is what the responsible person needs
to decide how to call back; interviewer notes are shown apart and labelled as such, never
quoted as the customer's. Contact details (name, email, phone) and the recording appear only
when the customer agreed to be contacted (`contact_ok`), on every channel.

One message can tell about several alerts of one response (closeloop.alerts.planning sends each
person one message per channel and response): the first alert leads (subject, severity), and
every alert is listed with its rule and category.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.html import escape

from closeloop.alerts.models import Alert
from closeloop.alerts.serialize import alert_fields
from closeloop.alerts.text_judging import heard_for_alerts
from closeloop.core.hosts import defanged
from closeloop.core.moments import format_moment
from closeloop.core.rules import THRESHOLD_RULE_KEY, threshold_rule
from closeloop.core.vocabulary import SEVERITIES
from closeloop.feedback.models import Question, Response
from closeloop.feedback.recordings import has_recording, recording_token
from closeloop.feedback.schemas import customer_body
from closeloop.notify.channels.sms import SMS_MAX_CHARS, fit_sms
from closeloop.notify.links import absolute_url
from closeloop.notify.render import make_message
from closeloop.org.directory import current_organization, directory
from closeloop.org.models import Person


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AnswerLine:
    key: str
    label: str
    value: str
    is_text: bool


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    phone: str

    @property
    def mailto(self) -> str:
        return "mailto:" + quote(self.email, safe="@+")

    @property
    def tel(self) -> str:
        return "tel:" + "".join(ch for ch in self.phone if ch.isdigit() or ch == "+")


@dataclass(frozen=True)
class AlertReason:
    """One alert as a message lists it: which rule fired, in which category, how severe."""

    rule: str
    category: str
    severity: str
    kind: str
    repeat: bool


KIND_ORDER = ("recovery", "watch", "praise")


def lead_first(alerts: Sequence[Alert]) -> list[Alert]:
    """The alerts of one message, the one it leads with first: the most severe, a recovery before a
    watch before praise, then in the order they were raised."""

    def rank(alert: Alert) -> tuple[int, int, int]:
        severity = SEVERITIES.index(alert.severity) if alert.severity in SEVERITIES else 0
        kind = KIND_ORDER.index(alert.kind) if alert.kind in KIND_ORDER else len(KIND_ORDER)
        return (-severity, kind, alert.pk or 0)

    return sorted(alerts, key=rank)


def rule_name(alert: Alert) -> str:
    if alert.rule is not None and alert.rule.name:
        return alert.rule.name
    if alert.rule_key == THRESHOLD_RULE_KEY:
        return threshold_rule(0).name
    return alert.rule_key


def reason_of(alert: Alert) -> AlertReason:
    return AlertReason(rule_name(alert), alert.category, alert.severity, alert.kind, alert.repeat)


def recording_link(response: Response, person: Person | None) -> str:
    """An expiring, signed link to the uploaded recording, for one recipient (None: a webhook endpoint)."""
    return absolute_url("recording-link", recording_token(response.pk, person.key if person else ""))


def web_link(url: str) -> str:
    """`url` if it is http(s); anything else (javascript:, data:) must never become a link."""
    return url if url.lower().startswith(("https://", "http://")) else ""


def response_url(response: Response) -> str:
    return absolute_url("response", response.id)


def format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def format_answer(question: Question | None, value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, int | float):
        top = (
            10 if question is not None and question.type == Question.Type.NPS else (question.max if question else None)
        )
        return f"{format_number(value)}/{format_number(top)}" if top is not None else format_number(value)
    return str(value)


def answer_lines(response: Response) -> list[AnswerLine]:
    """Every answer with its question's label, in the survey's order."""
    questions = {q.key: q for q in response.survey.questions.all()}
    ordered = [key for key in questions if key in response.answers]
    ordered += [key for key in response.answers if key not in questions]
    lines = []
    for key in ordered:
        value = response.answers[key]
        if value is None or value == "" or value == []:
            continue
        question = questions.get(key)
        lines.append(
            AnswerLine(
                key=key,
                label=(question.label if question and question.label else key),
                value=format_answer(question, value),
                is_text=bool(question and question.type == Question.Type.TEXT),
            )
        )
    return lines


def overall_score(response: Response) -> str:
    if response.overall is None:
        return ""
    # From the survey's (usually prefetched) questions: rendering runs once per message.
    question = next((q for q in response.survey.questions.all() if q.key == response.survey.overall), None)
    return format_answer(question, response.overall)


def contact_of(response: Response) -> Contact | None:
    """The customer's details as this response gave them, only with the consent this response has."""
    if response.customer is None or not response.contact_ok:
        return None
    return Contact(name=response.customer_name, email=response.customer_email, phone=response.customer_phone)


def contact_withheld(response: Response) -> bool:
    """The response names a customer who has not agreed (here) to be contacted."""
    return response.customer is not None and not response.contact_ok


def alert_subject(alert: Alert, response: Response, score: str, categories: Sequence[str] = ()) -> str:
    """E.g. "[URGENT] Recovery: SUP-EMEA – 2/10 – Installation issues"; with several alerts every category,
    the leading alert's first: "... – At-risk customer + Installation issues"."""
    named = " + ".join(dict.fromkeys([alert.category, *categories]))
    details = " – ".join(part for part in (alert.unit.code if alert.unit else "", score, named) if part)
    if alert.kind == "praise":
        agent = response.agent.name if response.agent else ""
        if not agent and response.agent_code:
            # An id nobody is known by: the leads get the praise, with the name to pass it on to.
            agent = f"{response.agent_code} (not a known person)"
        return f"Kudos for {agent}: {details}" if agent else f"Kudos: {details}"
    return f"[{alert.severity.upper()}] {alert.kind.capitalize()}: {details}"


def when_for_people(instant: datetime, response: Response) -> str:
    """An instant in the response's unit's time zone, as people read it ("Thu 3 Dec, 17:00 CET")."""
    return format_moment(instant, directory().time_zone_of(response.unit), now=timezone.now())


def audio_link(response: Response, person: Person | None) -> str:
    """Where a recipient can listen: the uploaded recording (a signed, expiring link) or the recording's own
    address elsewhere when it is https on its source's allow-list; nothing without the customer's consent."""
    if response.customer is None or not response.contact_ok:
        return ""
    if has_recording(response):
        return recording_link(response, person)
    return web_link(response.audio_url) if response.audio_url_allowed else ""


def audio_unlinked(response: Response) -> str:
    """A recording address that is not made a link (not https on its source's allow-list), written so that
    no mail or chat client links it either; "" when there is none. A sender cannot put a link to anywhere
    in closeloop's messages."""
    if not response.audio_url or not response.contact_ok or response.audio_url_allowed or has_recording(response):
        return ""
    return defanged(response.audio_url)


def alert_context(alert: Alert, person: Person | None) -> dict[str, Any]:
    return alerts_context([alert], person)


def alerts_context(alerts: Sequence[Alert], person: Person | None) -> dict[str, Any]:
    """What a message about `alerts` (all of one response, the leading one first) says to `person`."""
    return for_recipient(shared_context(alerts), person)


def for_recipient(shared: dict[str, Any], person: Person | None) -> dict[str, Any]:
    """A message's shared context with what is the recipient's own: their name and their recording link."""
    return {**shared, "person": person, "audio_url": audio_link(shared["response"], person)}


def shared_context(alerts: Sequence[Alert]) -> dict[str, Any]:
    """What a message about `alerts` says to whoever receives it (see `for_recipient`)."""
    alert = alerts[0]
    response = alert.response
    organization = current_organization()
    answers = answer_lines(response)
    score = overall_score(response)
    customer = response.customer
    return {
        "alert": alert,
        "alerts": list(alerts),
        "reasons": [reason_of(each) for each in alerts],
        "response": response,
        "organization": organization,
        "subject": alert_subject(alert, response, score, [each.category for each in alerts[1:]]),
        "score": score,
        "unit": alert.unit,
        "agent": response.agent,
        "agent_code": response.agent_code,
        "submitted": when_for_people(response.submitted_at, response),
        "verbatim": [line.value for line in answers if line.is_text],
        # What the text model heard, for the alerts a `text` condition raised: the sentence that weighed most.
        "text_heard": heard_for_alerts(response, [each.rule for each in alerts]),
        "answers": answers,
        "interviewer_notes": response.interviewer_notes,
        "contact": contact_of(response),
        "customer_id": customer.external_id if customer else "",
        "customer_tier": customer.tier if customer else "",
        "contact_withheld": contact_withheld(response),
        "ticket": response.ticket,
        "ticket_url": web_link(organization.ticket_link(response.ticket)),
        "audio_unlinked": audio_unlinked(response),
        "repeat_days": organization.repeat_window.days if any(each.repeat for each in alerts) else None,
        **_repeat_of(next((each for each in alerts if each.repeat), alert), organization.time_zone),
        "response_url": response_url(response),
    }


def _repeat_of(alert: Alert, time_zone: str) -> dict[str, str]:
    """When and where the earlier failure this alert repeats was (empty for a first failure)."""
    earlier = alert.repeat_of if alert.repeat and alert.repeat_of_id is not None else None
    if earlier is None:
        return {"repeat_of_when": "", "repeat_of_url": ""}
    return {
        "repeat_of_when": earlier.submitted_at.astimezone(ZoneInfo(time_zone)).strftime("%a %d %b %Y"),
        "repeat_of_url": response_url(earlier),
    }


def render_email(context: dict[str, Any]) -> Rendered:
    message = make_message("alert", context)
    return Rendered(subject=message.subject, text=message.text, html=message.html)


INTERVIEWER_LABEL = "Interviewer's notes:"


def render_sms(context: dict[str, Any]) -> Rendered:
    """One or two SMS segments: what, where, the customer's first words and the link.

    Only the customer's own words are quoted; without any, the interviewer's notes are given, labelled."""
    link = context["response_url"]
    head = context["subject"]
    words = " ".join(context["verbatim"])
    label = ""
    if not words and context["interviewer_notes"].strip():
        words, label = context["interviewer_notes"], f" {INTERVIEWER_LABEL}"
    quoted = ""
    budget = SMS_MAX_CHARS - len(head) - len(label) - len(link) - 5  # space, two quotes, space, margin
    if words and budget > 20:
        quoted = f'{label} "{fit_sms(words, budget)}"'
    text = fit_sms(head + quoted, SMS_MAX_CHARS - len(link) - 1) + " " + link
    return Rendered(subject=head, text=text)


_MARKDOWN_SPECIAL = str.maketrans({ch: "\\" + ch for ch in "\\`*_[]()<>#|~"})


def markdown_escape(text: str) -> str:
    return text.translate(_MARKDOWN_SPECIAL)


def render_chat(context: dict[str, Any]) -> Rendered:
    # The subject is built from configuration (unit, category), not from what the customer wrote.
    lines = [f"**{context['subject']}**"]
    for words in context["verbatim"]:
        lines.append("> " + markdown_escape(" ".join(words.split())))
    if context["interviewer_notes"].strip():
        lines.append(f"_{INTERVIEWER_LABEL}_ " + markdown_escape(" ".join(context["interviewer_notes"].split())))
    if len(context["reasons"]) > 1:
        lines.append(
            "\n".join(
                f"- {markdown_escape(reason.rule)}: {markdown_escape(reason.category)} ({reason.severity})"
                for reason in context["reasons"]
            )
        )
    if context["repeat_days"]:
        earlier = f" ([{context['repeat_of_when']}]({context['repeat_of_url']}))" if context["repeat_of_when"] else ""
        lines.append(
            f"Repeat: this customer had another recovery alert in the last {context['repeat_days']} days{earlier}; "
            "severity raised one step"
        )
    contact = context["contact"]
    if contact:
        parts = [markdown_escape(contact.name)] if contact.name else []
        if contact.phone:
            parts.append(f"[{markdown_escape(contact.phone)}]({contact.tel})")
        if contact.email:
            parts.append(f"[{markdown_escape(contact.email)}]({contact.mailto})")
        lines.append("Customer: " + " · ".join(parts))
    links = [f"[Open the response]({context['response_url']})"]
    if context["ticket"]:
        ticket = markdown_escape(context["ticket"])
        links.append(f"[Ticket {ticket}]({context['ticket_url']})" if context["ticket_url"] else f"Ticket {ticket}")
    if context["audio_url"]:
        links.append(f"[Listen to the call]({context['audio_url']})")
    elif context["audio_unlinked"]:
        links.append(f"Recording: {markdown_escape(context['audio_unlinked'])} (not a link)")
    lines.append(" · ".join(links))
    return Rendered(subject=context["subject"], text="\n\n".join(lines))


def render_webhook(context: dict[str, Any]) -> Rendered:
    """The `alert.created` event: `alert` is the leading alert (the shape of a one-alert event), `alerts`
    every alert of the response that this call tells about, the leading one first."""
    alert: Alert = context["alert"]
    response: Response = context["response"]
    payload = {
        "type": "alert.created",
        "alert": {**alert_fields(alert), "subject": context["subject"]},
        "alerts": [{**alert_fields(each), "name": rule_name(each)} for each in context["alerts"]],
        "response": {
            "id": response.id,
            "survey": response.survey.key,
            "external_id": response.external_id,
            "submitted_at": response.submitted_at.isoformat(),
            "unit": response.unit.code if response.unit else None,
            "agent": response.agent.key if response.agent else None,
            "ticket": response.ticket or None,
            "overall": response.overall,
            "answers": response.answers,
            "interviewer_notes": response.interviewer_notes,
            "text_judgement": response.text_judgement or None,
        },
        # The API's customer: name, email and phone are null without the customer's consent.
        "customer": customer_body(response),
        "links": {
            "response": context["response_url"],
            "ticket": context["ticket_url"] or None,
            "audio": context["audio_url"] or None,
        },
    }
    return Rendered(subject=context["subject"], text="", payload=payload)


_RENDERERS = {"email": render_email, "sms": render_sms, "chat": render_chat, "webhook": render_webhook}


def render_alert(alert: Alert, person: Person | None, channel: str) -> Rendered:
    """The message telling `person` (None for webhooks) about `alert` on `channel`."""
    return render_alerts([alert], person, channel)


def render_alerts(alerts: Sequence[Alert], person: Person | None, channel: str) -> Rendered:
    """The one message telling `person` (None for webhooks) about `alerts` of one response on `channel`,
    the leading alert first (see `lead_first`)."""
    if not alerts:
        raise ValueError("a message needs at least one alert")
    try:
        renderer = _RENDERERS[channel]
    except KeyError:
        raise ValueError(f"no alert message for channel {channel!r}") from None
    return renderer(alerts_context(alerts, person))


# Stand-ins for the recipient while a message is rendered once for all its recipients: private-use
# characters, which no escaping changes and no customer's words contain.
_NAME = "\ue000recipient name\ue000"
_RECORDING = "\ue000recording link\ue000"


@dataclass(frozen=True)
class _AnyRecipient:
    """Every recipient of a message rendered once: the templates only print a recipient's name."""

    name: str = _NAME


def render_alerts_for(
    alerts: Sequence[Alert], people: Sequence[Person], channel: str, shared: dict[str, Any] | None = None
) -> list[Rendered]:
    """The message about `alerts` on `channel` for each of `people`, in order: built and rendered once, then
    each person's name and own recording link filled in, so a response told to five leads costs one
    rendering. Each equals `render_alerts(alerts, person, channel)` (the tests hold the two to that).
    `shared`: the alerts' `shared_context`, when the caller renders them on several channels."""
    if not alerts:
        raise ValueError("a message needs at least one alert")
    try:
        renderer = _RENDERERS[channel]
    except KeyError:
        raise ValueError(f"no alert message for channel {channel!r}") from None
    shared = shared_context(alerts) if shared is None else shared
    if len(people) < 2:
        return [renderer(for_recipient(shared, person)) for person in people]
    response: Response = shared["response"]
    # Only an uploaded recording's link is signed for its recipient; any other is the same for everyone.
    own_link = has_recording(response) and bool(audio_link(response, people[0]))
    once = renderer(
        {**shared, "person": _AnyRecipient(), "audio_url": _RECORDING if own_link else audio_link(response, None)}
    )
    messages = []
    for person in people:
        link = audio_link(response, person) if own_link else ""
        plain = {_NAME: person.name, _RECORDING: link}
        escaped = {_NAME: escape(person.name), _RECORDING: escape(link)}
        messages.append(
            Rendered(
                subject=_filled(once.subject, plain),
                text=_filled(once.text, plain),
                html=_filled(once.html, escaped),
                payload=once.payload,
            )
        )
    return messages


def _filled(text: str, values: Mapping[str, str]) -> str:
    for stand_in, value in values.items():
        text = text.replace(stand_in, value)
    return text
