"""Shared fixtures and the rules for PostgreSQL-only and browser tests."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

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
