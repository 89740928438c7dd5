"""Emptying the whole database (`flush`, as transactional tests do) works although case and audit events are
append-only."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from closeloop.audit.log import record_view
from closeloop.audit.models import AuditEvent
from closeloop.cases.models import CaseEvent
from closeloop.config.apply import apply_config
from tests.conftest import FIXTURES

from .conftest import ingest


@pytest.mark.django_db(transaction=True)
def test_flush_empties_a_database_with_case_events_and_keeps_the_triggers(acme: None) -> None:
    ingest()
    record_view("case:1", now=timezone.now(), actor=None, actor_name="api", surface="api")
    assert CaseEvent.objects.exists()
    assert AuditEvent.objects.exists()
    call_command("flush", interactive=False, stdout=io.StringIO())
    assert not CaseEvent.objects.exists()
    assert not AuditEvent.objects.exists()
    # The guard is back: a new event still cannot be deleted with raw SQL.
    apply_config((FIXTURES / "acme.yaml").read_text())
    ingest()
    event = CaseEvent.objects.first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_caseevent WHERE id = %s", [event.pk])
    audit = record_view("case:1", now=timezone.now(), actor=None, actor_name="api", surface="api")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [audit.pk])
