from __future__ import annotations

import base64

import pytest

from closeloop.notify.channels import STORED_IN_OUTBOX, PermanentError, TemporaryError, get_channel
from closeloop.notify.channels.email import classify_smtp_error, message_id_for
from closeloop.notify.models import Delivery
from closeloop.notify.outbox import enqueue
from tests.notify.conftest import NOW, free_port

pytestmark = pytest.mark.django_db


def make_email(**overrides) -> Delivery:
    fields = {
        "channel": "email",
        "address": "lead@acme.example",
        "subject": "[URGENT] Recovery: SUP-EMEA – 2/10",
        "text": "It failed twice.",
        "html": "<p>It failed <b>twice</b>.</p>",
        "idempotency_key": "alert:1:erin:email",
        "now": NOW,
    }
    fields.update(overrides)
    return enqueue(**fields)


def test_email_arrives_with_text_html_and_a_stable_message_id(smtp):
    delivery = make_email()
    result = get_channel("email").send(delivery)
    assert smtp.count() == 1
    message = smtp.messages[0]
    assert message["To"] == "lead@acme.example"
    assert message["From"] == "closeloop@acme.example"
    assert message["Subject"] == "[URGENT] Recovery: SUP-EMEA – 2/10"
    assert message.get_body(("plain",)).get_content().strip() == "It failed twice."
    assert "<b>twice</b>" in message.get_body(("html",)).get_content()
    assert result.provider_id == message["Message-ID"] == message_id_for(delivery.idempotency_key, "x@acme.example")


def test_email_carries_attachments_from_the_payload(smtp):
    pdf = b"%PDF-1.4 report"
    attachment = {"filename": "report.pdf", "content_type": "application/pdf", "content_base64": base64.b64encode(pdf)}
    attachment["content_base64"] = attachment["content_base64"].decode()
    get_channel("email").send(make_email(payload={"attachments": [attachment]}))
    parts = list(smtp.messages[0].iter_attachments())
    assert [(p.get_filename(), p.get_content_type(), p.get_content()) for p in parts] == [
        ("report.pdf", "application/pdf", pdf)
    ]


def test_a_deferral_is_a_temporary_error(smtp):
    smtp.defer_next = 1
    with pytest.raises(TemporaryError, match="451"):
        get_channel("email").send(make_email())


def test_a_rejected_message_is_a_permanent_error(smtp):
    smtp.defer_next = 1
    smtp.defer_reply = "554 5.7.1 Message rejected"
    with pytest.raises(PermanentError, match="554"):
        get_channel("email").send(make_email())


def test_an_unknown_recipient_is_a_permanent_error(smtp):
    smtp.refused.add("gone@acme.example")
    with pytest.raises(PermanentError, match="550"):
        get_channel("email").send(make_email(address="gone@acme.example"))


def test_a_server_that_is_down_is_a_temporary_error(smtp, settings):
    settings.EMAIL_PORT = free_port()
    with pytest.raises(TemporaryError, match="cannot reach"):
        get_channel("email").send(make_email())


def test_a_bad_attachment_is_a_permanent_error(smtp):
    bad = {"filename": "x.pdf", "content_type": "application/pdf", "content_base64": "not base64!"}
    with pytest.raises(PermanentError, match="attachment"):
        get_channel("email").send(make_email(payload={"attachments": [bad]}))
    assert smtp.count() == 0


def test_without_email_url_the_message_is_kept_in_the_outbox(settings):
    settings.EMAIL_SERVER = None
    assert get_channel("email").send(make_email()).provider_id == STORED_IN_OUTBOX


def test_smtp_errors_are_classified_by_reply_code():
    import smtplib

    assert isinstance(classify_smtp_error(smtplib.SMTPDataError(452, b"full")), TemporaryError)
    assert isinstance(classify_smtp_error(smtplib.SMTPDataError(550, b"no")), PermanentError)
    mixed = smtplib.SMTPRecipientsRefused({"a@x": (450, b"busy"), "b@x": (550, b"gone")})
    assert isinstance(classify_smtp_error(mixed), TemporaryError)
    assert isinstance(classify_smtp_error(TimeoutError()), TemporaryError)
    assert isinstance(classify_smtp_error(smtplib.SMTPServerDisconnected()), TemporaryError)
