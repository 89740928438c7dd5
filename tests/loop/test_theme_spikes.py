"""The spike check also follows complaint themes: a theme whose share of responses jumps week on week is
announced once to the admins and the leads of its units, and clears when it is over."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from closeloop.loop.models import SpikeAlert, ThemeSpike
from closeloop.loop.spikes import check_spikes
from closeloop.notify.models import Delivery
from closeloop.textmodel import Judge
from tests.web.conftest import ingest

DAY = date(2026, 11, 16)  # the last day of the week checked on the 17th
REFUNDS = [
    "I returned the jacket a month ago and still have no refund.",
    "My refund has not arrived three weeks after the return was accepted.",
    "J'attends toujours le remboursement de ma commande retournée.",
    "Devolví el producto hace un mes y no me han reembolsado nada.",
    "Die Rückerstattung für meine Rücksendung ist immer noch nicht da.",
]
OTHERS = ["The changing rooms had no mirrors.", "The car park barrier would not read my ticket."]


def at(day: date, hour: int = 15) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


def respond(day: date, comment: str | None = None, *, unit: str = "SUP-EMEA") -> None:
    answers = {"ease": 3, "completed": True, "comment": comment} if comment else {"ease": 9, "completed": True}
    ingest(answers, at=at(day), unit=unit)


def theme_mail() -> list[Delivery]:
    return list(Delivery.objects.filter(topic="theme-spike").order_by("address"))


@pytest.fixture
def a_usual_week(acme: None, text_model: Judge) -> None:
    """The week before: eight happy customers, one refund complaint and one other."""
    before = DAY - timedelta(days=7)
    for n in range(8):
        respond(before - timedelta(days=n % 7))
    respond(before - timedelta(days=2), "Still no refund for the shoes I sent back.")
    respond(before - timedelta(days=3), OTHERS[0])


def test_a_theme_that_jumps_is_announced_once_to_the_admins_and_its_units_leads(a_usual_week: None) -> None:
    for n, text in enumerate(REFUNDS):
        respond(DAY - timedelta(days=n), text, unit="SUP-EMEA" if n < 4 else "SUP-US")
    respond(DAY - timedelta(days=1), OTHERS[1])
    for n in range(8):
        respond(DAY - timedelta(days=n % 7))

    assert check_spikes(at(DAY + timedelta(days=1), hour=12)) == 1
    (spike,) = ThemeSpike.objects.all()
    assert (spike.day, spike.count, spike.previous) == (DAY, 5, 1)
    assert spike.units == [["SUP-EMEA", 4], ["SUP-US", 1]]
    assert len(spike.examples) == 3 and all(
        e["link"].startswith("http://127.0.0.1:8000/responses/") for e in spike.examples
    )
    assert SpikeAlert.objects.count() == 0  # no category jumped at any one unit on one day
    mail = theme_mail()
    # The admin, the lead of SUP-EMEA and the lead of SUP-US.
    assert [d.address for d in mail] == ["ada@acme.example", "erin@acme.example", "ursula@acme.example"]
    assert mail[0].subject == f"Complaint theme jumped: “{spike.label}” (5 this week, 1 the week before)"
    assert "Where: SUP-EMEA (4), SUP-US (1)" in mail[0].text
    assert any(refund in mail[0].text for refund in REFUNDS)

    # The next day the same complaints are still in the week: the same theme, not announced again.
    respond(DAY + timedelta(days=1), "I am still waiting for the refund of my returned coat.")
    assert check_spikes(at(DAY + timedelta(days=2), hour=12)) == 1
    assert ThemeSpike.objects.count() == 1 and ThemeSpike.objects.get().cleared_on is None
    assert len(theme_mail()) == 3

    # A week on, with nothing new, it is over.
    assert check_spikes(at(DAY + timedelta(days=9), hour=12)) == 1
    assert ThemeSpike.objects.get().cleared_on == DAY + timedelta(days=8)


def test_a_few_complaints_are_no_theme_spike(a_usual_week: None) -> None:
    respond(DAY, REFUNDS[0])
    respond(DAY, REFUNDS[1])
    assert check_spikes(at(DAY + timedelta(days=1), hour=12)) == 1
    assert ThemeSpike.objects.count() == 0 and theme_mail() == []


def test_without_a_week_before_there_is_nothing_to_jump_from(acme: None, text_model: Judge) -> None:
    for n, text in enumerate(REFUNDS):
        respond(DAY - timedelta(days=n), text)
    assert check_spikes(at(DAY + timedelta(days=1), hour=12)) == 1
    assert ThemeSpike.objects.count() == 0
