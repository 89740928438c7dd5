"""The loop summary: facts from the database computed by closeloop.core.metrics, in the API, the page and CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client

from closeloop.cases.models import Case
from closeloop.cases.services import do_add_note, do_change_status
from closeloop.org.models import Person, Unit
from closeloop.reports.queries import loop_summary_for, needing_recovery_by_week
from tests.helpers import ApiClient, create_token
from tests.web.conftest import ingest

# Friday 20 November 2026, 10:00 in New York.
MORNING = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
DAY = date(2026, 11, 20)


@pytest.fixture
def loop(acme: None) -> dict[str, Case]:
    """EMEA: contacted after 2 h, closed resolved within the goal, customer says resolved; UK: never touched."""
    emea = ingest(at=MORNING, unit="SUP-EMEA")
    uk = ingest(at=MORNING, unit="SUP-UK")
    ingest({"ease": 10, "completed": True, "comment": "Great."}, at=MORNING, unit="SUP-US")
    case = Case.objects.get(response=emea)
    do_add_note(case, text="Spoke.", spoke_to_customer=True, now=MORNING + timedelta(hours=2))
    do_change_status(case, status="Closed", resolution="resolved", actor=None, now=MORNING + timedelta(hours=3))
    ingest(
        {"resolved": True},
        survey="recovery-check",
        customer={"id": emea.customer.external_id},
        at=MORNING + timedelta(days=2),
    )
    return {"emea": case, "uk": Case.objects.get(response=uk)}


def test_the_summary_gathers_the_days_facts(loop: dict[str, Case]) -> None:
    summary = loop_summary_for(DAY, DAY)
    assert (summary.responses, summary.needing_recovery, summary.cases) == (3, 2, 2)
    # The shares are over the recovery alerts, the ones that need action; praise is counted apart.
    assert [(s.category, s.count, s.percent) for s in summary.alerts_by_category] == [
        ("Installation issues", 2, 100.0),
    ]
    assert (summary.praise_count, summary.watch_by_category) == (1, ())
    # Of the recovery alerts only: praise is counted apart.
    assert [(s.category, s.count, s.percent) for s in summary.alerts_by_category] == [("Installation issues", 2, 100.0)]
    assert [(s.category, s.count, s.percent) for s in summary.praise_by_category] == [("Praise", 1, 100.0)]
    assert summary.contacted_percent == 50.0
    assert summary.median_hours_to_contact == 2.0
    # The UK case is past its 24 h goal and still open: it counts against the goal.
    assert summary.closed_within_goal_percent == 50.0
    assert summary.resolved_percent == 100.0
    assert summary.recovered_percent == 100.0
    assert [u.unit for u in summary.by_unit] == ["SUP-EMEA", "SUP-UK", "SUP-US"]
    assert summary.by_unit[1].contacted_percent == 0.0 and summary.by_unit[2].contacted_percent is None


def test_a_unit_takes_its_subtree_and_visibility_narrows_it(loop: dict[str, Case]) -> None:
    emea = Unit.objects.get(code="EMEA")
    summary = loop_summary_for(DAY, DAY, emea)
    assert (summary.unit, summary.responses, [u.unit for u in summary.by_unit]) == ("EMEA", 2, ["SUP-EMEA", "SUP-UK"])
    only_us = loop_summary_for(DAY, DAY, units=Unit.objects.filter(code="SUP-US"))
    assert (only_us.responses, only_us.needing_recovery, only_us.cases) == (1, 0, 0)
    assert only_us.contacted_percent is None


def test_days_outside_the_range_are_left_out(loop: dict[str, Case]) -> None:
    assert loop_summary_for(DAY + timedelta(days=1), DAY + timedelta(days=1)).responses == 0
    assert needing_recovery_by_week(DAY - timedelta(days=7), DAY) == [(date(2026, 11, 16), 2)]


def test_the_api_returns_the_contract_fields(loop: dict[str, Case]) -> None:
    api = ApiClient(create_token(["read"]))
    body = api.get("/api/v1/reports/summary", **{"from": "2026-11-20", "to": "2026-11-20"}).json()
    for field in (
        "responses",
        "needing_recovery",
        "alerts_by_category",
        "contacted_percent",
        "median_hours_to_contact",
        "closed_within_goal_percent",
        "resolved_percent",
        "recovered_percent",
        "by_unit",
    ):
        assert field in body
    assert body["responses"] == 3
    assert body["alerts_by_category"] == [{"category": "Installation issues", "count": 2, "percent": 100.0}]
    assert (body["praise_count"], body["watch_by_category"]) == (1, [])
    assert body["praise_by_category"] == [{"category": "Praise", "count": 1, "percent": 100.0}]
    assert body["by_unit"][0]["unit"] == "SUP-EMEA" and body["by_unit"][0]["resolved_percent"] == 100.0
    assert (body["from"], body["to"]) == ("2026-11-20", "2026-11-20")
    uk = api.get("/api/v1/reports/summary", **{"from": "2026-11-20", "to": "2026-11-20", "unit": "SUP-UK"}).json()
    assert (uk["unit"], uk["responses"], uk["contacted_percent"]) == ("SUP-UK", 1, 0.0)


def test_the_api_checks_its_token_scope_input_and_visibility(loop: dict[str, Case]) -> None:
    query = {"from": "2026-11-20", "to": "2026-11-20"}
    assert ApiClient(None).get("/api/v1/reports/summary", **query).status_code == 401
    assert ApiClient(create_token(["ingest"])).get("/api/v1/reports/summary", **query).status_code == 403
    reader = ApiClient(create_token(["read"]))
    bad = reader.get("/api/v1/reports/summary", **{"from": "20-11-2026"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["from"]
    assert reader.get("/api/v1/reports/summary", **{"from": "2026-11-21", "to": "2026-11-20"}).status_code == 422
    assert reader.get("/api/v1/reports/summary", unit="NOPE").status_code == 422
    erin = ApiClient(create_token(["read"], person=Person.objects.get(key="erin")))
    assert erin.get("/api/v1/reports/summary", **query).json()["responses"] == 1
    assert erin.get("/api/v1/reports/summary", **query, unit="SUP-US").status_code == 404


def test_the_reports_page_draws_charts_without_scripts(admin_client_acme: Client, loop: dict[str, Case]) -> None:
    page = admin_client_acme.get("/reports/?date_from=2026-11-20&date_to=2026-11-20").content.decode()
    assert page.count("<svg xmlns") >= 3
    assert "% of recovery alerts by category" in page and "Recovery performance by unit" in page
    assert "<script" not in page.replace('<script src="/static/web/app.js" defer></script>', "")
    assert "1 praise alert;" in page
    assert "100 %" in page
    assert 'href="/reports/summary.csv?date_from=2026-11-20&amp;date_to=2026-11-20"' in page


def test_the_reports_page_defaults_to_the_last_30_days(erin: Client) -> None:
    page = erin.get("/reports/")
    assert page.status_code == 200 and b"No responses in this period." in page.content


def test_the_csv_has_a_total_row_and_one_per_unit(admin_client_acme: Client, loop: dict[str, Case]) -> None:
    download = admin_client_acme.get("/reports/summary.csv?date_from=2026-11-20&date_to=2026-11-20")
    assert download["Content-Type"].startswith("text/csv")
    assert "attachment" in download["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0][:4] == ["Unit", "Responses", "Needing recovery", "Cases"]
    assert rows[1][:4] == ["All", "3", "2", "2"]
    assert [row[0] for row in rows[2:]] == ["SUP-EMEA", "SUP-UK", "SUP-US"]
    assert rows[3][rows[0].index("Resolved %")] == ""


def test_the_api_measures_the_time_between_two_statuses(loop: dict[str, Case]) -> None:
    api = ApiClient(create_token(["read"]))
    query = {"from": "2026-11-20", "to": "2026-11-20", "from_status": "Open", "to_status": "Closed"}
    body = api.get("/api/v1/reports/summary", **query).json()
    # Only the EMEA case went from Open to Closed: opened at arrival, closed three hours later.
    assert body["between_statuses"] == {"from_status": "Open", "to_status": "Closed", "median_hours": 3.0}
    never = api.get("/api/v1/reports/summary", **{**query, "to_status": "Pending"}).json()
    assert never["between_statuses"]["median_hours"] is None
    half = api.get("/api/v1/reports/summary", **{"from_status": "Open"})
    assert half.status_code == 422 and half.json()["errors"][0]["loc"] == ["to_status"]
    assert "between_statuses" not in api.get("/api/v1/reports/summary").json() or (
        api.get("/api/v1/reports/summary").json()["between_statuses"] is None
    )


def test_the_summary_shares_out_the_kind_asked_for(loop: dict[str, Case]) -> None:
    api = ApiClient(create_token(["read"]))
    query = {"from": "2026-11-20", "to": "2026-11-20"}
    praise = api.get("/api/v1/reports/summary", **query, kind="praise").json()
    assert praise["alerts_by_category"] == [{"category": "Praise", "count": 1, "percent": 100.0}]
    assert api.get("/api/v1/reports/summary", **query, kind="watch").json()["alerts_by_category"] == []
    bad = api.get("/api/v1/reports/summary", **query, kind="everything")
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["kind"]


def test_the_summary_refuses_a_parameter_it_does_not_know(loop: dict[str, Case]) -> None:
    api = ApiClient(create_token(["read"]))
    answer = api.get("/api/v1/reports/summary", **{"from": "2026-11-20", "date_to": "2026-11-20", "units": "X"})
    assert answer.status_code == 422
    body = answer.json()
    assert body["detail"] == "Unknown query parameters: date_to, units"
    assert [error["loc"] for error in body["errors"]] == [["date_to"], ["units"]]


def test_root_causes_feed_the_report_the_api_and_the_case(acme: None, api_as) -> None:
    api = api_as("read", "write")
    first, second = (Case.objects.get(response=ingest(at=MORNING)) for _ in range(2))
    closed = api.post(
        f"/api/v1/cases/{first.pk}/status",
        {"status": "Closed", "resolution": "resolved", "root_cause": "Process", "action_taken": "Reset the key."},
    )
    assert closed.status_code == 200, closed.content
    body = closed.json()
    assert (body["root_cause"], body["action_taken"]) == ("Process", "Reset the key.")
    assert body["root_causes"] == ["Product", "Process", "People", "Price", "Other"]
    assert next(e for e in body["events"] if e["type"] == "closed")["data"]["root_cause"] == "Process"
    # The contract's close with only a resolution still works, and says no root cause.
    plain = api.post(f"/api/v1/cases/{second.pk}/status", {"status": "Closed", "resolution": "unresolved"}).json()
    assert (plain["state"], plain["root_cause"]) == ("closed", None)
    wrong = api.post(f"/api/v1/cases/{second.pk}/status", {"status": "Open", "root_cause": "Process"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["loc"][-1] == "root_cause"
    unknown = api.post(
        f"/api/v1/cases/{second.pk}/status", {"status": "Closed", "resolution": "resolved", "root_cause": "Moon"}
    )
    assert unknown.status_code == 422 and "must be one of Product" in unknown.json()["errors"][0]["msg"]
    summary = api.get("/api/v1/reports/summary", **{"from": "2026-11-20", "to": "2026-11-20"}).json()
    assert summary["root_causes"] == [{"root_cause": "Process", "count": 1, "percent": 100.0}]


def test_the_report_gives_time_to_first_contact_as_a_distribution(loop: dict[str, Case], api_as) -> None:
    body = api_as("read").get("/api/v1/reports/summary", **{"from": "2026-11-20", "to": "2026-11-20"}).json()
    # EMEA contacted after 2 h; UK never, and long past every window by now.
    assert body["first_contact"] == {
        "cases": 2,
        "contacted": 1,
        "within_1h_percent": 0.0,
        "within_24h_percent": 50.0,
        "within_48h_percent": 50.0,
        "median_hours": 2.0,
        "p90_hours": 2.0,
    }
    assert body["by_unit"][0]["first_contact"]["within_24h_percent"] == 100.0
    people = {row["person"]: row for row in body["by_person"]}
    # Nobody owns the cases: the unit's lead answers for them.
    assert people["erin"]["name"] == "Erin Diaz" and people["erin"]["first_contact"]["contacted"] == 1
    assert people["nophone"]["first_contact"]["within_48h_percent"] == 0.0


def test_the_reports_page_shows_the_panels_and_says_dash_without_data(admin_client_acme: Client, loop) -> None:
    page = admin_client_acme.get("/reports/?date_from=2026-11-20&date_to=2026-11-20").content.decode()
    assert "Recovery alerts by category" in page and "Praise by category" in page
    assert "Time to first contact" in page and "By responsible person" in page
    assert "Recovered: the customer answered yes to the follow-up survey" in page
    assert 'action="/reports/service-recovery.pdf"' in page and 'name="unit"' in page and 'name="date"' in page
    assert "Times are shown in America/New_York" in page
    empty = admin_client_acme.get("/reports/?date_from=2026-01-01&date_to=2026-01-01").content.decode()
    counters = empty[empty.index('<ul class="counters">') : empty.index("</ul>", empty.index('<ul class="counters">'))]
    assert "0 %" not in counters and counters.count(">–<") == 5
    assert (
        "No recovery alerts in this period." in empty
        and "No case in this period was closed with a root cause." in empty
    )
