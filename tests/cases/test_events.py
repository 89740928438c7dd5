"""The timeline is append-only: in the model layer and in the database itself."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from closeloop.cases.models import AppendOnlyError, Case, CaseEvent
from closeloop.cases.services import do_add_note
from closeloop.org.models import Person

from .conftest import NOW


@pytest.fixture
def note(failed_install: Case) -> CaseEvent:
    return do_add_note(
        failed_install, text="Spoke to Pat.", spoke_to_customer=True, actor=Person.objects.get(key="erin"), now=NOW
    )


def test_a_saved_event_cannot_be_saved_again(note: CaseEvent) -> None:
    note.data = {"text": "Something else"}
    with pytest.raises(AppendOnlyError):
        note.save()


def test_an_event_cannot_be_deleted_through_the_orm(note: CaseEvent) -> None:
    with pytest.raises(AppendOnlyError):
        note.delete()
    with pytest.raises(AppendOnlyError):
        CaseEvent.objects.filter(pk=note.pk).delete()


def test_events_cannot_be_updated_in_bulk(note: CaseEvent) -> None:
    with pytest.raises(AppendOnlyError):
        CaseEvent.objects.filter(pk=note.pk).update(data={})


@pytest.mark.parametrize(
    "statement", ["UPDATE cases_caseevent SET data = '{}' WHERE id = %s", "DELETE FROM cases_caseevent WHERE id = %s"]
)
def test_the_database_rejects_raw_updates_and_deletes(note: CaseEvent, statement: str) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [note.pk])
    assert CaseEvent.objects.get(pk=note.pk).data["text"] == "Spoke to Pat."


def test_new_events_can_still_be_appended(note: CaseEvent) -> None:
    CaseEvent.objects.create(case=note.case, at=NOW, type="note", data={"text": "Correction: it was Monday."})
    assert note.case.events.filter(type="note").count() == 2


@pytest.mark.parametrize(
    "statement",
    [
        # Redaction must not rewrite anything but the words, nor hide an event twice.
        "UPDATE cases_caseevent SET redacted = TRUE, data = '{}', type = 'status' WHERE id = %s",
        "UPDATE cases_caseevent SET redacted = TRUE, data = '{}', actor_name = 'someone else' WHERE id = %s",
        "UPDATE cases_caseevent SET data = '{}' WHERE id = %s",
    ],
)
def test_the_database_allows_no_change_but_the_one_way_redaction(note: CaseEvent, statement: str) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [note.pk])
    assert CaseEvent.objects.get(pk=note.pk).data["text"] == "Spoke to Pat."


def test_redaction_replaces_the_words_once_and_only_once(note: CaseEvent) -> None:
    erased = {**note.data, "text": "erased"}
    assert CaseEvent.objects.redact({note.pk: erased}) == 1
    stored = CaseEvent.objects.get(pk=note.pk)
    assert (stored.redacted, stored.data["text"], stored.data["spoke_to_customer"]) == (True, "erased", True)
    assert (stored.type, stored.at, stored.actor_id) == (note.type, note.at, note.actor_id)
    # A second redaction finds nothing to redact, and the database refuses to undo the first.
    assert CaseEvent.objects.redact({note.pk: note.data}) == 0
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_caseevent SET redacted = FALSE, data = %s WHERE id = %s", ['{"text": "x"}', note.pk]
        )
    assert CaseEvent.objects.get(pk=note.pk).data["text"] == "erased"
