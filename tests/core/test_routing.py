"""core.routing: who hears about an alert, by which channel, and which webhooks receive it."""

from __future__ import annotations

import pytest

from closeloop.core.routing import (
    DEFAULT_CHANNELS,
    OrgTree,
    Recipient,
    channels_for,
    endpoint_wants,
    endpoint_wants_event,
    praise_recipients,
    resolve,
)

# ACME > EMEA > (LON, DUB); ACME > AMER. DUB has no lead of its own.
TREE = OrgTree(
    parents={"ACME": None, "EMEA": "ACME", "LON": "EMEA", "DUB": "EMEA", "AMER": "ACME"},
    roles={
        ("ACME", "lead"): ("ceo",),
        ("EMEA", "lead"): ("emea-lead",),
        ("LON", "lead"): ("lon-lead", "lon-lead-2"),
        ("LON", "also_alert"): ("lon-ops",),
        ("LON", "member"): ("lon-agent",),
        ("DUB", "member"): ("dub-agent",),
        ("AMER", "admin"): ("amer-admin",),
    },
)


def people(recipients: list[Recipient]) -> list[str]:
    return [r.person for r in recipients]


def test_ancestors_run_from_the_parent_to_the_root() -> None:
    assert TREE.ancestors("LON") == ["EMEA", "ACME"]
    assert TREE.ancestors("ACME") == []


def test_ancestors_stop_on_a_cycle() -> None:
    looped = OrgTree(parents={"A": "B", "B": "A"})
    assert looped.ancestors("A") == ["B"]


def test_a_unit_without_a_lead_falls_back_to_the_nearest_ancestors_lead() -> None:
    assert TREE.leads_of("DUB") == ("emea-lead",)
    assert TREE.leads_of("LON") == ("lon-lead", "lon-lead-2")


def test_leads_up_climbs_n_levels_and_stops_at_the_root() -> None:
    assert TREE.leads_up("LON", 0) == ("lon-lead", "lon-lead-2")
    assert TREE.leads_up("LON", 1) == ("emea-lead",)
    assert TREE.leads_up("LON", 2) == ("ceo",)
    assert TREE.leads_up("LON", 9) == ("ceo",)
    assert TREE.leads_up("ACME", 1) == ()


def test_unit_selectors_pick_the_units_own_role_holders() -> None:
    chosen = resolve(["unit_leads", "unit_also_alerts", "unit_members"], unit="LON", agent=None, tree=TREE)
    assert chosen == [
        Recipient("lon-lead", "unit_leads"),
        Recipient("lon-lead-2", "unit_leads"),
        Recipient("lon-ops", "unit_also_alerts"),
        Recipient("lon-agent", "unit_members"),
    ]


def test_each_person_is_chosen_once_by_the_first_selector_that_names_them() -> None:
    chosen = resolve(["unit_leads", {"level": 0}, {"person": "lon-lead"}], unit="LON", agent=None, tree=TREE)
    assert people(chosen) == ["lon-lead", "lon-lead-2"]
    assert {r.because for r in chosen} == {"unit_leads"}


def test_agent_selects_the_agent_and_their_lead() -> None:
    chosen = resolve(["agent"], unit="LON", agent="lon-agent", tree=TREE)
    assert chosen == [
        Recipient("lon-agent", "agent"),
        Recipient("lon-lead", "agent's lead"),
        Recipient("lon-lead-2", "agent's lead"),
    ]


def test_person_and_level_selectors() -> None:
    chosen = resolve([{"person": "amer-admin"}, {"level": 2}], unit="LON", agent=None, tree=TREE)
    assert chosen == [Recipient("amer-admin", "person"), Recipient("ceo", "level 2")]


def test_unit_selectors_choose_nobody_without_a_unit() -> None:
    assert resolve(["unit_leads", "unit_members", {"level": 1}], unit=None, agent=None, tree=TREE) == []


def test_unknown_selectors_choose_nobody() -> None:
    assert resolve(["everyone", {"team": "x"}], unit="LON", agent=None, tree=TREE) == []


@pytest.mark.parametrize(
    ("severity", "channels", "expected"),
    [
        ("high", None, ("email", "sms")),
        ("low", None, ("email",)),
        ("high", {"high": ["email"]}, ("email",)),
        ("urgent", {"high": ["email"]}, DEFAULT_CHANNELS["urgent"]),
        ("normal", {"normal": ["sms", "email", "sms"]}, ("sms", "email")),
        ("unheard-of", None, ("email",)),
    ],
)
def test_channels_follow_severity_with_defaults_for_what_a_rule_leaves_out(
    severity: str, channels: dict[str, list[str]] | None, expected: tuple[str, ...]
) -> None:
    assert channels_for(severity, channels) == expected


@pytest.mark.parametrize(
    ("kinds", "units", "kind", "path", "wants"),
    [
        ([], [], "praise", ("ACME", "EMEA", "LON"), True),
        (["recovery"], [], "recovery", ("ACME",), True),
        (["recovery"], [], "praise", ("ACME",), False),
        ([], ["EMEA"], "recovery", ("ACME", "EMEA", "LON"), True),
        ([], ["EMEA"], "recovery", ("ACME", "AMER"), False),
        ([], ["EM"], "recovery", ("ACME", "EMEA"), False),
        (["watch"], ["LON"], "watch", ("ACME", "EMEA", "LON"), True),
        ([], ["LON"], "recovery", (), False),
    ],
)
def test_webhook_endpoints_receive_the_kinds_and_subtrees_they_subscribe_to(
    kinds: list[str], units: list[str], kind: str, path: tuple[str, ...], wants: bool
) -> None:
    assert endpoint_wants(kinds, units, alert_kind=kind, unit_path=path) is wants


@pytest.mark.parametrize(
    ("events", "event", "wants"),
    [
        ([], "alert.created", True),  # without a list: alerts, as before subscriptions existed
        ([], "case.opened", False),
        (["case.opened", "case.closed"], "case.opened", True),
        (["case.opened", "case.closed"], "case.escalated", False),
        (["case.opened"], "alert.created", False),  # a list without alerts gets none
        (["alert.created", "case.status"], "case.status", True),
    ],
)
def test_webhook_endpoints_receive_the_events_they_subscribe_to(events: list[str], event: str, wants: bool) -> None:
    assert endpoint_wants_event(events, [], event=event, unit_path=("ACME",)) is wants
    assert endpoint_wants_event(events, ["EMEA"], event=event, unit_path=("ACME", "AMER")) is False


def test_an_endpoint_subscribed_to_case_events_only_receives_no_alerts() -> None:
    assert endpoint_wants([], [], alert_kind="recovery", unit_path=("ACME",), events=["case.opened"]) is False
    assert endpoint_wants(["recovery"], [], alert_kind="recovery", unit_path=("ACME",), events=["alert.created"])


def test_praise_reaches_everyone_holding_a_role_on_the_unit_itself() -> None:
    assert praise_recipients("LON", TREE) == ("lon-agent", "lon-lead", "lon-lead-2", "lon-ops")
    assert praise_recipients("DUB", TREE) == ("dub-agent",)
    assert praise_recipients(None, TREE) == ()
