"""Log lines without secrets or customer data, with the request id, as text or JSON (LOG_FORMAT).

Kept free of closeloop's apps so that settings.py can build the logging configuration and the
servers (gunicorn, waitress) can use the same filters before Django is set up.

- Secret path segments (follow-up answer tokens, password-reset tokens) are replaced by
  `[redacted]` in every line, the access logs included.
- Database errors are logged without their messages: PostgreSQL's messages quote the values of
  the row (`Key (email)=(pat@example.com) already exists`); the SQLSTATE and the names of the
  constraint, table and column say what went wrong without them.
- Each line carries the request id of the web request it belongs to (`-` outside requests).
"""

from __future__ import annotations

import contextvars
import logging
import re
import sqlite3
import traceback
from types import TracebackType
from typing import Any

from pythonjsonlogger.json import JsonFormatter

# Set by closeloop.web.middleware.RequestIdMiddleware for the duration of a request.
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("closeloop_request_id", default="-")

REDACTED = "[redacted]"
_SEGMENT = r"[^/\s?#\"']+"
_SECRET_PATHS = (
    # /follow-up/<signed token>/<answer>: the token records the customer's answer.
    (re.compile(rf"/follow-up/{_SEGMENT}"), f"/follow-up/{REDACTED}"),
    # /password-reset/<uidb64>/<token>/: the token sets a new password (sent/ and done/ are pages).
    (re.compile(rf"/password-reset/(?!sent/|done/){_SEGMENT}/{_SEGMENT}"), f"/password-reset/{REDACTED}/{REDACTED}"),
)

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"

# PostgreSQL error classes whose primary message names no value: integrity (the constraint's name),
# transaction rollback (deadlocks, serialisation), connection and resource problems.
_SAFE_SQLSTATE_CLASSES = ("23", "40", "08", "53", "57")


def redact(text: str) -> str:
    """`text` with the secret segments of closeloop's URLs replaced by `[redacted]`."""
    for pattern, replacement in _SECRET_PATHS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites each record's message (arguments included) without secret URL segments."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class AddRequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


def is_database_error(error: BaseException) -> bool:
    if isinstance(error, sqlite3.Error):
        return True
    module = type(error).__module__
    return module.startswith(("psycopg", "django.db"))


def _database_error_summary(error: BaseException) -> str:
    name = f"{type(error).__module__}.{type(error).__qualname__}"
    # Django wraps the driver's error; the driver's carries the details.
    driver = error.__cause__ if type(error).__module__.startswith("django.db") and error.__cause__ else error
    if isinstance(driver, sqlite3.Error):
        # SQLite's messages name tables, columns and constraints, never the values.
        return f"{name}: {driver}"
    facts = []
    sqlstate = getattr(driver, "sqlstate", None)
    diag = getattr(driver, "diag", None)
    if sqlstate:
        facts.append(f"SQLSTATE {sqlstate}")
    if diag is not None:
        for label, attribute in (("constraint", "constraint_name"), ("table", "table_name"), ("column", "column_name")):
            value = getattr(diag, attribute, None)
            if value:
                facts.append(f"{label} {value}")
        primary = getattr(diag, "message_primary", None)
        if primary and sqlstate and sqlstate[:2] in _SAFE_SQLSTATE_CLASSES:
            facts.insert(0, primary)
    detail = "; ".join(facts) or "no details"
    return f"{name}: {detail} (the database's message is not logged: it can quote customer data)"


def _chain(error: BaseException) -> list[tuple[BaseException, str]]:
    """The exception and its causes, oldest first, each with the sentence that links it to the one after."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = error
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, "The above exception was the direct cause of the following exception:"
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, "During handling of the above exception, another exception occurred:"
        else:
            current = None
    # Oldest first; each one's sentence is printed after it, before the exception it led to.
    chain.reverse()
    return chain


def format_exception_safely(
    exc_info: tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None],
) -> str:
    """A traceback as Python prints it, except that database errors' messages are left out."""
    _, error, _ = exc_info
    if error is None:
        return ""
    parts: list[str] = []
    for exc, link in _chain(error):
        if exc.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_tb(exc.__traceback__))
        if is_database_error(exc):
            parts.append(_database_error_summary(exc) + "\n")
        else:
            parts.extend(traceback.format_exception_only(type(exc), exc))
        if link:
            parts.append(f"\n{link}\n\n")
    return "".join(parts).rstrip("\n")


class PlainFormatter(logging.Formatter):
    def formatException(self, ei: Any) -> str:
        return format_exception_safely(ei)


class JsonLineFormatter(JsonFormatter):
    def formatException(self, ei: Any) -> str:
        return format_exception_safely(ei)


def make_formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonLineFormatter(JSON_FIELDS, rename_fields={"levelname": "level", "name": "logger"})
    return PlainFormatter(PLAIN_FORMAT)


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """Django's LOGGING: one console handler, filtered and formatted as above, for closeloop's loggers,
    Django's request errors and the access logs."""
    formatter: dict[str, Any] = (
        {
            "()": JsonLineFormatter,
            "fmt": JSON_FIELDS,
            "rename_fields": {"levelname": "level", "name": "logger"},
        }
        if log_format == "json"
        else {"()": PlainFormatter, "fmt": PLAIN_FORMAT}
    )
    console = {"handlers": ["console"], "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactSecrets}, "request_id": {"()": AddRequestId}},
        "formatters": {"closeloop": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "closeloop",
                "filters": ["request_id", "redact"],
            }
        },
        "loggers": {
            "closeloop": {**console, "level": level},
            # Server errors (500s) with their traceback; 4xx warnings stay out (they are the access log's).
            "django.request": {**console, "level": "ERROR"},
            "django.server": {**console, "level": "ERROR"},
            "django.security": {**console, "level": "WARNING"},
            "axes": {**console, "level": "WARNING"},
        },
    }
