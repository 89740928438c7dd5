"""Real servers for the channel tests: an SMTP sink (aiosmtpd) and an HTTP listener."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from closeloop.environment import EmailServer

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """Accepts mail and keeps it; can defer (4xx) the first N messages, refuse recipients, stall on DATA,
    keep a message but hold back its reply (`hold_reply_after`), or take `delay` seconds per message."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.data_attempts = 0
        self.defer_next = 0
        self.defer_reply = "451 4.3.0 Try again later"
        self.refused: set[str] = set()
        self.stall = False
        self.hold_reply_after: int | None = None
        self.reply_held = threading.Event()
        self.delay = 0.0
        self.data_started = threading.Event()
        self._lock = threading.Condition()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.data_attempts += 1
        self.data_started.set()
        if self.stall:
            # Hold the client mid-send until it gives up or is killed.
            await asyncio.sleep(60)
            return "451 4.4.2 Timed out"
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            hold = self.hold_reply_after is not None and len(self.messages) >= self.hold_reply_after
            if hold:
                # The message is kept, as a server would that crashed before answering.
                self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
                self.recipients.append(list(envelope.rcpt_tos))
        if hold:
            self.reply_held.set()
            await asyncio.sleep(60)
            return "451 4.4.2 Timed out"
        with self._lock:
            if self.defer_next > 0:
                self.defer_next -= 1
                return self.defer_reply
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            self.recipients.append(list(envelope.rcpt_tos))
            self._lock.notify_all()
        return "250 OK"

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def wait_for(self, count: int, timeout: float) -> bool:
        """Until `count` messages arrived (True), or `timeout` seconds passed as a safety net (False)."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self.messages) >= count, timeout=timeout)


@pytest.fixture
def smtp_sink() -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@pytest.fixture
def smtp(settings, smtp_sink) -> SmtpSink:
    """Django's SMTP backend pointed at the sink, as EMAIL_URL=smtp://127.0.0.1:PORT would."""
    sink, port = smtp_sink
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.EMAIL_SERVER = EmailServer(
        host="127.0.0.1", port=port, username="", password="", use_tls=False, use_ssl=False
    )
    settings.DEFAULT_FROM_EMAIL = "closeloop@acme.example"
    return sink


@dataclass
class HttpRequest:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):  # type: ignore[no-untyped-def]
        return json.loads(self.body)


@dataclass
class HttpSink:
    """Answers each POST with the next status in `statuses` (then 200) and records the request."""

    port: int
    requests: list[HttpRequest] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def http_sink() -> Iterator[HttpSink]:
    sink = HttpSink(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with sink.lock:
                sink.requests.append(HttpRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = sink.statuses.pop(0) if sink.statuses else 200
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sink.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()


def later(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)
