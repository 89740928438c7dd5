"""Planner statistics are refreshed by `migrate` and by a big import."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from closeloop.org import statistics
from closeloop.org.models import Unit


@pytest.mark.django_db
def test_migrate_refreshes_the_statistics(monkeypatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(statistics, "refresh_statistics", lambda using="default": calls.append(using))
    call_command("migrate", verbosity=0)
    assert calls == ["default"]


@pytest.mark.django_db
def test_refreshing_writes_sqlite_statistics() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("sqlite_stat1 is SQLite's")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")
        Unit.objects.create(code="A", name="A", path="/A/")
        statistics.refresh_statistics()
        cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'org_unit'")
        assert cursor.fetchone()[0] > 0
