"""Real `closeloop` processes for the tests: their environment, their own databases, waiting for them.

The multi-process tests start the CLI exactly as an operator would, against a SQLite file in a
temporary home or a PostgreSQL database of their own (created beside the test database, with its
name as a prefix, and dropped afterwards).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

CLOSELOOP = str(Path(sys.executable).with_name("closeloop"))


def closeloop_env(home: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a closeloop process: this test's home and database, nothing from the developer's shell."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CLOSELOOP_", "DJANGO_"))
        and k not in ("DATABASE_URL", "EMAIL_URL", "SMS_URL", "SITE_URL", "METRICS_TOKEN", "LOG_FORMAT")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="closeloop.settings",
        CLOSELOOP_HOME=str(home),
        DATABASE_URL=database_url or f"sqlite:///{home / 'closeloop.sqlite3'}",
        CLOSELOOP_LOG_LEVEL="WARNING",
        SECRET_KEY="test-secret-key-for-the-cli-processes",
    )
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@contextlib.contextmanager
def fresh_postgres_database(purpose: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database named after CLOSELOOP_TEST_POSTGRES's; dropped on exit."""
    base = os.environ["CLOSELOOP_TEST_POSTGRES"]
    name = f"{urlsplit(base).path.lstrip('/')}_{purpose}_{secrets.token_hex(3)}"
    admin_url = _with_database(base, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(base, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_cli(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLOSELOOP, *args], env=env, capture_output=True, text=True, timeout=timeout)


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    """Until `url` answers at all (any status), the process died, or `timeout` seconds passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the process exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def stop(process: subprocess.Popen, timeout: float = 30) -> str:
    """SIGTERM, then SIGKILL if it does not stop; returns what it printed."""
    if process.poll() is None:
        process.terminate()
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output or ""


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 120) -> None:
    """Until something listens on 127.0.0.1:`port`, without sending a request (the first request is the test's)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the process exited with {process.returncode} before listening on {port}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listened on port {port} within {timeout} s")
