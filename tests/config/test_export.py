"""`config export` writes YAML that `config apply` accepts and that re-applies with no changes."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from closeloop.config.apply import apply_config
from closeloop.config.export import export_config
from closeloop.feedback.models import Response, Survey
from closeloop.org.models import Person, Role, Unit
from tests.config.configs import EXAMPLE_PATH, changed, dump, person, stored_counts

pytestmark = pytest.mark.django_db

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def everything_optional(data: dict[str, Any]) -> None:
    """The example with every optional key the contract and docs allow."""
    data["organization"]["repeat_window"] = "30d"
    data["organization"]["recovery_threshold"] = 6.5
    data["organization"]["segment_required"] = True
    data["organization"]["threshold_unless"] = "recovery_rule"
    data["organization"]["audio_hosts"] = ["recordings.example.com", "*.media.example.net:8443"]
    data["units"][0]["time_zone"] = "Europe/London"
    data["units"][0]["children"][0]["calendar"] = "frontdesk"
    data["units"].append({"code": "HQ", "name": "Head office"})
    person(data, "gm-galway").update(chat="slack://T1/B2/C3", roles=[{"unit": "GALWAY", "role": "lead"}])
    data["people"].append({"id": "ops", "name": "Ops Admin", "login": True, "roles": [{"unit": "HQ", "role": "admin"}]})
    data["surveys"][0]["questions"].append({"key": "plan", "type": "choice", "options": ["Room", "Suite"]})
    data["surveys"][0]["questions"].append({"key": "half", "type": "scale", "min": 0.5, "max": 5.5})
    data["rules"].append(
        {
            "key": "angry",
            "name": "Angry words",
            "kind": "watch",
            "when": {
                "any": [
                    {"keywords": ["refund", "never again"]},
                    {"not": {"sentiment": {"gte": -0.5}}},
                    {"overall": {"gte": 2, "lte": 4}},
                    {"customer": {"tier": ["Gold", "Platinum"]}},
                    {"unit": "WEST"},
                    {"segment": "BUSINESS"},
                    {"interviewer_flag": True},
                    {"question": "plan", "in": ["Suite"]},
                ]
            },
            "category": "Tone",
        }
    )
    data["case_templates"][0]["sla"] = {"Gold": {"severity": "urgent", "closure_goal": "90m"}}
    data["case_templates"][0]["team"] = {"managers": ["unit_leads", {"person": "west-lead"}], "members": []}
    data["case_templates"][0]["statuses"] = ["Open", {"name": "Called", "contacted": True}, "Closed"]
    data["case_templates"][0]["auto_close_on_recovered"] = True
    data["escalation_policies"][0]["steps"].append({"when": "not_contacted", "after": "36h", "notify": ["unit_leads"]})
    data["digests"][0]["report_per"] = "unit"
    data["summaries"] = [
        {"key": "weekly", "units": ["GALWAY", "WEST"], "at": "08:00", "to": ["unit_leads", {"person": "west-lead"}]},
        {"key": "friday", "units": ["WEST"], "day": "fri", "at": "16:30", "to": [{"person": "gm-galway"}], "themes": 0},
    ]
    data["webhooks"] = [
        {"key": "crm", "url": "https://crm.example/in", "secret": SECRET, "kinds": ["recovery"], "units": ["WEST"]},
        {"key": "all", "url": "http://127.0.0.1:9/hook", "secret": SECRET},
        {
            "key": "cases",
            "url": "https://crm.example/cases",
            "secret": SECRET,
            "events": ["case.opened", "case.closed"],
        },
    ]


def minimal(data: dict[str, Any]) -> None:
    for section in list(data):
        if section != "organization":
            del data[section]
    data["organization"] = {"name": "Solo"}


@pytest.mark.parametrize(
    "change", [lambda data: None, everything_optional, minimal], ids=["example", "full", "minimal"]
)
def test_export_re_applies_with_no_changes(change: Any) -> None:
    apply_config(changed(change))
    exported = export_config()
    before = stored_counts()
    assert apply_config(exported).lines() == ["no changes"]
    assert stored_counts() == before
    assert export_config() == exported


def test_export_onto_an_empty_database_rebuilds_the_same_configuration() -> None:
    apply_config(changed(everything_optional))
    exported = export_config()
    apply_config(dump({"organization": {"name": "Empty"}}))
    assert set(stored_counts().values()) == {1, 0}
    apply_config(exported)
    assert export_config() == exported


def test_export_lists_sections_in_the_contracts_order_and_reads_like_the_example() -> None:
    apply_config(changed(lambda d: d.update(webhooks=[{"key": "crm", "url": "https://crm.example", "secret": SECRET}])))
    exported = export_config()
    assert list(yaml.safe_load(exported)) == [
        "organization",
        "units",
        "segments",
        "people",
        "surveys",
        "rules",
        "case_templates",
        "escalation_policies",
        "digests",
        "follow_up",
        "webhooks",
    ]
    assert 'at: "08:30"' in exported
    assert "days: [mon, tue, wed, thu, fri, sat]" in exported
    assert "after: 4h" in exported
    assert "closure_goal: 12h" in exported
    assert "phone: '+353851000001'" in exported


def test_summaries_export_beside_the_digests_with_the_weekday_spelled_out() -> None:
    summary = {"key": "weekly", "units": ["GALWAY"], "day": "tue", "at": "07:45", "themes": 3}
    apply_config(changed(lambda d: d.update(summaries=[summary])))
    exported = export_config()
    data = yaml.safe_load(exported)
    assert list(data).index("summaries") == list(data).index("digests") + 1
    assert data["summaries"] == [
        {"key": "weekly", "units": ["GALWAY"], "day": "tuesday", "at": "07:45", "to": ["unit_leads"], "themes": 3}
    ]
    assert 'at: "07:45"' in exported
    assert apply_config(exported).lines() == ["no changes"]
    # Left out of the file, the summary is removed.
    assert "summaries: removed weekly" in apply_config(EXAMPLE_PATH.read_text()).lines()


def test_deactivated_people_and_surveys_are_not_exported() -> None:
    apply_config(EXAMPLE_PATH.read_text())
    gina = Person.objects.get(key="gm-galway")
    survey = Survey.objects.get(key="stay")
    Response.objects.create(
        survey=survey,
        external_id="r-1",
        submitted_at="2026-11-20T10:00Z",
        received_at="2026-11-20T10:00Z",
        agent=gina,
        unit=Unit.objects.get(code="SLIGO"),
        status="valid",
    )

    def change(data: dict[str, Any]) -> None:
        data["people"] = data["people"][1:]
        data["surveys"] = data["surveys"][1:]
        data["rules"] = [data["rules"][1]]
        data["rules"][0]["when"] = {"interviewer_flag": True}
        data["units"][0]["children"][0]["children"].pop(1)
        data["digests"][0]["units"] = ["GALWAY"]

    apply_config(changed(change))
    exported = yaml.safe_load(export_config())
    assert [p["id"] for p in exported["people"]] == ["duty-galway", "rec-galway", "west-lead"]
    assert [s["key"] for s in exported["surveys"]] == ["recovery-check"]
    # A unit kept for its responses is still part of the tree, so it is exported with it.
    assert [u["code"] for u in exported["units"][0]["children"][0]["children"]] == ["GALWAY", "SLIGO"]
    assert apply_config(export_config()).lines() == ["no changes"]


def test_export_handles_more_units_than_sqlite_allows_in_one_expression() -> None:
    """A prefetch of the roles' units would send SQLite an IN list deeper than it accepts."""
    apply_config(dump({"organization": {"name": "Big"}}))
    # Written directly: applying a thousand stores is slow, and only export is under test here.
    units = Unit.objects.bulk_create(Unit(code=f"S{n}", name=f"Store {n}", path=f"/S{n}/") for n in range(1100))
    people = Person.objects.bulk_create(Person(key=f"clerk-{n}", name=f"Clerk {n}") for n in range(1100))
    Role.objects.bulk_create(Role(person=p, unit=u, role="lead") for p, u in zip(people, units, strict=True))
    exported = yaml.safe_load(export_config())
    assert len(exported["people"]) == 1100
    assert exported["people"][-1]["roles"] == [{"unit": "S1099", "role": "lead"}]
