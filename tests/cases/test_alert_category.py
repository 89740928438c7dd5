"""A case row names what went wrong: the category of the first recovery alert of its response, or, for a case
that moved to a resubmission of its ticket, of the response it replaced. Found by index lookups, never by a
scan of the alerts for each case listed (that made the monitor take seconds at a million responses)."""

from __future__ import annotations

import pytest
from django.db import connection

from closeloop.cases.models import Case
from closeloop.cases.queries import with_alert_category
from tests.factories import ingest

pytestmark = pytest.mark.usefixtures("acme")

REFUND = {"ease": 9, "completed": True, "comment": "I want a refund."}  # At-risk customer, no template


def category_of(case: Case) -> str | None:
    return with_alert_category(Case.objects.filter(pk=case.pk)).get().alert_category


def test_a_case_names_its_first_recovery_alerts_category() -> None:
    case = Case.objects.get(response=ingest(prefix="cat", ticket="T-cat-1"))
    assert case.category == "Installation issues" and category_of(case) == "Installation issues"
    refund = Case.objects.get(response=ingest(REFUND, prefix="cat", ticket="T-cat-2"))
    assert category_of(refund) == "At-risk customer"


def test_a_case_that_moved_to_a_resubmission_keeps_the_earlier_responses_alert() -> None:
    first = ingest(prefix="cat", ticket="T-cat-3")
    case = Case.objects.get(response=first)
    again = ingest(REFUND, prefix="cat", ticket="T-cat-3")
    case.refresh_from_db()
    assert case.response_id == again.pk
    assert category_of(case) == "Installation issues"


def test_the_lookup_uses_indexes_only() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the plan checked is SQLite's")
    ingest(prefix="cat", ticket="T-cat-4")
    rows = with_alert_category(Case.objects.filter(state="open")).order_by("due_at", "id")[:100]
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = [row[-1] for row in cursor.fetchall()]
    searches = [step for step in plan if step.startswith(("SEARCH", "SCAN"))]
    assert not [step for step in searches if step.startswith("SCAN")], plan
    # Every look at the alerts goes straight to one response's (the index on response and kind), none walks
    # the recovery alerts in id order; the replaced response is found by its superseded_by index.
    on_alerts = [step for step in searches if "alert" in step]
    assert on_alerts and all("alert_response_kind (response_id=? AND kind=?)" in step for step in on_alerts), plan
    assert any("superseded_by" in step for step in searches), plan
