"""List pages cost the same number of queries for 3 rows as for 30: no query per row; the monitor reads its
counters in one aggregate and two counts."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from closeloop.cases.models import Case
from closeloop.cases.services import do_add_note
from tests.web.conftest import ingest, login_as

PAGES = ["/", "/monitor/?scope=all", "/cases/?state=all", "/responses/", "/alerts/", "/praise/", "/outbox/"]


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def _add(count: int) -> None:
    """`count` cases with a note, and as many praise alerts."""
    for _ in range(count):
        case = Case.objects.get(response=ingest())
        do_add_note(case, text="Called.", now=timezone.now())
        ingest({"ease": 10, "completed": True, "comment": "Lovely."})


@pytest.mark.parametrize("url", PAGES)
def test_no_query_per_row(admin_client_acme: Client, url: str) -> None:
    _add(3)
    few = _queries(admin_client_acme, url)
    _add(27)
    assert _queries(admin_client_acme, url) == few


def _case_and_alert_reads(client: Client, url: str) -> list[str]:
    """The SQL of the page's queries whose main table is the cases or the alerts."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    main_table = re.compile(r'SELECT .*? FROM "(cases_case|alerts_alert)"( |$)')
    return [query["sql"] for query in captured.captured_queries if main_table.match(query["sql"])]


@pytest.mark.parametrize(
    ("who", "url", "conditioned"),
    [
        # Erin leads SUP-EMEA: her cases are those of her unit's subtree that name her.
        ("erin", "/monitor/", 3),
        # Ada is an admin: her own cases are those that name her; all cases come without a condition.
        ("admin", "/monitor/", 3),
        ("admin", "/monitor/?scope=all", 0),
    ],
)
def test_the_monitor_reads_its_counters_in_three_queries(acme: None, who: str, url: str, conditioned: int) -> None:
    _add(3)
    reads = _case_and_alert_reads(login_as(who), url)
    # The 100 rows; open, overdue and due soon in one aggregate; contacted today; praise this week.
    assert len(reads) == 4, reads
    assert reads[1].count("COUNT(") == 3
    assert "COUNT(DISTINCT" in reads[3]
    # Who the cases name (the managers' link is part of that condition) is tested in the rows, the aggregate and
    # contacted today: once in each, not once per counter.
    assert sum('"cases_case_managers"' in sql for sql in reads) == conditioned
