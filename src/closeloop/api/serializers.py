"""Stored rows -> the JSON the API sends. One function per resource, shared by list and detail."""

from __future__ import annotations

from typing import Any

from closeloop.cases import queries as cases
from closeloop.feedback.models import Response
from closeloop.feedback.recordings import has_recording
from closeloop.feedback.schemas import customer_body
from closeloop.notify.links import absolute_url
from closeloop.org.directory import current_organization
from closeloop.org.models import Organization


def response_alerts(response: Response) -> list[dict[str, Any]]:
    # .all() uses the prefetch of closeloop.feedback.queries.responses_for_api when there is one.
    alerts = sorted(response.alerts.all(), key=lambda alert: alert.pk)
    return [
        {"id": a.pk, "rule": a.rule_key, "kind": a.kind, "severity": a.severity, "category": a.category} for a in alerts
    ]


def response_case_id(response: Response) -> int | None:
    return cases.response_case_id(response)


def response_notes(response: Response) -> list[dict[str, Any]]:
    return cases.response_notes(response)


def recording_url(response: Response) -> str | None:
    """Where the uploaded recording plays (login, or a token with `read`); null without consent."""
    if not has_recording(response) or not response.contact_ok:
        return None
    return absolute_url("response-audio", response.pk)


def response_to_dict(
    response: Response, *, organization: Organization | None = None, notes: bool = True
) -> dict[str, Any]:
    """A response as the API shows it; pass `organization` when serialising many to load it once.

    `notes=False` (a list asked for with `srn=n`) leaves the notes out: `notes` is an empty list.
    """
    organization = organization or current_organization()
    return {
        "id": response.pk,
        "survey": response.survey.key,
        "external_id": response.external_id,
        "source": response.source,
        "status": response.status,
        "problems": response.problems,
        "submitted_at": response.submitted_at,
        "received_at": response.received_at,
        # Set when a later delivery of the same response (a comment after the score) changed it.
        "updated_at": response.updated_at,
        # What the sender said stays visible on a quarantined response, so it can be fixed.
        "unit": response.unit.code if response.unit is not None else (response.unit_code or None),
        "segment": response.segment or None,
        "agent": response.agent.key if response.agent is not None else (response.agent_code or None),
        "ticket": response.ticket or None,
        "ticket_url": organization.ticket_link(response.ticket) or None,
        # A customer is shown exactly as a response body sends one.
        "customer": customer_body(response),
        "answers": response.answers,
        "interviewer_notes": response.interviewer_notes,
        "interviewer_flag": response.interviewer_flag,
        "audio_url": response.audio_url or None,
        "recording": recording_url(response),
        "overall": response.overall,
        "needs_recovery": response.needs_recovery,
        # Too old to alert when it arrived (organization.alert_max_age) or imported with --historic.
        "historic": response.historic,
        "text_judgement": response.text_judgement or None,
        "superseded_by": response.superseded_by_id,
        "alerts": response_alerts(response),
        "case": response_case_id(response),
        "notes": response_notes(response) if notes else [],
    }
