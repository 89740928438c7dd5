"""The `spikes` step on synthetic alerts: a jump is announced once, and clears when the counts fall back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from closeloop.loop.models import SpikeAlert, SpikeCheck
from closeloop.notify.models import Delivery
from closeloop.worker.runner import run_due_work
from tests.web.conftest import ingest

SPIKE_DAY = date(2026, 11, 16)  # a Monday


def at(day: date, hour: int = 15) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)  # 15:00 UTC is 10:00 in New York


def complaints(day: date, count: int, unit: str = "SUP-EMEA") -> None:
    for n in range(count):
        ingest(at=at(day), unit=unit, answers={"ease": 3, "completed": False, "comment": f"Installer crashed ({n})."})


def spike_mail() -> list[Delivery]:
    return list(Delivery.objects.filter(topic="spike").order_by("address"))


@pytest.fixture
def usual_mondays(acme: None) -> None:
    """One failed installation on each of the four Mondays before the spike day."""
    for week in range(1, 5):
        complaints(SPIKE_DAY - timedelta(weeks=week), 1)


def test_a_jump_is_announced_once_to_the_units_leads_and_the_admins(usual_mondays: None) -> None:
    complaints(SPIKE_DAY, 6)
    now = at(SPIKE_DAY + timedelta(days=1), hour=12)
    assert run_due_work(now)["spikes"] == 1
    (spike,) = SpikeAlert.objects.all()
    assert (spike.unit.code, spike.category, spike.day, spike.count, spike.baseline) == (
        "SUP-EMEA",
        "Installation issues",
        SPIKE_DAY,
        6,
        1.0,
    )
    assert len(spike.examples) == 5
    assert all(e["link"].startswith("http://127.0.0.1:8000/responses/") for e in spike.examples)
    assert spike.examples[0]["text"].startswith("Installer crashed")
    mail = spike_mail()
    assert [d.address for d in mail] == ["ada@acme.example", "erin@acme.example"]
    assert "6 alerts about Installation issues at Support EMEA on Mon 16 Nov 2026 vs a usual 1." in mail[0].text
    assert "Installer crashed" in mail[0].text
    # The next run that day, and a later one, do nothing more.
    assert run_due_work(now)["spikes"] == 0
    assert run_due_work(now + timedelta(hours=6))["spikes"] == 0
    assert SpikeAlert.objects.count() == 1 and len(spike_mail()) == 2


def test_a_spike_that_lasts_is_not_announced_again_and_clears_when_it_is_over(usual_mondays: None) -> None:
    complaints(SPIKE_DAY, 6)
    complaints(SPIKE_DAY + timedelta(days=1), 7)
    run_due_work(at(SPIKE_DAY + timedelta(days=1), hour=12))
    run_due_work(at(SPIKE_DAY + timedelta(days=2), hour=12))
    (spike,) = SpikeAlert.objects.all()
    assert spike.cleared_on is None
    assert len(spike_mail()) == 2
    run_due_work(at(SPIKE_DAY + timedelta(days=3), hour=12))
    spike.refresh_from_db()
    assert spike.cleared_on == SPIKE_DAY + timedelta(days=2)
    assert SpikeCheck.objects.count() == 3


def test_a_regular_weekly_peak_is_no_spike(acme: None) -> None:
    for week in range(0, 5):
        complaints(SPIKE_DAY - timedelta(weeks=week), 5)
    assert run_due_work(at(SPIKE_DAY + timedelta(days=1), hour=12))["spikes"] == 1  # it ran
    assert not SpikeAlert.objects.exists()
    assert not spike_mail()


def test_a_few_complaints_are_below_the_minimum(acme: None) -> None:
    complaints(SPIKE_DAY, 4)
    run_due_work(at(SPIKE_DAY + timedelta(days=1), hour=12))
    assert not SpikeAlert.objects.exists()


def test_the_api_lists_spikes_for_the_units_a_person_sees(usual_mondays: None, api_as) -> None:
    from closeloop.org.models import Person

    complaints(SPIKE_DAY, 6)
    run_due_work(at(SPIKE_DAY + timedelta(days=1), hour=12))
    body = api_as("read").get("/api/v1/spikes", open="true").json()
    assert body["count"] == 1
    (item,) = body["items"]
    assert (item["unit"], item["category"], item["day"], item["count"], item["open"]) == (
        "SUP-EMEA",
        "Installation issues",
        "2026-11-16",
        6,
        True,
    )
    assert len(item["examples"]) == 5
    assert api_as("read").get("/api/v1/spikes", open="false").json()["count"] == 0
    ursula = api_as("read", person=Person.objects.get(key="ursula"))
    assert ursula.get("/api/v1/spikes").json()["count"] == 0
    assert api_as("ingest").get("/api/v1/spikes").status_code == 403


def test_settings_change_what_counts_as_a_spike(acme: None, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CLOSELOOP_SPIKE_MIN_COUNT = 3
    complaints(SPIKE_DAY, 4)
    run_due_work(at(SPIKE_DAY + timedelta(days=1), hour=12))
    assert SpikeAlert.objects.get().count == 4
