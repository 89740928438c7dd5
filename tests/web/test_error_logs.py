"""What a failure leaves in the log and on the page: the request id in both, no customer data in either.

The log output is read from closeloop's own console handler (its stream swapped for the test), so the
filters and the formatter are the ones the settings configure.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from django.test import Client

from closeloop.logs import AddRequestId, JsonLineFormatter, PlainFormatter, format_exception_safely, redact

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.web.crash_urls")]


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    def ours(logger: str) -> list[logging.Handler]:
        # pytest adds its own capturing handlers beside the configured one.
        return [h for h in logging.getLogger(logger).handlers if any(isinstance(f, AddRequestId) for f in h.filters)]

    [handler] = ours("django.request")
    assert ours("closeloop") == [handler], "one console handler for all"
    stream = io.StringIO()
    previous = handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        yield stream
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]


def crashing_client() -> Client:
    return Client(raise_request_exception=False)


def test_a_web_500_shows_and_logs_the_request_id(log_output: io.StringIO) -> None:
    response = crashing_client().get("/crash/", headers={"X-Request-ID": "req-500-a"})
    assert response.status_code == 500
    assert response["X-Request-ID"] == "req-500-a"
    assert '<code id="request-id">req-500-a</code>' in response.content.decode()
    lines = log_output.getvalue().splitlines()
    assert any(
        re.search(r"ERROR django\.request \[req-500-a\] Internal Server Error: /crash/", line) for line in lines
    ), lines
    assert "RuntimeError: the page broke" in log_output.getvalue()


def test_an_api_500_names_the_request_id_in_its_json_and_its_log_line(log_output: io.StringIO) -> None:
    response = crashing_client().get("/api/v1/crash/", headers={"X-Request-ID": "req-api-b"})
    assert response.status_code == 500
    assert response.json()["detail"] == "Internal server error. The problem was logged (reference req-api-b)."
    assert "ERROR closeloop.api [req-api-b] Unhandled error in GET /api/v1/crash/" in log_output.getvalue()


@pytest.mark.postgres
def test_a_database_error_is_logged_without_the_values_it_quotes(log_output: io.StringIO) -> None:
    response = crashing_client().post(
        "/crash/database/", {"email": "pat.secret@example.com"}, headers={"X-Request-ID": "req-db-c"}
    )
    assert response.status_code == 500
    logged = log_output.getvalue()
    assert "pat.secret@example.com" not in logged
    assert "IntegrityError: duplicate key value violates unique constraint" in logged
    assert "SQLSTATE 23505" in logged and "constraint crash_customer_email_key" in logged
    assert "the database's message is not logged" in logged
    # The page says nothing of it either.
    assert "pat.secret" not in response.content.decode()


def test_json_log_lines_carry_the_request_id_and_the_safe_traceback() -> None:
    record = logging.LogRecord("closeloop.worker", logging.ERROR, __file__, 1, "step %s failed", ("digests",), None)
    try:
        raise ValueError("a step broke")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    record.request_id = "req-json-d"
    line = json.loads(
        JsonLineFormatter(
            "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
        ).format(record)
    )
    assert (line["level"], line["logger"], line["request_id"], line["message"]) == (
        "ERROR",
        "closeloop.worker",
        "req-json-d",
        "step digests failed",
    )
    assert line["exc_info"].endswith("ValueError: a step broke")


def test_the_plain_traceback_of_an_ordinary_error_keeps_its_message_and_its_cause() -> None:
    try:
        try:
            raise KeyError("unit")
        except KeyError as cause:
            raise RuntimeError("could not route") from cause
    except RuntimeError as error:
        info = (type(error), error, error.__traceback__)
    text = format_exception_safely(info)
    assert text.index("KeyError: 'unit'") < text.index("direct cause") < text.index("RuntimeError: could not route")
    assert PlainFormatter().formatException(info) == text


def test_secret_url_segments_are_redacted_wherever_they_appear_in_a_line() -> None:
    line = (
        '127.0.0.1 - - "GET /follow-up/12.a8Zk:1tX:sig/yes HTTP/1.1" 200 - '
        '"https://x.example/password-reset/MQ/c2k1-abcdef/" "Mozilla"'
    )
    assert redact(line) == (
        '127.0.0.1 - - "GET /follow-up/[redacted]/yes HTTP/1.1" 200 - '
        '"https://x.example/password-reset/[redacted]/[redacted]/" "Mozilla"'
    )
    assert redact("GET /password-reset/sent/ and /password-reset/done/") == (
        "GET /password-reset/sent/ and /password-reset/done/"
    )
