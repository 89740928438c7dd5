"""The case list at /cases/: filters, search, sorting, keyset pages with a total, rows that say what is wrong,
and the bulk actions (managers only, one timeline event per case, through the same services)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from closeloop.cases.models import Case, CaseEvent
from closeloop.cases.services import do_add_note, do_assign, do_view_case
from closeloop.org.models import Person
from closeloop.web.views import case_list
from tests.web.conftest import ingest, login_as

HAPPY = {"ease": 9, "completed": True, "comment": "Smooth."}


def _ids(html: bytes) -> list[int]:
    return [int(n) for n in re.findall(r'<tr class="row-[a-z-]+" data-case="(\d+)">', html.decode())]


def _case(**kwargs: object) -> Case:
    return Case.objects.get(response=ingest(**kwargs))


@pytest.fixture
def cases(acme: None) -> dict[str, Case]:
    """Four open cases and a closed one, different in every way the filters look at."""
    now = timezone.now()
    made = {
        "overdue": _case(at=now - timedelta(days=3), name="Olive Overdue", tier="Gold"),
        "fresh": _case(
            at=now - timedelta(hours=1),
            name="Fred Fresh",
            tier="Bronze",
            answers={"ease": 3, "completed": False, "comment": "The installer asked for a licence key twice."},
        ),
        "uk": _case(at=now - timedelta(hours=30), name="Ulla Uk", unit="SUP-UK", tier="Silver"),
        "churn": _case(
            at=now - timedelta(hours=2),
            name="Chris Churn",
            answers={"ease": 8, "completed": True, "comment": "I want a refund, never again."},
            tier="Silver",
        ),
        "closed": _case(at=now - timedelta(days=1), name="Carla Closed"),
    }
    from closeloop.actions.close_case import change_case_status

    change_case_status(made["closed"], status="Closed", resolution="resolved", actor=None, now=now)
    do_assign(made["uk"], owner=Person.objects.get(key="nophone"), now=now)
    do_view_case(made["fresh"], actor=Person.objects.get(key="erin"), now=now)
    Case.objects.filter(pk=made["overdue"].pk).update(escalation_level=2)
    # SUP-UK counts its goals in office hours; due within the day is what `due_soon` is about, whatever the calendar.
    Case.objects.filter(pk=made["uk"].pk).update(due_at=now + timedelta(hours=18))
    return made


def test_the_list_shows_open_cases_due_first_with_a_total(admin_client_acme: Client, cases: dict[str, Case]) -> None:
    page = admin_client_acme.get("/cases/")
    assert page.status_code == 200
    # The churn case follows its rule's 24 h default... everything due first: the overdue one leads.
    ids = _ids(page.content)
    assert ids[0] == cases["overdue"].pk
    assert set(ids) == {cases[k].pk for k in ("overdue", "fresh", "uk", "churn")}
    assert "<strong>4</strong> cases match" in page.content.decode()


def test_each_row_says_what_is_wrong(admin_client_acme: Client, cases: dict[str, Case]) -> None:
    html = admin_client_acme.get("/cases/?state=all").content.decode()
    churn = html[html.index(f'data-case="{cases["churn"].pk}"') :]
    churn = churn[: churn.index("</tr>")]
    # The alert's category, not the template's; the severity; the customer's first words; not viewed yet.
    assert f"#{cases['churn'].pk} At-risk customer" in churn
    assert "severity-urgent" in churn
    assert "“I want a refund, never again.”" in churn
    assert "Not viewed yet" in churn
    fresh = html[html.index(f'data-case="{cases["fresh"].pk}"') :]
    fresh = fresh[: fresh.index("</tr>")]
    assert "Installation issues" in fresh and "Not viewed yet" not in fresh
    overdue = html[html.index(f'data-case="{cases["overdue"].pk}"') :]
    assert "Escalated · level 2" in overdue[: overdue.index("</tr>")]
    uk = html[html.index(f'data-case="{cases["uk"].pk}"') :]
    assert '<td data-label="Owner">Noel Nophone</td>' in uk[: uk.index("</tr>")]
    assert '<td data-label="Age"><time' in churn


def test_long_words_are_cut_at_a_word(admin_client_acme: Client, acme: None) -> None:
    long_words = "The installer " + "stopped again and " * 12 + "I gave up."
    case = _case(answers={"ease": 2, "completed": False, "comment": long_words})
    html = admin_client_acme.get("/cases/").content.decode()
    shown = re.search(rf'data-case="{case.pk}".*?<span class="row-words">“([^”]*)”', html, re.S)
    assert shown is not None
    assert shown.group(1).endswith("…") and len(shown.group(1)) <= 91
    assert shown.group(1).startswith("The installer stopped again")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=closed", ["closed"]),
        ("state=all", ["overdue", "fresh", "uk", "churn", "closed"]),
        ("unit=EMEA", ["overdue", "fresh", "uk", "churn"]),
        ("unit=SUP-UK", ["uk"]),
        ("owner=nophone", ["uk"]),
        ("owner=-", ["overdue", "fresh", "churn"]),
        ("severity=urgent", ["overdue", "churn"]),
        ("tier=Silver", ["uk", "churn"]),
        ("category=At-risk+customer", ["churn"]),
        ("category=Installation+issues", ["overdue", "fresh", "uk"]),
        ("status=Open", ["overdue", "fresh", "uk", "churn"]),
        ("flag=overdue", ["overdue"]),
        ("flag=not_viewed", ["overdue", "uk", "churn"]),
        ("flag=escalated", ["overdue"]),
        ("flag=not_viewed&flag=escalated", ["overdue"]),
        ("flag=due_soon", ["uk"]),
        ("q=licence", ["fresh"]),
        ("q=olive", ["overdue"]),
        ("q=refund+again", ["churn"]),
    ],
)
def test_the_filters(admin_client_acme: Client, cases: dict[str, Case], query: str, expected: list[str]) -> None:
    ids = _ids(admin_client_acme.get(f"/cases/?{query}").content)
    assert sorted(ids) == sorted(cases[name].pk for name in expected)


def test_search_finds_a_ticket(admin_client_acme: Client, cases: dict[str, Case]) -> None:
    ticket = cases["uk"].response.ticket
    assert _ids(admin_client_acme.get(f"/cases/?q={ticket}").content) == [cases["uk"].pk]


def test_the_opened_dates_count_in_the_organisations_time_zone(admin_client_acme: Client, acme: None) -> None:
    # 03:00 UTC on the 20th is still the 19th in New York.
    late = _case(at=datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
    afternoon = _case(at=datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    assert _ids(admin_client_acme.get("/cases/?date_from=2026-11-20&date_to=2026-11-20").content) == [afternoon.pk]
    assert _ids(admin_client_acme.get("/cases/?date_to=2026-11-19").content) == [late.pk]


def test_sorting_by_severity_opened_and_due(admin_client_acme: Client, cases: dict[str, Case]) -> None:
    by_severity = _ids(admin_client_acme.get("/cases/?sort=severity").content)
    assert by_severity[:2] == [cases["overdue"].pk, cases["churn"].pk]  # urgent, then the sooner due
    newest = _ids(admin_client_acme.get("/cases/?sort=-opened").content)
    assert newest == [cases[k].pk for k in ("fresh", "churn", "uk", "overdue")]
    oldest = _ids(admin_client_acme.get("/cases/?sort=opened").content)
    assert oldest == newest[::-1]


def test_a_lead_sees_only_the_cases_of_their_units(erin: Client, cases: dict[str, Case]) -> None:
    assert sorted(_ids(erin.get("/cases/?state=all").content)) == sorted(
        cases[k].pk for k in ("overdue", "fresh", "churn", "closed")
    )
    assert _ids(erin.get("/cases/?unit=SUP-UK").content) == []


def test_keyset_pages_keep_their_place_and_count_everything(
    admin_client_acme: Client, acme: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(case_list, "CASE_PAGE_SIZE", 2)
    now = timezone.now()
    made = [_case(at=now - timedelta(hours=hours)).pk for hours in (5, 4, 3, 2, 1)]
    first = admin_client_acme.get("/cases/?sort=opened").content.decode()
    assert _ids(first.encode()) == made[:2]
    assert "2 of 5 shown" in first and "<strong>5</strong> cases match" in first
    next_link = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "sort=opened" in next_link and "after=" in next_link
    second = admin_client_acme.get("/cases/" + next_link).content.decode()
    assert _ids(second.encode()) == made[2:4]
    # A case opened meanwhile, earlier than all of them, does not push the next page's rows along.
    _case(at=now - timedelta(hours=9))
    third_link = re.search(r'rel="next" href="([^"]+)"', second).group(1).replace("&amp;", "&")
    third = admin_client_acme.get("/cases/" + third_link).content.decode()
    assert _ids(third.encode()) == made[4:]
    assert 'rel="next"' not in third
    back = re.search(r'rel="prev" href="([^"]+)"', third).group(1).replace("&amp;", "&")
    assert _ids(admin_client_acme.get("/cases/" + back).content) == made[2:4]
    # A cursor that is not ours starts from the beginning rather than failing.
    assert admin_client_acme.get("/cases/?after=not-a-cursor&sort=opened").status_code == 200


def test_the_list_costs_the_same_queries_for_few_and_many_rows(admin_client_acme: Client, acme: None) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client_acme.get("/cases/?state=all&q=failed").status_code == 200
        return len(captured.captured_queries)

    for _ in range(2):
        do_add_note(_case(), text="Called.", spoke_to_customer=True, now=timezone.now())
    few = queries()
    for _ in range(10):
        _case()
    assert queries() == few


def test_the_view_is_in_the_address(admin_client_acme: Client, cases: dict[str, Case]) -> None:
    html = admin_client_acme.get("/cases/?severity=urgent&flag=overdue&q=olive&sort=severity").content.decode()
    assert '<option value="urgent" selected>' in html
    assert 'value="overdue" id="id_flag_0" checked' in html or re.search(r'value="overdue"[^>]*checked', html)
    assert 'value="olive"' in html
    assert '<option value="severity" selected>' in html


def test_a_bad_filter_is_explained_and_selects_nothing(admin_client_acme: Client, cases: dict[str, Case]) -> None:
    html = admin_client_acme.get("/cases/?date_from=2026-11-20&date_to=2026-11-01").content.decode()
    assert "The end date is before the start date." in html and _ids(html.encode()) == []


def test_the_monitor_counters_open_the_filtered_list(erin: Client, cases: dict[str, Case]) -> None:
    html = erin.get("/?scope=all").content.decode()
    assert 'href="/cases/?flag=overdue"' in html
    assert 'href="/cases/?flag=due_soon"' in html
    assert 'href="/cases/?state=open"' in html
    mine = erin.get("/?scope=mine").content.decode()
    assert 'href="/cases/?flag=overdue&amp;mine=true"' in mine
    # The counter and the list it opens agree.
    overdue = re.search(r'data-counter="overdue">(\d+)<', html).group(1)
    assert len(_ids(erin.get("/cases/?flag=overdue").content)) == int(overdue)


def test_the_monitor_says_when_it_shows_only_the_first_rows(
    erin: Client, cases: dict[str, Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    from closeloop.web.views import home

    monkeypatch.setattr(home, "MONITOR_ROWS", 2)
    html = erin.get("/?scope=all").content.decode()
    assert "Showing the first 2 of 3 open cases." in html
    assert 'href="/cases/?state=open&amp;sort=due">See them all in the case list</a>' in html
    monkeypatch.setattr(home, "MONITOR_ROWS", 100)
    assert "Showing the first" not in erin.get("/?scope=all").content.decode()


def test_the_navigation_links_the_case_list(erin: Client, cases: dict[str, Case]) -> None:
    html = erin.get("/cases/").content.decode()
    assert '<a href="/cases/" aria-current="page">' in html


# --- bulk ---------------------------------------------------------------------------------------------


def test_a_manager_assigns_several_cases_each_with_its_own_event(erin: Client, cases: dict[str, Case]) -> None:
    chosen = [cases["overdue"].pk, cases["fresh"].pk]
    response = erin.post(
        "/cases/bulk", {"case": chosen, "action": "assign", "assign-owner": "dave", "next": "/cases/?sort=due"}
    )
    assert response.status_code == 302 and response["Location"] == "/cases/?sort=due"
    for pk in chosen:
        case = Case.objects.get(pk=pk)
        assert case.owner.key == "dave"
        assert CaseEvent.objects.filter(case=case, type="assigned", data__owner="dave").count() == 1
    assert "Assigned 2 cases to Dave Agent." in erin.get("/cases/").content.decode()


def test_a_manager_closes_several_cases_with_resolution_and_root_cause(erin: Client, cases: dict[str, Case]) -> None:
    chosen = [cases["overdue"].pk, cases["churn"].pk]
    erin.post(
        "/cases/bulk",
        {
            "case": chosen,
            "action": "close",
            "close-resolution": "unresolved",
            "close-root_cause": "Process",
            "close-action_taken": "Offered a credit.",
        },
    )
    for pk in chosen:
        case = Case.objects.get(pk=pk)
        assert (case.state, case.resolution, case.root_cause, case.action_taken) == (
            "closed",
            "unresolved",
            "Process",
            "Offered a credit.",
        )
        closed = CaseEvent.objects.get(case=case, type="closed")
        assert closed.data["root_cause"] == "Process" and closed.actor.key == "erin"
    # Through the same service: closing unresolved escalates at once (the install case's policy says so).
    overdue = cases["overdue"]
    assert CaseEvent.objects.filter(case=overdue, type="escalated", data__when="closed_unresolved").count() == 1


def test_bulk_close_asks_for_a_resolution_and_a_root_cause(erin: Client, cases: dict[str, Case]) -> None:
    response = erin.post("/cases/bulk", {"case": [cases["fresh"].pk], "action": "close"}, follow=True)
    html = response.content.decode()
    assert "Nothing was closed" in html and "closing a case needs a root cause" in html
    assert Case.objects.get(pk=cases["fresh"].pk).state == "open"


def test_bulk_actions_leave_cases_the_person_does_not_manage(acme: None, cases: dict[str, Case]) -> None:
    dave = login_as("dave")
    assert "Assign or close the ticked cases" not in dave.get("/cases/").content.decode()
    response = dave.post(
        "/cases/bulk", {"case": [cases["fresh"].pk], "action": "assign", "assign-owner": "dave"}, follow=True
    )
    assert f"Case #{cases['fresh'].pk}: only its managers and admins may change it." in response.content.decode()
    assert Case.objects.get(pk=cases["fresh"].pk).owner is None


def test_bulk_actions_never_reach_cases_the_person_cannot_see(erin: Client, cases: dict[str, Case]) -> None:
    erin.post("/cases/bulk", {"case": [cases["uk"].pk], "action": "assign", "assign-owner": "erin"})
    assert Case.objects.get(pk=cases["uk"].pk).owner.key == "nophone"


def test_bulk_actions_need_post(erin: Client, cases: dict[str, Case]) -> None:
    assert erin.get("/cases/bulk").status_code == 405


@pytest.mark.postgres
def test_on_postgresql_the_search_reads_its_indexes(cases: dict[str, Case]) -> None:
    from django.contrib.postgres.search import SearchQuery

    from closeloop.cases.queries import search
    from closeloop.feedback.models import Customer, Response
    from closeloop.feedback.search import SEARCH_CONFIG, customer_vector, response_vector

    query = SearchQuery("refund", search_type="websearch", config=SEARCH_CONFIG)
    with connection.cursor() as cursor:
        # A handful of rows would be read whole anyway: make the planner show which indexes the query can use.
        cursor.execute("SET enable_seqscan = off")
        try:
            plan = search(Case.objects.all(), "refund").explain()
            # Each vector the search filters on is the expression of its index. (How the planner joins the
            # customers' matches to their responses depends on the table sizes; on a handful of rows it may
            # walk the responses by customer instead.)
            words = Response.objects.annotate(found=response_vector()).filter(found=query).order_by().explain()
            names = Customer.objects.annotate(found=customer_vector()).filter(found=query).order_by().explain()
        finally:
            cursor.execute("RESET enable_seqscan")
    assert "response_search" in plan
    assert "response_search" in words and "customer_search" in names
