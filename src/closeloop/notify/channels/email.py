"""Email over SMTP (EMAIL_URL) with Django's mail classes: text, HTML and attachments."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import smtplib
import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend

from closeloop.notify.channels.base import (
    STORED_IN_OUTBOX,
    Channel,
    PermanentError,
    SendResult,
    TemporaryError,
    register,
)

if TYPE_CHECKING:
    from closeloop.notify.models import Delivery

SMTP_TIMEOUT_SECONDS = 10
# A conversation idle for longer is checked with NOOP before the next message: servers drop idle
# clients, and a dropped conversation must cost a reconnection, not a failed (and retried) message.
PROBE_IDLE_SECONDS = 1.0


def message_id_for(idempotency_key: str, from_email: str) -> str:
    """A Message-ID derived from the delivery, so every retry carries the same one and receivers can dedupe."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    domain = from_email.rpartition("@")[2].strip(">") or "localhost"
    return f"<{digest}@{domain}>"


def build_message(delivery: Delivery, connection=None) -> EmailMultiAlternatives:
    from_email = settings.DEFAULT_FROM_EMAIL
    message = EmailMultiAlternatives(
        subject=delivery.subject,
        body=delivery.text,
        from_email=from_email,
        to=[delivery.address],
        connection=connection,
        headers={"Message-ID": message_id_for(delivery.idempotency_key, from_email)},
    )
    if delivery.html:
        message.attach_alternative(delivery.html, "text/html")
    for attachment in (delivery.payload or {}).get("attachments", []):
        try:
            content = base64.b64decode(attachment["content_base64"], validate=True)
            message.attach(attachment["filename"], content, attachment.get("content_type") or None)
        except (KeyError, TypeError, binascii.Error) as exc:
            raise PermanentError(f"bad attachment in the delivery payload ({type(exc).__name__})") from exc
    return message


def classify_smtp_error(exc: Exception) -> TemporaryError | PermanentError:
    """4xx replies, dropped connections and timeouts are temporary; a 5xx refusal is permanent."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            return PermanentError(f"SMTP server refused the recipient ({', '.join(map(str, codes))})")
        return TemporaryError(f"SMTP server deferred the recipient ({', '.join(map(str, codes))})")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        # The operator's credentials are wrong: every message fails the same way until they are
        # fixed, so keep retrying within the retry window rather than dropping this message.
        return TemporaryError(f"SMTP authentication failed ({exc.smtp_code})")
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = f"SMTP {exc.smtp_code}"
        if 500 <= exc.smtp_code < 600:
            return PermanentError(f"{reply}: message rejected")
        return TemporaryError(f"{reply}: try again later")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TemporaryError("SMTP server closed the connection", unreachable=True)
    if isinstance(exc, TimeoutError):
        return TemporaryError("SMTP server timed out", unreachable=True)
    if isinstance(exc, OSError):
        return TemporaryError(f"cannot reach the SMTP server ({type(exc).__name__})", unreachable=True)
    return TemporaryError(f"SMTP error ({type(exc).__name__})")


@register
class EmailChannel(Channel):
    slug = "email"
    one_server = True

    def __init__(self) -> None:
        # One SMTP conversation for a whole claimed batch, or for as long as a worker keeps the channel:
        # connecting costs more than a message.
        self._connection: BaseEmailBackend | None = None
        self._used_at = 0.0

    def _probe(self) -> None:
        """Forget a conversation the server may have dropped while it was idle (it is opened afresh)."""
        if self._connection is None or time.monotonic() - self._used_at < PROBE_IDLE_SECONDS:
            return
        client = getattr(self._connection, "connection", None)
        if not isinstance(client, smtplib.SMTP):
            return
        try:
            code, _ = client.noop()
        except (smtplib.SMTPException, OSError):
            code = 0
        if code != 250:
            self.close()

    def send(self, delivery: Delivery) -> SendResult:
        if getattr(settings, "EMAIL_SERVER", None) is None:
            # No EMAIL_URL: the message stays in the outbox, readable in the admin.
            return SendResult(STORED_IN_OUTBOX)
        if not delivery.address:
            raise PermanentError("no email address")
        self._probe()
        try:
            if self._connection is None:
                self._connection = get_connection(
                    timeout=getattr(settings, "EMAIL_TIMEOUT", None) or SMTP_TIMEOUT_SECONDS
                )
                self._connection.open()
            message = build_message(delivery, self._connection)
            message.send()
        except (smtplib.SMTPException, OSError) as exc:
            # After a failure the conversation is in an unknown state: the next message starts afresh.
            self.close()
            raise classify_smtp_error(exc) from exc
        self._used_at = time.monotonic()
        return SendResult(message.extra_headers["Message-ID"])

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._connection.close()
            self._connection = None
