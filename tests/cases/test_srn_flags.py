"""The `srn` filters read the responses' own flags (`has_notes`, `spoken_to`), kept by the case services: the
same responses as the definition on the case's notes, through resubmissions and erasure, filled in for the
responses stored before the flags by the migration, and each an indexed condition instead of a look into
the timeline for every response."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Exists, OuterRef, QuerySet
from django.test.utils import CaptureQueriesContext

from closeloop.actions.fix_response import fix_response
from closeloop.actions.privacy import erase_customer_data
from closeloop.cases.models import CaseEvent
from closeloop.cases.queries import responses_for_srn
from closeloop.cases.services import do_add_note, do_change_status
from closeloop.core.vocabulary import SRN_CODES
from closeloop.feedback.models import Response
from closeloop.org.models import Person
from tests.helpers import race

from .conftest import NOW, case_of, ingest

HAPPY = {"ease": 10, "completed": True, "comment": "All sorted."}


def by_the_notes(queryset: QuerySet[Response], srn: str) -> QuerySet[Response]:
    """The filters as defined on the notes of the response's case (how they were queried before the flags)."""
    if srn in ("y", "n"):
        return queryset
    if srn == "r":
        return queryset.filter(needs_recovery=True)
    notes = CaseEvent.objects.filter(case__response=OuterRef("pk"), type=CaseEvent.Type.NOTE)
    spoken = notes.filter(data__spoke_to_customer=True)
    if srn == "x":
        return queryset.filter(needs_recovery=True).filter(~Exists(notes))
    if srn == "w":
        return queryset.filter(Exists(notes))
    if srn == "v":
        return queryset.filter(Exists(notes)).filter(~Exists(spoken))
    return queryset.filter(Exists(spoken))


def ids(queryset: QuerySet[Response]) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


@pytest.fixture
def mixed(acme: None) -> dict[str, Response]:
    """Responses in every state the filters tell apart, with cases that moved to resubmissions and an erased
    customer's."""
    erin = Person.objects.get(key="erin")
    later = NOW + timedelta(hours=1)

    def note(response: Response, spoke: bool = False, at: Any = later) -> None:
        do_add_note(case_of(response), text="Rang.", spoke_to_customer=spoke, actor=erin, now=at)

    made = {
        "untouched": ingest(),
        "voicemail": ingest(),
        "spoke": ingest(),
        "happy": ingest(HAPPY),
    }
    note(made["voicemail"])
    note(made["spoke"])
    note(made["spoke"], spoke=True)
    # A case with a spoken note moves to the customer's resubmission, unhappy again.
    made["resubmitted_from"] = ingest(ticket="T-900")
    note(made["resubmitted_from"], spoke=True)
    made["resubmitted"] = ingest(ticket="T-900", at=NOW + timedelta(hours=2))
    # A case with a note that did not reach the customer moves to a happy resubmission (no longer needing
    # recovery, still with its case's note), which gets a note of its own afterwards.
    made["recovered_from"] = ingest(ticket="T-901")
    note(made["recovered_from"])
    made["recovered"] = ingest(HAPPY, ticket="T-901", at=NOW + timedelta(hours=2))
    note(made["recovered"], spoke=True, at=NOW + timedelta(hours=3))
    # A case without notes moves: nothing to carry, and the first note afterwards is the new response's.
    made["bare_from"] = ingest(ticket="T-902")
    made["bare"] = ingest(ticket="T-902", at=NOW + timedelta(hours=2))
    # A quarantined resubmission takes the case over once fixed (the other way a case moves).
    made["fixed_from"] = ingest(ticket="T-903")
    note(made["fixed_from"])
    made["fixed"] = ingest(ticket="T-903", unit="NOPE", at=NOW + timedelta(hours=2))
    fix_response(made["fixed"], {"unit": "SUP-EMEA"}, now=NOW + timedelta(hours=3))
    # A status change with a note that spoke to the customer writes the note through the same service.
    made["status_note"] = ingest()
    do_change_status(
        case_of(made["status_note"]), status="Pending", note="Talked it through.", spoke_to_customer=True, now=later
    )
    # An erased customer's notes keep their shape (only the words go), so the filters keep counting them.
    made["erased"] = ingest(customer_id="C-ERASE")
    note(made["erased"], spoke=True)
    erase_customer_data("C-ERASE", actor_name="privacy officer", now=NOW + timedelta(hours=4))
    for response in made.values():
        response.refresh_from_db()
    return made


@pytest.mark.parametrize("srn", SRN_CODES)
def test_each_filter_lists_what_the_notes_say(mixed: dict[str, Response], srn: str) -> None:
    everything = Response.objects.all()
    current = Response.objects.filter(superseded_by__isnull=True)
    assert ids(responses_for_srn(everything, srn)) == ids(by_the_notes(everything, srn))
    assert ids(responses_for_srn(current, srn)) == ids(by_the_notes(current, srn))


def test_the_data_set_has_each_case_the_filters_tell_apart(mixed: dict[str, Response]) -> None:
    def named(srn: str) -> set[str]:
        found = ids(responses_for_srn(Response.objects.all(), srn))
        return {name for name, response in mixed.items() if response.pk in found}

    assert named("x") == {"untouched", "resubmitted_from", "recovered_from", "bare_from", "bare", "fixed_from"}
    assert named("w") == {"voicemail", "spoke", "resubmitted", "recovered", "fixed", "status_note", "erased"}
    assert named("v") == {"voicemail", "fixed"}
    assert named("s") == {"spoke", "resubmitted", "recovered", "status_note", "erased"}
    assert mixed["resubmitted_from"].superseded_by_id == mixed["resubmitted"].pk
    assert CaseEvent.objects.get(case__response=mixed["erased"], type="note").data["text"] == "erased"


def test_the_case_leaving_a_response_takes_the_flags_along(mixed: dict[str, Response]) -> None:
    flags = {name: (r.has_notes, r.spoken_to) for name, r in mixed.items()}
    assert flags["resubmitted_from"] == (False, False) and flags["resubmitted"] == (True, True)
    assert flags["recovered_from"] == (False, False) and flags["recovered"] == (True, True)
    assert flags["fixed_from"] == (False, False) and flags["fixed"] == (True, False)
    assert flags["erased"] == (True, True)


@pytest.mark.django_db(transaction=True)
def test_the_migration_sets_the_flags_of_responses_stored_before_them(mixed: dict[str, Response]) -> None:
    Response.objects.update(has_notes=False, spoken_to=False)  # as the columns are when 0009 has added them
    executor = MigrationExecutor(connection)
    executor.migrate([("feedback", "0009_response_note_flags")])
    executor.loader.build_graph()
    with CaptureQueriesContext(connection) as queries:
        executor.migrate([("feedback", "0010_response_note_flags_backfill")])
    # Going back to 0009 also took back what depends on 0010: the database leaves as it came, fully migrated.
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1 and "EXISTS" in updates[0], "one statement, whatever the number of responses"
    for srn in SRN_CODES:
        assert ids(responses_for_srn(Response.objects.all(), srn)) == ids(by_the_notes(Response.objects.all(), srn))
    assert Response.objects.filter(has_notes=True).count() == 7


@pytest.mark.usefixtures("acme")
def test_listing_srn_x_over_the_api_costs_the_same_queries_for_5_rows_as_for_50(api_as: Any) -> None:
    client = api_as("read")
    for _ in range(5):
        ingest()
    client.get("/api/v1/responses", srn="x")  # the token's first use of the minute also records last_used_at
    with CaptureQueriesContext(connection) as few:
        page = client.get("/api/v1/responses", srn="x").json()
    # Counted now: the next request's start clears the connection's log the context reads.
    five = len(few.captured_queries)
    assert page["count"] == 5
    for _ in range(45):
        ingest()
    noted = ingest()
    do_add_note(case_of(noted), text="Rang.", now=NOW)
    with CaptureQueriesContext(connection) as many:
        page = client.get("/api/v1/responses", srn="x").json()
    assert page["count"] == 50 and noted.pk not in {item["id"] for item in page["items"]}
    assert len(many.captured_queries) == five
    listing = [q["sql"] for q in many.captured_queries if 'FROM "feedback_response"' in q["sql"]]
    assert listing and not any("cases_caseevent" in sql.split("FROM", 1)[1].split("ORDER BY")[0] for sql in listing)


def plan_of(queryset: QuerySet[Response]) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Thousands of rows are still read fastest without any index: ask what it does with millions.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


@pytest.fixture
def many_responses(acme: None) -> None:
    """Thousands of responses, a third needing recovery and most of those with notes, and the planner's
    statistics on them: how a database looks after an import, not an empty one that any index answers."""
    model = ingest()
    fields = {f.attname: getattr(model, f.attname) for f in Response._meta.concrete_fields if f.attname != "id"}
    rows = []
    for n in range(3000):
        fields |= {"external_id": f"bulk-{n}", "ticket": f"B-{n}", "submitted_at": NOW - timedelta(minutes=n)}
        # Of those needing recovery, a tenth have no note yet, four tenths notes that did not reach the customer.
        unhappy, step = n % 3 == 0, n // 3 % 10
        fields |= {"needs_recovery": unhappy, "has_notes": unhappy and step > 0, "spoken_to": unhappy and step > 4}
        rows.append(Response(**fields))
    Response.objects.bulk_create(rows, batch_size=500)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


@pytest.mark.parametrize(("srn", "index"), [("x", "response_srn_unnoted"), ("v", "response_srn_noted")])
def test_the_filter_is_a_lookup_in_its_index_not_a_subquery_per_row(many_responses: None, srn: str, index: str) -> None:
    current = Response.objects.filter(superseded_by__isnull=True)
    listed = responses_for_srn(current, srn)
    count = plan_of(listed.order_by().values("pk"))
    page = plan_of(listed.order_by("-submitted_at", "-id")[:51])
    for plan in (count, page):
        assert "cases_caseevent" not in plan and "SubPlan" not in plan and "CORRELATED" not in plan, plan
    assert index in count, count
    if connection.vendor == "sqlite":
        assert "has_notes=?" in count and "TEMP B-TREE FOR ORDER BY" not in page, (count, page)
    else:
        assert "has_notes = " in count, count


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_notes_written_while_the_customer_resubmits_end_on_the_current_response(acme: None, attempt: int) -> None:
    case = case_of(ingest(ticket="T-950"))
    later = [NOW + timedelta(hours=hours) for hours in (1, 2)]
    errors = race(
        [
            lambda: do_add_note(case, text="Rang.", spoke_to_customer=True, now=NOW),
            lambda: ingest(ticket="T-950", at=later[0]),
            lambda: do_add_note(case, text="Rang again.", now=NOW),
            lambda: ingest(ticket="T-950", at=later[1]),
        ]
    )
    assert errors == []
    current = Response.objects.get(ticket="T-950", superseded_by__isnull=True)
    assert case_of(current).pk == case.pk and (current.has_notes, current.spoken_to) == (True, True)
    for srn in SRN_CODES:
        assert ids(responses_for_srn(Response.objects.all(), srn)) == ids(by_the_notes(Response.objects.all(), srn))
