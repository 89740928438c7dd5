"""Digest tests: the Acme organisation, responses posted as a survey tool would, a real SMTP sink and a real
HTTP listener standing in for the SMS provider (Apprise `json://`)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import pytest
from pypdf import PdfReader

from closeloop.feedback.models import Response
from closeloop.reports import summaries, tallies
from closeloop.reports.digests import forget_sync
from closeloop.worker.runner import run_due_work
from tests import factories
from tests.notify.conftest import HttpSink, SmtpSink, http_sink, smtp, smtp_sink  # noqa: F401
from tests.reports.varied import varied  # noqa: F401 (a fixture of the report tests)


@pytest.fixture(autouse=True)
def _fresh_digest_sync() -> Iterator[None]:
    forget_sync()
    summaries.forget_sync()
    tallies.forget_idle()
    yield
    forget_sync()
    summaries.forget_sync()
    tallies.forget_idle()


@pytest.fixture
def sms(settings, http_sink: HttpSink) -> HttpSink:  # noqa: F811
    settings.SMS_URL = f"json://127.0.0.1:{http_sink.port}/sms/{{phone}}"
    return http_sink


def unhappy(
    at: datetime,
    *,
    ease: int = 3,
    comment: str | None = None,
    factors: list[str] | None = None,
    completed: bool = True,
    ticket: str | None = None,
    **fields: Any,
) -> Response:
    """A response submitted (and received) at `at` by a Gold customer without email or phone; an ease of 6 or less
    needs recovery."""
    n = factories.next_number()
    answers: dict[str, Any] = {"ease": ease, "completed": completed, "comment": comment or f"Verbatim number {n}."}
    if factors is not None:
        answers["factors"] = factors
    fields = {"name": f"Customer {n}", "email": None, "phone": None, **fields}
    return factories.ingest(answers, at=at, n=n, prefix="dg", ticket=ticket or f"T-{9000 + n}", **fields)


def tick(at: datetime) -> dict[str, int]:
    """`closeloop tick --at`: everything due at that instant."""
    return run_due_work(at)


def digest_emails(sink: SmtpSink) -> list[EmailMessage]:
    return [m for m in sink.messages if str(m["Subject"]).startswith("Service Recovery Report")]


def digest_sms(sink: HttpSink) -> list[tuple[str, str]]:
    """(path, text) of each SMS the provider received about a digest."""
    found = []
    for request in sink.requests:
        text = request.json().get("message", "")
        if "unhappy customer" in text:
            found.append((request.path, text))
    return found


def pdf_of(message: EmailMessage) -> bytes:
    [attachment] = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
    return attachment.get_content()


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def pdf_links(pdf: bytes) -> list[str]:
    links = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action and "/URI" in action:
                links.append(str(action["/URI"]))
    return links
