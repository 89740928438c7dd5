"""The environment is parsed once; every bad value names its variable."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from closeloop.environment import BadEnvironment, load


def test_defaults_put_sqlite_in_the_home_folder_with_wal_and_immediate_writes(tmp_path: Path) -> None:
    env = load({"CLOSELOOP_HOME": str(tmp_path / "home")}, tmp_path)
    assert env.database["NAME"] == str(tmp_path / "home" / "closeloop.sqlite3")
    assert env.database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in env.database["OPTIONS"]["init_command"]
    assert env.site_url == "http://127.0.0.1:8000"
    assert env.email is None and env.sms_url is None
    assert env.default_from_email == "closeloop@localhost"


def test_home_defaults_to_var_in_the_working_folder(tmp_path: Path) -> None:
    env = load({}, tmp_path)
    assert env.home == (tmp_path / "var").resolve()


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = load({"CLOSELOOP_HOME": str(tmp_path)}, tmp_path).secret_key
    second = load({"CLOSELOOP_HOME": str(tmp_path)}, tmp_path).secret_key
    assert first == second and len(first) > 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert load({"CLOSELOOP_HOME": str(tmp_path), "SECRET_KEY": "given"}, tmp_path).secret_key == "given"


def test_postgres_url_is_understood(tmp_path: Path) -> None:
    env = load({"CLOSELOOP_HOME": str(tmp_path), "DATABASE_URL": "postgres://u:p@db:5433/cl"}, tmp_path)
    assert env.database["ENGINE"] == "django.db.backends.postgresql"
    assert (env.database["HOST"], env.database["PORT"], env.database["NAME"]) == ("db", 5433, "cl")


@pytest.mark.parametrize(
    ("url", "host", "port", "tls", "ssl", "user"),
    [
        ("smtp://mail:2525", "mail", 2525, False, False, ""),
        ("smtp+tls://me%40x.com:pw@mail.example.com:587", "mail.example.com", 587, True, False, "me@x.com"),
        ("smtp+ssl://mail.example.com", "mail.example.com", 465, False, True, ""),
    ],
)
def test_email_urls(tmp_path: Path, url: str, host: str, port: int, tls: bool, ssl: bool, user: str) -> None:
    email = load({"CLOSELOOP_HOME": str(tmp_path), "EMAIL_URL": url}, tmp_path).email
    assert email is not None
    assert (email.host, email.port, email.use_tls, email.use_ssl, email.username) == (
        host,
        port,
        tls,
        ssl,
        user,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://x/y"),
        ("DATABASE_URL", "postgres://host:5432/"),
        ("EMAIL_URL", "http://mail"),
        ("EMAIL_URL", "smtp://"),
        ("EMAIL_URL", "smtp://mail:notaport"),
        ("SITE_URL", "closeloop.example.com"),
        ("SMS_URL", "json://localhost:9000/sms"),
        ("SMS_URL", "not a url"),
        ("DEFAULT_FROM_EMAIL", "nobody"),
        ("CLOSELOOP_DEBUG", "maybe"),
        ("CLOSELOOP_MESSAGE_RETENTION", "forever"),
        ("CLOSELOOP_MESSAGE_RETENTION", "2h"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(BadEnvironment, match=f"^{name}:"):
        load({"CLOSELOOP_HOME": str(tmp_path), name: value}, tmp_path)


def test_message_bodies_are_kept_90_days_unless_configured(tmp_path: Path) -> None:
    assert load({"CLOSELOOP_HOME": str(tmp_path)}, tmp_path).message_retention == timedelta(days=90)
    custom = {"CLOSELOOP_HOME": str(tmp_path), "CLOSELOOP_MESSAGE_RETENTION": "2w"}
    assert load(custom, tmp_path).message_retention == timedelta(weeks=2)


def test_home_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(BadEnvironment, match="^CLOSELOOP_HOME:"):
        load({"CLOSELOOP_HOME": str(tmp_path / "file")}, tmp_path)


def test_the_cli_stops_at_start_naming_the_bad_variable(tmp_path: Path) -> None:
    cli = Path(sys.executable).parent / "closeloop"
    result = subprocess.run(
        [str(cli), "check"],
        env={"CLOSELOOP_HOME": str(tmp_path), "EMAIL_URL": "pop3://mail", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "EMAIL_URL: unsupported scheme 'pop3'" in result.stderr
    assert "Traceback" not in result.stderr


def test_connections_are_kept_between_requests_on_both_databases(tmp_path: Path) -> None:
    sqlite = load({"CLOSELOOP_HOME": str(tmp_path)}, tmp_path).database
    postgres = load({"CLOSELOOP_HOME": str(tmp_path), "DATABASE_URL": "postgres://u@db/cl"}, tmp_path).database
    assert sqlite["CONN_MAX_AGE"] == postgres["CONN_MAX_AGE"] == 600
    assert sqlite["CONN_HEALTH_CHECKS"] and postgres["CONN_HEALTH_CHECKS"]


@pytest.mark.parametrize(
    ("value", "size"),
    [("", 25 * 1024 * 1024), ("25MiB", 26_214_400), ("20 MB", 20_000_000), ("1000", 1000), ("1GiB", 1024**3)],
)
def test_the_largest_recording_is_read_as_a_size(tmp_path: Path, value: str, size: int) -> None:
    environ = {"CLOSELOOP_HOME": str(tmp_path), "CLOSELOOP_AUDIO_MAX_BYTES": value}
    assert load(environ, tmp_path).audio_max_bytes == size


@pytest.mark.parametrize("value", ["lots", "0", "-5", "1.5MB", "5TB"])
def test_a_recording_limit_that_is_not_a_size_names_the_variable(tmp_path: Path, value: str) -> None:
    environ = {"CLOSELOOP_HOME": str(tmp_path), "CLOSELOOP_AUDIO_MAX_BYTES": value}
    with pytest.raises(BadEnvironment, match=f"^CLOSELOOP_AUDIO_MAX_BYTES: '{value}' is not a size"):
        load(environ, tmp_path)
