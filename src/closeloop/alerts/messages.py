"""What an alert says, per channel: email (text + HTML), SMS, webhook JSON and chat markdown.

The customer's own words come first, because that is what the responsible person needs
to decide how to call back. Contact details (name, email, phone) appear only when the
customer agreed to be contacted (`contact_ok`), on every channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from closeloop.alerts.models import Alert
from closeloop.alerts.serialize import alert_fields
from closeloop.feedback.models import Question, Response
from closeloop.notify.channels.sms import SMS_MAX_CHARS, fit_sms
from closeloop.notify.links import absolute_url
from closeloop.notify.render import make_message
from closeloop.org.directory import current_organization
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
    customer = response.customer
    if customer is None or not customer.contact_ok:
        return None
    return Contact(name=customer.name, email=customer.email, phone=customer.phone)


def alert_subject(alert: Alert, response: Response, score: str) -> str:
    """E.g. "[URGENT] Recovery: SUP-EMEA – 2/10 – Installation issues"."""
    details = " – ".join(part for part in (alert.unit.code if alert.unit else "", score, alert.category) if part)
    if alert.kind == "praise":
        agent = response.agent.name if response.agent else ""
        return f"Kudos for {agent}: {details}" if agent else f"Kudos: {details}"
    return f"[{alert.severity.upper()}] {alert.kind.capitalize()}: {details}"


def alert_context(alert: Alert, person: Person | None) -> dict[str, Any]:
    response = alert.response
    organization = current_organization()
    answers = answer_lines(response)
    score = overall_score(response)
    customer = response.customer
    return {
        "alert": alert,
        "response": response,
        "person": person,
        "organization": organization,
        "subject": alert_subject(alert, response, score),
        "score": score,
        "unit": alert.unit,
        "agent": response.agent,
        "verbatim": [line.value for line in answers if line.is_text],
        "answers": answers,
        "interviewer_notes": response.interviewer_notes,
        "contact": contact_of(response),
        "customer_id": customer.external_id if customer else "",
        "customer_tier": customer.tier if customer else "",
        "contact_withheld": customer is not None and not customer.contact_ok,
        "ticket": response.ticket,
        "ticket_url": web_link(organization.ticket_link(response.ticket)),
        "audio_url": web_link(response.audio_url),
        "repeat_days": organization.repeat_window.days if alert.repeat else None,
        **_repeat_of(alert, organization.time_zone),
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


def render_sms(context: dict[str, Any]) -> Rendered:
    """One or two SMS segments: what, where, the customer's first words and the link."""
    link = context["response_url"]
    head = context["subject"]
    words = " ".join(context["verbatim"]) or context["interviewer_notes"]
    quoted = ""
    budget = SMS_MAX_CHARS - len(head) - len(link) - 5  # space, two quotes, space, margin
    if words and budget > 20:
        quoted = f' "{fit_sms(words, budget)}"'
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
    lines.append(" · ".join(links))
    return Rendered(subject=context["subject"], text="\n\n".join(lines))


def render_webhook(context: dict[str, Any]) -> Rendered:
    alert: Alert = context["alert"]
    response: Response = context["response"]
    contact: Contact | None = context["contact"]
    customer: dict[str, Any] | None = None
    if response.customer is not None:
        customer = {"id": context["customer_id"], "tier": context["customer_tier"], "contact_ok": contact is not None}
        if contact is not None:
            customer.update(name=contact.name, email=contact.email, phone=contact.phone)
    payload = {
        "type": "alert.created",
        "alert": {**alert_fields(alert), "subject": context["subject"]},
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
        },
        "customer": customer,
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
    try:
        renderer = _RENDERERS[channel]
    except KeyError:
        raise ValueError(f"no alert message for channel {channel!r}") from None
    return renderer(alert_context(alert, person))
