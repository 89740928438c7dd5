"""Customer activity: the CSV command and the API, with their bad rows, and idempotent replays."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from closeloop.loop.models import Activity
from tests.web.conftest import ingest


@pytest.fixture
def customers(acme: None) -> list[str]:
    """Two customers known from their survey responses."""
    return [ingest().customer.external_id, ingest().customer.external_id]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def run(path: Path) -> str:
    from io import StringIO

    out = StringIO()
    call_command("ingest-activity", str(path), stdout=out)
    return out.getvalue()


def test_the_csv_command_stores_good_rows_and_rejects_bad_ones_naming_the_column(
    customers: list[str], tmp_path: Path
) -> None:
    first, second = customers
    path = write_csv(
        tmp_path / "activity.csv",
        [
            ["customer_id", "date", "kind", "amount", "note"],
            [first, "2026-12-01", "purchase", "120.50", "web shop"],
            [second, "2026-12-02", "Renewal", "", ""],
            ["C-nobody", "2026-12-02", "purchase", "5", ""],
            [first, "01/12/2026", "purchase", "5", ""],
            [first, "2026-12-03", "refund", "5", ""],
            [first, "2026-12-04", "cancellation", "lots", ""],
        ],
    )
    summary = run(path)
    assert "6 rows" in summary
    assert "created:  2" in summary and "rejected: 4" in summary
    assert {(a.customer.external_id, a.kind, a.amount) for a in Activity.objects.all()} == {
        (first, "purchase", Decimal("120.50")),
        (second, "renewal", None),
    }
    with (tmp_path / "activity.csv.rejects.csv").open() as handle:
        rejects = list(csv.DictReader(handle))
    assert [row["reason"].split(":")[0] for row in rejects] == ["customer_id", "date", "kind", "amount"]
    assert "unknown customer 'C-nobody'" in rejects[0]["reason"]
    assert rejects[0]["note"] == ""


def test_importing_the_same_file_again_replays(customers: list[str], tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "a.csv",
        [["customer_id", "date", "kind", "amount"], [customers[0], "2026-12-01", "renewal", ""]],
    )
    run(path)
    summary = run(path)
    assert "created:  0" in summary and "replayed: 1" in summary
    assert Activity.objects.count() == 1


def test_a_file_without_the_needed_columns_is_refused(acme: None, tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    path = write_csv(tmp_path / "b.csv", [["customer", "when"], ["C-1", "2026-12-01"]])
    with pytest.raises(CommandError, match="customer_id, date, kind"):
        run(path)


def test_the_api_takes_an_object_or_a_list(customers: list[str], api_as) -> None:
    client = api_as("ingest")
    one = {"customer_id": customers[0], "date": "2026-12-01", "kind": "purchase", "amount": 10}
    created = client.post("/api/v1/activity", one)
    assert created.status_code == 201, created.content
    assert created.json() == {"created": 1, "replayed": 0}
    many = [one, {"customer_id": customers[1], "date": "2026-12-05", "kind": "cancellation"}]
    again = client.post("/api/v1/activity", many)
    assert again.status_code == 201
    assert again.json() == {"created": 1, "replayed": 1}
    replay = client.post("/api/v1/activity", one)
    assert replay.status_code == 200
    assert Activity.objects.count() == 2


def test_the_api_names_each_bad_field_and_stores_nothing(customers: list[str], api_as) -> None:
    client = api_as("ingest")
    body = [
        {"customer_id": customers[0], "date": "2026-12-01", "kind": "purchase"},
        {"customer_id": "C-nobody", "date": "yesterday", "kind": "purchase", "colour": "red"},
    ]
    answer = client.post("/api/v1/activity", body)
    assert answer.status_code == 422
    locs = {tuple(error["loc"]) for error in answer.json()["errors"]}
    assert locs == {(1, "customer_id"), (1, "date"), (1, "colour")}
    assert not Activity.objects.exists()
    single = client.post("/api/v1/activity", {"customer_id": customers[0], "date": "2026-12-01", "kind": "gift"})
    assert single.status_code == 422
    assert [tuple(e["loc"]) for e in single.json()["errors"]] == [("kind",)]
    assert client.post("/api/v1/activity", raw=b"{nope").status_code == 422
    assert client.post("/api/v1/activity", []).status_code == 422


def test_the_api_needs_the_ingest_scope(customers: list[str], api_as) -> None:
    body = {"customer_id": customers[0], "date": "2026-12-01", "kind": "purchase"}
    assert api_as("read").post("/api/v1/activity", body).status_code == 403
    assert api_as().post("/api/v1/activity", body).status_code == 403
    from tests.helpers import ApiClient

    assert ApiClient(None).post("/api/v1/activity", body).status_code == 401


def test_a_token_limited_to_units_tells_only_about_its_own_units_customers(customers: list[str]) -> None:
    from tests.helpers import ApiClient, create_token

    emea = customers[0]  # the fixture's customers answered in SUP-EMEA
    us = ingest(unit="SUP-US").customer.external_id
    client = ApiClient(create_token(["ingest"], units=["SUP-US"]))
    own = client.post("/api/v1/activity", {"customer_id": us, "date": "2026-12-01", "kind": "renewal"})
    assert own.status_code == 201, own.content
    # Another unit's customer is unknown to it, word for word as a customer who does not exist.
    other = client.post("/api/v1/activity", {"customer_id": emea, "date": "2026-12-01", "kind": "renewal"})
    nobody = client.post("/api/v1/activity", {"customer_id": "C-nobody", "date": "2026-12-01", "kind": "renewal"})
    assert other.status_code == nobody.status_code == 422
    assert other.json()["errors"] == [{"loc": ["customer_id"], "msg": f"unknown customer {emea!r}"}]
    assert nobody.json()["errors"] == [{"loc": ["customer_id"], "msg": "unknown customer 'C-nobody'"}]
    assert [a.customer.external_id for a in Activity.objects.all()] == [us]
