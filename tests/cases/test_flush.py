"""Emptying the whole database (`flush`, as transactional tests do) works although case events are append-only."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from closeloop.cases.models import CaseEvent
from closeloop.config.apply import apply_config
from tests.conftest import FIXTURES

from .conftest import ingest


@pytest.mark.django_db(transaction=True)
def test_flush_empties_a_database_with_case_events_and_keeps_the_triggers(acme: None) -> None:
    ingest()
    assert CaseEvent.objects.exists()
    call_command("flush", interactive=False, stdout=io.StringIO())
    assert not CaseEvent.objects.exists()
    # The guard is back: a new event still cannot be deleted with raw SQL.
    apply_config((FIXTURES / "acme.yaml").read_text())
    ingest()
    event = CaseEvent.objects.first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_caseevent WHERE id = %s", [event.pk])
