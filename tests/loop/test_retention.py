"""The retention report on a hand-made example: who was recovered, and who kept buying."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from closeloop.actions.follow_up import answer_follow_up
from closeloop.cases.models import Case
from closeloop.loop.models import Activity, FollowUp
from closeloop.loop.retention import retention_report
from closeloop.loop.services import make_token
from closeloop.worker.runner import run_due_work
from tests.loop.conftest import closed_case
from tests.web.conftest import login_as

CLOSED = datetime(2026, 10, 10, 15, 0, tzinfo=UTC)  # opened the day before, 9 October
OPENED_ON = date(2026, 10, 9)
DAY = date(2026, 10, 10)


def bought(case: Case, kind: str, days_after_opening: int) -> None:
    Activity.objects.create(
        customer=case.response.customer,
        date=OPENED_ON + timedelta(days=days_after_opening),
        kind=kind,
        created_at=timezone.now(),
    )


@pytest.fixture
def example(acme: None) -> dict[str, Case]:
    """a: said yes in the follow-up, bought 10 days later: recovered and retained.
    b: closed resolved, never answered the follow-up, renewed then cancelled: not recovered (the customer
       never said so), not retained.
    c: closed unresolved (no consent, so never asked), renewed: not recovered, retained.
    d: nobody spoke to them, bought 100 days later: never contacted, retained only with a longer window.
    e: closed outside the period."""
    cases = {
        "a": closed_case(closed_at=CLOSED),
        "b": closed_case(closed_at=CLOSED),
        "c": closed_case(
            closed_at=CLOSED, resolution="unresolved", id="C-ret-c", email="c@example.com", contact_ok=False
        ),
        "d": closed_case(closed_at=CLOSED, contacted=False),
        "e": closed_case(closed_at=CLOSED + timedelta(days=10)),
    }
    run_due_work(CLOSED + timedelta(days=2))
    answer_follow_up(make_token(FollowUp.objects.get(case=cases["a"]), "yes"), "yes", now=CLOSED + timedelta(days=3))
    bought(cases["a"], "purchase", 10)
    bought(cases["a"], "purchase", 0)  # the opening day itself does not count
    bought(cases["b"], "renewal", 5)
    bought(cases["b"], "cancellation", 20)
    bought(cases["c"], "renewal", 30)
    bought(cases["d"], "purchase", 100)
    bought(cases["e"], "purchase", 5)
    return cases


def groups(report) -> dict[str, tuple[int, int, float | None]]:  # type: ignore[no-untyped-def]
    return {row.group: (row.customers, row.retained, row.retained_percent) for row in report.groups}


def test_customers_are_grouped_by_how_their_case_ended(example: dict[str, Case]) -> None:
    report = retention_report(DAY, DAY)
    assert groups(report) == {
        "recovered": (1, 1, 100.0),
        "not_recovered": (2, 1, 50.0),
        "never_contacted": (1, 0, 0.0),
    }
    assert (report.customers, report.retained, report.retained_percent) == (4, 2, 50.0)


def test_the_window_decides_what_counts_as_retained(example: dict[str, Case]) -> None:
    assert groups(retention_report(DAY, DAY, days=120))["never_contacted"] == (1, 1, 100.0)
    # A week: a's purchase (day 10) is too late, b's cancellation (day 20) too, so b now counts as retained.
    assert groups(retention_report(DAY, DAY, days=7))["recovered"] == (1, 0, 0.0)
    assert groups(retention_report(DAY, DAY, days=7))["not_recovered"] == (2, 1, 50.0)
    assert groups(retention_report(DAY, DAY, days=4))["not_recovered"] == (2, 0, 0.0)


def test_the_api_returns_the_groups(example: dict[str, Case], api_as) -> None:
    client = api_as("read")
    answer = client.get("/api/v1/reports/retention", **{"from": "2026-10-10", "to": "2026-10-10", "days": "90"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["from"] == "2026-10-10" and body["days"] == 90
    assert body["retained_percent"] == 50.0
    assert [g["group"] for g in body["groups"]] == ["recovered", "not_recovered", "never_contacted"]
    assert body["groups"][0] == {"group": "recovered", "customers": 1, "retained": 1, "retained_percent": 100.0}


def test_the_api_checks_its_input_and_scope(example: dict[str, Case], api_as) -> None:
    client = api_as("read")
    for query, field in (({"days": "0"}, "days"), ({"from": "2026-10-11", "to": "2026-10-10"}, "to")):
        answer = client.get("/api/v1/reports/retention", **query)
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["loc"] == [field]
    assert client.get("/api/v1/reports/retention", unit="NOPE").status_code == 422
    assert api_as("ingest").get("/api/v1/reports/retention").status_code == 403


def test_a_lead_sees_only_their_units(example: dict[str, Case], api_as) -> None:
    from closeloop.org.models import Person

    ursula = api_as("read", person=Person.objects.get(key="ursula"))
    body = ursula.get("/api/v1/reports/retention", **{"from": "2026-10-10", "to": "2026-10-10"}).json()
    assert body["customers"] == 0


def test_the_reports_page_links_to_the_retention_table(example: dict[str, Case]) -> None:
    client = login_as("admin")
    assert b'href="/reports/retention/"' in client.get("/reports/").content
    page = client.get("/reports/retention/", {"date_from": "2026-10-10", "date_to": "2026-10-10", "days": "90"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Never contacted" in text and "Not recovered" in text
    assert "50 %" in text and "100 %" in text
