"""Parse closeloop's environment once, with errors that name the variable.

Kept free of Django so it can be tested as plain functions and so settings.py
stays a thin list of assignments.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import dj_database_url

from closeloop.core.durations import BadDuration, parse_duration

# An interview of half an hour in a compressed format, or a few minutes of WAV.
DEFAULT_AUDIO_MAX_BYTES = 25 * 1024 * 1024
# The home folder and the files in it (SQLite database, secret key, demo login) are the owner's only.
PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
DEFAULT_RETRY_FOR = timedelta(hours=24)
LOG_FORMATS = ("text", "json")


class BadEnvironment(ValueError):
    """A variable has a value closeloop cannot use; the message names it."""


@dataclass(frozen=True)
class EmailServer:
    host: str
    port: int
    username: str
    password: str
    use_tls: bool
    use_ssl: bool


@dataclass(frozen=True)
class Environment:
    home: Path
    database: dict[str, Any]
    site_url: str
    email: EmailServer | None
    sms_url: str | None
    default_from_email: str
    secret_key: str
    debug: bool
    # How long the bodies of sent messages are kept (the outbox keeps who got what and when for ever).
    message_retention: timedelta = timedelta(days=90)
    audio_max_bytes: int = DEFAULT_AUDIO_MAX_BYTES
    log_format: str = "text"
    metrics_token: str | None = None
    proxy_ssl_header: tuple[str, str] | None = None
    trusted_proxy_count: int = 0
    retry_for: timedelta = DEFAULT_RETRY_FOR


def parse_database_url(url: str) -> dict[str, Any]:
    """Django DATABASES entry for `url`; SQLite gets WAL, a busy timeout and IMMEDIATE writes."""
    scheme = urlsplit(url).scheme
    if scheme not in ("sqlite", "postgres", "postgresql", "pgsql"):
        raise BadEnvironment(
            f"DATABASE_URL: unsupported scheme {scheme!r}; use sqlite:///PATH or postgres://user:pass@host:port/db"
        )
    try:
        config = dj_database_url.parse(url)
    except Exception as exc:  # the library raises several types for one cause: a bad URL
        raise BadEnvironment(f"DATABASE_URL: {exc}") from exc
    if config["ENGINE"] == "django.db.backends.sqlite3":
        if not config.get("NAME") or config["NAME"] == ":memory:":
            raise BadEnvironment("DATABASE_URL: a SQLite URL needs a file path, e.g. sqlite:////var/closeloop.db")
        config["OPTIONS"] = {
            # IMMEDIATE takes the write lock at BEGIN, so two writers queue on
            # busy_timeout instead of failing with "database is locked" mid-transaction.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    elif not config.get("NAME"):
        raise BadEnvironment("DATABASE_URL: a PostgreSQL URL needs a database name after the last /")
    # Keep each thread's connection between requests: opening one (and, on SQLite, reading the
    # schema and running the PRAGMAs again) cost more than a whole alert's queries.
    config["CONN_MAX_AGE"] = 600
    config["CONN_HEALTH_CHECKS"] = True
    return dict(config)


def parse_email_url(url: str) -> EmailServer:
    """`smtp://host:port`, `smtp+tls://user:pass@host:587` or `smtp+ssl://...`."""
    parts = urlsplit(url)
    defaults = {"smtp": 25, "smtp+tls": 587, "smtp+ssl": 465}
    if parts.scheme not in defaults:
        raise BadEnvironment(f"EMAIL_URL: unsupported scheme {parts.scheme!r}; use smtp://, smtp+tls:// or smtp+ssl://")
    if not parts.hostname:
        raise BadEnvironment("EMAIL_URL: the URL has no host, e.g. smtp://mail.example.com:25")
    try:
        port = parts.port or defaults[parts.scheme]
    except ValueError as exc:
        raise BadEnvironment(f"EMAIL_URL: bad port ({exc})") from exc
    return EmailServer(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_tls=parts.scheme == "smtp+tls",
        use_ssl=parts.scheme == "smtp+ssl",
    )


def parse_site_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadEnvironment(f"SITE_URL: {url!r} is not an absolute http(s) URL, e.g. https://closeloop.example.com")
    return url.rstrip("/")


def parse_sms_url(url: str) -> str:
    if "://" not in url:
        raise BadEnvironment(f"SMS_URL: {url!r} is not an Apprise URL, e.g. json://host:port/sms/{{phone}}")
    if "{phone}" not in url:
        raise BadEnvironment("SMS_URL: the URL must contain {phone} where the recipient's number goes")
    return url


def parse_from_email(value: str) -> str:
    if "@" not in value:
        raise BadEnvironment(f"DEFAULT_FROM_EMAIL: {value!r} is not an email address")
    return value


def load_secret_key(home: Path) -> str:
    """The key stored in the home folder, generated on first use so restarts keep sessions valid."""
    path = home / "secret_key"
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    key = secrets.token_urlsafe(50)
    home.mkdir(parents=True, exist_ok=True)
    create_private_file(path)
    path.write_text(key)
    path.chmod(PRIVATE_FILE)
    return key


def parse_retention(value: str) -> timedelta:
    """`CLOSELOOP_MESSAGE_RETENTION`: a duration such as 30d or 2w, at least a day."""
    try:
        kept = parse_duration(value)
    except BadDuration as exc:
        raise BadEnvironment(f"CLOSELOOP_MESSAGE_RETENTION: {exc}") from None
    if kept < timedelta(days=1):
        raise BadEnvironment(f"CLOSELOOP_MESSAGE_RETENTION: {value!r} is shorter than a day")
    return kept


_SIZE_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": 1024**2, "gib": 1024**3}


def parse_size(name: str, value: str) -> int:
    """A size in bytes: "26214400", "25MiB", "20 MB"."""
    text = value.strip().lower().replace(" ", "")
    number = text.rstrip("kmgib")
    unit = text[len(number) :]
    if not number.isdigit() or unit not in _SIZE_UNITS or int(number) == 0:
        raise BadEnvironment(f"{name}: {value!r} is not a size; use bytes or a unit, e.g. 25MiB or 20MB")
    return int(number) * _SIZE_UNITS[unit]


def create_private_file(path: Path) -> None:
    """Create `path` empty and readable by its owner only, unless it exists already.

    SQLite gives its -wal and -shm files the permissions of the database file, so a database
    file created here keeps all three private.
    """
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE)
    except FileExistsError:
        return
    os.close(descriptor)


def create_home(home: Path) -> None:
    """The data folder, created readable by its owner only; an existing folder is left as the operator made it."""
    if home.exists():
        return
    try:
        home.mkdir(parents=True, mode=PRIVATE_FOLDER)
    except OSError as exc:
        raise BadEnvironment(f"CLOSELOOP_HOME: cannot create {home} ({exc.strerror})") from exc
    # mkdir's mode is reduced by the umask; the folder itself must end up 0700 whatever it is.
    home.chmod(PRIVATE_FOLDER)


def prepare_sqlite_file(database: dict[str, Any]) -> None:
    """Create a new SQLite database file private before SQLite creates it with the umask's permissions."""
    if database.get("ENGINE") != "django.db.backends.sqlite3":
        return
    path = Path(database["NAME"])
    if path.parent.is_dir():
        create_private_file(path)


def parse_log_format(value: str) -> str:
    lowered = value.strip().lower() or "text"
    if lowered not in LOG_FORMATS:
        raise BadEnvironment(f"LOG_FORMAT: {value!r} is not one of text, json")
    return lowered


def parse_proxy_ssl_header(value: str) -> tuple[str, str] | None:
    """`X-Forwarded-Proto` (meaning `X-Forwarded-Proto: https`) or `Header-Name: value`, as Django's
    SECURE_PROXY_SSL_HEADER wants it: ("HTTP_X_FORWARDED_PROTO", "https")."""
    if not value.strip():
        return None
    name, _, expected = value.partition(":")
    name, expected = name.strip(), expected.strip() or "https"
    if not name or not all(c.isalnum() or c == "-" for c in name):
        raise BadEnvironment(
            f"SECURE_PROXY_SSL_HEADER: {value!r} is not a header name, "
            "e.g. X-Forwarded-Proto or X-Forwarded-Proto: https"
        )
    return "HTTP_" + name.upper().replace("-", "_"), expected


def parse_proxy_count(value: str) -> int:
    try:
        count = int(value.strip() or "0")
    except ValueError:
        count = -1
    if not 0 <= count <= 10:
        raise BadEnvironment(f"TRUSTED_PROXY_COUNT: {value!r} is not a number of proxies from 0 to 10")
    return count


def parse_retry_for(value: str) -> timedelta:
    if not value.strip():
        return DEFAULT_RETRY_FOR
    try:
        duration = parse_duration(value)
    except BadDuration as exc:
        raise BadEnvironment(f"CLOSELOOP_RETRY_FOR: {exc}") from None
    if duration <= timedelta(0):
        raise BadEnvironment("CLOSELOOP_RETRY_FOR: must be longer than 0s, e.g. 24h")
    return duration


def parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise BadEnvironment(f"{name}: {value!r} is not a boolean (use true or false)")


def load(environ: dict[str, str], cwd: Path) -> Environment:
    """Read every closeloop variable from `environ`; raise on the first bad one."""
    home = Path(environ.get("CLOSELOOP_HOME") or cwd / "var").expanduser()
    if home.exists() and not home.is_dir():
        raise BadEnvironment(f"CLOSELOOP_HOME: {home} exists and is not a folder")
    home = home.resolve()
    create_home(home)
    database_url = environ.get("DATABASE_URL") or f"sqlite:///{home / 'closeloop.sqlite3'}"
    email_url = environ.get("EMAIL_URL")
    sms_url = environ.get("SMS_URL")
    database = parse_database_url(database_url)
    prepare_sqlite_file(database)
    return Environment(
        home=home,
        database=database,
        site_url=parse_site_url(environ.get("SITE_URL") or "http://127.0.0.1:8000"),
        email=parse_email_url(email_url) if email_url else None,
        sms_url=parse_sms_url(sms_url) if sms_url else None,
        default_from_email=parse_from_email(environ.get("DEFAULT_FROM_EMAIL") or "closeloop@localhost"),
        secret_key=environ.get("SECRET_KEY") or load_secret_key(home),
        debug=parse_bool("CLOSELOOP_DEBUG", environ.get("CLOSELOOP_DEBUG", "")),
        message_retention=parse_retention(environ.get("CLOSELOOP_MESSAGE_RETENTION") or "90d"),
        audio_max_bytes=parse_size("CLOSELOOP_AUDIO_MAX_BYTES", environ["CLOSELOOP_AUDIO_MAX_BYTES"])
        if environ.get("CLOSELOOP_AUDIO_MAX_BYTES")
        else DEFAULT_AUDIO_MAX_BYTES,
        log_format=parse_log_format(environ.get("LOG_FORMAT", "")),
        metrics_token=environ.get("METRICS_TOKEN", "").strip() or None,
        proxy_ssl_header=parse_proxy_ssl_header(environ.get("SECURE_PROXY_SSL_HEADER", "")),
        trusted_proxy_count=parse_proxy_count(environ.get("TRUSTED_PROXY_COUNT", "")),
        retry_for=parse_retry_for(environ.get("CLOSELOOP_RETRY_FOR", "")),
    )
