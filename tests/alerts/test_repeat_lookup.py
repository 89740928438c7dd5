"""The repeat-failure lookup of an ingest batch is one query that starts from the batch's customers: it
never walks the recovery alerts (SQLite chose that walk without statistics, and with Alert's ordering)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from closeloop.alerts.detection import _recent_recovery
from closeloop.feedback.models import Response
from tests.web.conftest import ingest

AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def test_the_lookup_is_one_query_from_the_customers_index(acme: None) -> None:
    earlier = ingest(at=AT)
    later = ingest(at=AT + timedelta(days=2), customer={"id": earlier.customer.external_id})
    batch = list(Response.objects.filter(pk=later.pk))
    with CaptureQueriesContext(connection) as queries:
        found = _recent_recovery(batch, timedelta(days=90), exclude={later.pk})
    assert found == {earlier.customer_id: [(earlier.submitted_at, earlier.pk)]}
    assert len(queries.captured_queries) == 1
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            # No statistics: the situation right after migrating, where the join used to go wrong.
            cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")
            cursor.execute(f"EXPLAIN QUERY PLAN {queries.captured_queries[0]['sql']}")
            plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
        assert "feedback_response USING COVERING INDEX" in plan and "customer_id=?" in plan, plan
        assert "kind=?)" not in plan.split("|")[0] and "TEMP B-TREE" not in plan, plan
