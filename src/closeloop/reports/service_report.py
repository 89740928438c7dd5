"""The Service Recovery Report: the unhappy customers of a unit over a span, as HTML and as a PDF.

The same report is attached to the daily digest email and served at `/reports/service-recovery.pdf`.
It is rendered by WeasyPrint from a Django template; the template carries its icons as inline SVG, and the
URL fetcher below refuses everything but `data:` URLs, so rendering never reaches out to the network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.template.loader import render_to_string

from closeloop.cases.models import CaseEvent
from closeloop.core.answers import QuestionSpec
from closeloop.core.moments import format_moment, format_span
from closeloop.feedback.catalog import Catalog
from closeloop.feedback.models import Response
from closeloop.notify.links import absolute_url
from closeloop.org.directory import current_organization
from closeloop.org.models import Unit

NPS_MAX = 10


@dataclass(frozen=True)
class ReportNote:
    at: str
    author: str
    text: str
    spoke: bool


@dataclass(frozen=True)
class ReportEntry:
    key: str  # the response's id, as text: what makes two entries the same
    received: str
    customer: str
    segment: str
    agent: str
    unit: str
    ticket: str
    ticket_url: str
    factors: list[str]
    overall: str
    verbatims: list[tuple[str, str]]
    notes_url: str
    notes: list[ReportNote]


@dataclass(frozen=True)
class ReportSection:
    """The responses of one unit (with its subtree) in a report."""

    unit: Unit
    entries: list[ReportEntry]

    @property
    def count(self) -> int:
        return len(self.entries)


@dataclass(frozen=True)
class ServiceRecoveryReport:
    """One recipient's report: a section per unit they are responsible for (usually one), grouped by unit,
    with one notes link (the title's pencil) for every response in it."""

    sections: list[ReportSection]
    period: str
    recipient: str
    notes_url: str
    notes_day: date | None = None  # the day the title's notes link opens

    @property
    def unit(self) -> Unit:
        return self.sections[0].unit

    @property
    def units(self) -> list[Unit]:
        return [section.unit for section in self.sections]

    @property
    def entries(self) -> list[ReportEntry]:
        return [entry for section in self.sections for entry in section.entries]

    @property
    def count(self) -> int:
        return sum(section.count for section in self.sections)

    @property
    def combined(self) -> bool:
        return len(self.sections) > 1


def notes_url(
    unit: Unit | Sequence[Unit], *, day: date | None = None, ticket: str = "", survey: str = "", response: int = 0
) -> str:
    """The Service Recovery Notes dialog: for one response (its survey and ticket, which follow a resubmission,
    or its id when it has no ticket), or for every response of the units on `day`."""
    units = [unit] if isinstance(unit, Unit) else list(unit)
    params: dict[str, object] = {"unit": [u.code for u in units]}
    if ticket:
        params |= {"survey": survey or None, "ticket": ticket}
    elif response:
        params = {"response": response}
    elif day is not None:
        params["date"] = day.isoformat()
    return absolute_url("recovery-notes", query=params)


def report_url(unit: Unit | Sequence[Unit], day: date) -> str:
    """The report as a PDF for the digest run of `day` (one unit, or several in one report)."""
    units = [unit] if isinstance(unit, Unit) else list(unit)
    return absolute_url("service-recovery-pdf", query={"unit": [u.code for u in units], "date": day.isoformat()})


def combine_reports(reports: Sequence[ServiceRecoveryReport], *, recipient: str, period: str) -> ServiceRecoveryReport:
    """Several units' reports as one for `recipient`; a response listed under an earlier unit (a unit and a
    unit below it both in the digest) is not repeated. The title's notes link covers every unit."""
    seen: set[str] = set()
    sections = []
    for report in reports:
        for section in report.sections:
            entries = [entry for entry in section.entries if entry.key not in seen]
            seen |= {entry.key for entry in entries}
            sections.append(ReportSection(section.unit, entries))
    days = [report.notes_day for report in reports if report.notes_day is not None]
    units = [section.unit for section in sections]
    return ServiceRecoveryReport(
        sections=sections,
        period=period,
        recipient=recipient,
        notes_url=notes_url(units, day=days[0] if days else None),
        notes_day=days[0] if days else None,
    )


def _when(instant: datetime, zone: ZoneInfo, report_end: datetime) -> str:
    # The year is named when it is not the report's own: a report reads the same whenever it is opened.
    return format_moment(instant, zone, now=report_end)


def period_label(start: datetime, end: datetime, time_zone: str) -> str:
    """The report's window as people read it: "Wed 2 Dec, 09:00 GMT to Thu 3 Dec, 09:00 GMT"."""
    return format_span(start, end, time_zone, now=end)


def _number(value: float) -> str:
    return f"{value:g}"


def _overall(response: Response, questions: dict) -> str:
    if response.overall is None:
        return "not given"
    spec = questions.get(response.survey.overall)
    top = NPS_MAX if spec is not None and spec.type == "nps" else (spec.max if spec is not None else None)
    if top is not None:
        return f"{_number(response.overall)} / {_number(top)}"
    return _number(response.overall)


def _answers_of(response: Response, questions: Mapping[str, QuestionSpec], kind: str) -> list[tuple[str, Any]]:
    """Answers to the questions of one type, in the survey's order (the specs keep the configured order)."""
    return [
        (spec.label or key, response.answers[key])
        for key, spec in questions.items()
        if spec.type == kind and response.answers.get(key) not in (None, "", [])
    ]


def customer_label(response: Response) -> str:
    """The customer's name when they agreed to be contacted, else only their id."""
    customer = response.customer
    if customer is None:
        return ""
    return (response.contact_ok and response.customer_name) or customer.external_id


def _notes_by_response(
    responses: Sequence[Response], zone: ZoneInfo, report_end: datetime
) -> dict[int, list[ReportNote]]:
    """The notes written so far, oldest first; a case follows its response, so notes come through the case."""
    events = (
        CaseEvent.objects.filter(case__response__in=[r.pk for r in responses], type=CaseEvent.Type.NOTE)
        .select_related("case")
        .order_by("at", "id")
    )
    notes: dict[int, list[ReportNote]] = {}
    for event in events:
        data = event.data or {}
        notes.setdefault(event.case.response_id, []).append(
            ReportNote(
                at=_when(event.at, zone, report_end),
                author=event.byline,
                text=str(data.get("text") or ""),
                spoke=bool(data.get("spoke_to_customer")),
            )
        )
    return notes


def build_report(
    unit: Unit,
    responses: Sequence[Response],
    *,
    window: tuple[datetime, datetime],
    time_zone: str,
    recipient: str,
    notes_day: date,
    with_notes: bool = True,
) -> ServiceRecoveryReport:
    """The report for `responses` (oldest first); `notes_day` is the day the title's pencil link opens.

    `with_notes=False` (`srn=n`) leaves the notes written so far out of the report.
    """
    zone = ZoneInfo(time_zone)
    organization = current_organization()
    surveys = Catalog.load().surveys
    notes = _notes_by_response(responses, zone, window[1]) if with_notes else {}
    entries = []
    for response in responses:
        info = surveys.get(response.survey.key)
        questions = info.questions if info else {}
        factors = [str(choice) for _, chosen in _answers_of(response, questions, "multi_choice") for choice in chosen]
        verbatims = [(label, str(text)) for label, text in _answers_of(response, questions, "text")]
        entries.append(
            ReportEntry(
                key=str(response.pk),
                received=_when(response.submitted_at, zone, window[1]),
                customer=customer_label(response),
                segment=response.segment,
                agent=response.agent.name if response.agent else response.agent_code,
                unit=f"{response.unit.name} ({response.unit.code})" if response.unit else response.unit_code,
                ticket=response.ticket,
                ticket_url=organization.ticket_link(response.ticket),
                factors=factors,
                overall=_overall(response, questions),
                verbatims=verbatims,
                # Survey and ticket name the response and follow a resubmission; without a ticket, its id does.
                notes_url=notes_url(unit, ticket=response.ticket, survey=response.survey.key)
                if response.ticket
                else notes_url(unit, response=response.pk),
                notes=notes.get(response.pk, []),
            )
        )
    return ServiceRecoveryReport(
        sections=[ReportSection(unit, entries)],
        period=period_label(*window, time_zone),
        recipient=recipient,
        notes_url=notes_url(unit, day=notes_day),
        notes_day=notes_day,
    )


def report_html(report: ServiceRecoveryReport) -> str:
    return render_to_string("reports/service_recovery.html", {"report": report})


def inline_only_fetcher() -> Any:
    """A URL fetcher that only reads `data:` URLs: a report never loads anything from elsewhere."""
    # WeasyPrint is imported when a PDF is made: loading it (and Pango) costs every web and worker process
    # half a second and tens of megabytes, and most never render a report.
    from weasyprint import URLFetcher  # noqa: PLC0415

    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False)


def render_pdf(report: ServiceRecoveryReport) -> bytes:
    from weasyprint import HTML  # noqa: PLC0415 (see inline_only_fetcher)

    return HTML(string=report_html(report), url_fetcher=inline_only_fetcher()).write_pdf()
