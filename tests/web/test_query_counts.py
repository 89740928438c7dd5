"""List pages cost the same number of queries for 3 rows as for 30: no query per row."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from closeloop.cases.models import Case
from closeloop.cases.services import do_add_note
from tests.web.conftest import ingest

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
