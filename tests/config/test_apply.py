"""Applying a configuration: what is stored, idempotence, dry runs, removals and deactivation."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from closeloop.alerts.models import Rule
from closeloop.cases.models import CaseTemplate, EscalationPolicy
from closeloop.config.apply import apply_config
from closeloop.feedback.models import Question, Response, Survey
from closeloop.notify.models import WebhookEndpoint
from closeloop.org.directory import current_organization
from closeloop.org.models import Calendar, Person, Role, Segment, Unit
from closeloop.reports.models import Digest
from tests.config.configs import EXAMPLE_PATH, changed, dump, example, person, stored_counts

pytestmark = pytest.mark.django_db

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def apply_example() -> None:
    apply_config(EXAMPLE_PATH.read_text())


def answer_from(unit: str | None = None, agent: str | None = None, survey: str = "stay") -> Response:
    """A stored response: history that must survive a configuration change."""
    return Response.objects.create(
        survey=Survey.objects.get(key=survey),
        external_id=f"r-{Response.objects.count() + 1}",
        submitted_at=NOW,
        received_at=NOW,
        unit=Unit.objects.get(code=unit) if unit else None,
        agent=Person.objects.get(key=agent) if agent else None,
        status="valid",
    )


def test_the_contract_example_applies_and_is_stored_as_the_other_parts_read_it() -> None:
    plan = apply_config(EXAMPLE_PATH.read_text())

    assert plan.count("added") == 19
    org = current_organization()
    assert (org.name, org.time_zone, org.recovery_threshold) == ("Harbour Hotels", "Europe/Dublin", 6)
    assert org.ticket_link("R 1") == "https://desk.harbour.example/case/R%201"
    assert (org.repeat_window, org.follow_up_after, org.follow_up_survey) == (
        timedelta(days=90),
        timedelta(days=2),
        "recovery-check",
    )
    calendar = Calendar.objects.get(key="frontdesk")
    assert (calendar.days, calendar.start, calendar.end, calendar.holidays) == (
        ["mon", "tue", "wed", "thu", "fri", "sat"],
        time(8),
        time(20),
        "IE",
    )
    assert list(Unit.objects.values_list("code", "path", "depth", "position", "parent__code")) == [
        ("HH", "/HH/", 0, 0, None),
        ("WEST", "/HH/WEST/", 1, 0, "HH"),
        ("GALWAY", "/HH/WEST/GALWAY/", 2, 0, "WEST"),
        ("SLIGO", "/HH/WEST/SLIGO/", 2, 1, "WEST"),
    ]
    assert list(Segment.objects.values_list("code", flat=True)) == ["LEISURE", "BUSINESS"]
    assert sorted(Role.objects.values_list("person__key", "unit__code", "role")) == [
        ("duty-galway", "GALWAY", "also_alert"),
        ("gm-galway", "GALWAY", "lead"),
        ("rec-galway", "GALWAY", "member"),
        ("west-lead", "WEST", "lead"),
    ]
    assert Person.objects.get(key="gm-galway").phone == "+353851000001"
    assert list(Question.objects.filter(survey__key="stay").values_list("key", "type", "min", "max")) == [
        ("overall", "scale", 1, 10),
        ("recommend", "nps", None, None),
        ("clean", "yes_no", None, None),
        ("liked", "multi_choice", None, None),
        ("comment", "text", None, None),
    ]
    assert Survey.objects.get(key="stay").overall == "overall"
    dirty, glowing = Rule.objects.order_by("position")
    assert (dirty.survey.key, dirty.when, dirty.open_case) == (
        "stay",
        {"all": [{"question": "clean", "equals": False}]},
        "guest-case",
    )
    assert glowing.survey is None
    assert glowing.notify == {
        "to": ["agent"],
        "channels": {"low": ["email"], "normal": ["email"], "high": ["email"], "urgent": ["email"]},
        "mode": "immediate",
    }
    template = CaseTemplate.objects.get(key="guest-case")
    assert template.sla == {
        "Platinum": {"severity": "urgent", "closure_goal": 12 * 3600},
        "default": {"severity": "high", "closure_goal": 2 * 86400},
    }
    assert (template.statuses, template.calendar, template.escalation) == (
        ["Open", "Waiting on guest", "Closed"],
        "frontdesk",
        "hotel",
    )
    assert template.team == {"managers": ["unit_leads"], "members": ["unit_members"]}
    assert EscalationPolicy.objects.get(key="hotel").steps == [
        {"when": "not_viewed", "after": 4 * 3600, "notify": [{"level": 1}]},
        {"when": "overdue", "notify": [{"level": 1}]},
        {"when": "closed_unresolved", "notify": [{"level": 1}]},
    ]
    digest = Digest.objects.get(key="morning")
    assert (digest.units, digest.at, digest.window, digest.to) == (
        ["GALWAY", "SLIGO"],
        time(8, 30),
        timedelta(hours=24),
        ["unit_leads"],
    )


def test_login_creates_an_account_without_a_password_and_admins_are_staff() -> None:
    def change(data: dict[str, Any]) -> None:
        person(data, "west-lead").update(
            login=True, roles=[{"unit": "WEST", "role": "lead"}, {"unit": "HH", "role": "admin"}]
        )

    apply_config(changed(change))

    gina = Person.objects.get(key="gm-galway").user
    wes = Person.objects.get(key="west-lead").user
    assert (gina.username, gina.is_staff, gina.is_active, gina.has_usable_password()) == (
        "gm-galway",
        False,
        True,
        False,
    )
    assert (wes.username, wes.is_staff) == ("west-lead", True)
    assert Person.objects.get(key="duty-galway").user is None


def test_an_existing_user_with_the_persons_id_is_linked_not_duplicated() -> None:
    existing = get_user_model().objects.create_user("gm-galway", password="s3cret-enough")
    apply_example()
    assert Person.objects.get(key="gm-galway").user == existing
    existing.refresh_from_db()
    assert existing.check_password("s3cret-enough")


def test_turning_login_off_disables_the_account() -> None:
    apply_example()
    plan = apply_config(changed(lambda d: person(d, "gm-galway").update(login=False)))
    assert plan.lines() == ["people: changed gm-galway (login, account)", "1 changed"]
    assert not Person.objects.get(key="gm-galway").user.is_active


def test_applying_the_same_file_twice_changes_nothing() -> None:
    apply_example()
    before = stored_counts()
    plan = apply_config(EXAMPLE_PATH.read_text())
    assert plan.is_empty
    assert plan.lines() == ["no changes"]
    assert stored_counts() == before


def test_a_dry_run_prints_the_plan_and_writes_nothing() -> None:
    plan = apply_config(EXAMPLE_PATH.read_text(), dry_run=True)
    assert set(stored_counts().values()) == {0}
    assert plan.lines()[:3] == ["organization: added organization", "calendars: added frontdesk", "units: added HH"]
    assert plan.lines()[-1] == "19 added (dry run: nothing was written)"


def test_a_dry_run_of_a_change_shows_the_same_plan_as_the_real_run() -> None:
    apply_example()

    def change(data: dict[str, Any]) -> None:
        data["units"][0]["children"][0]["name"] = "West Coast"
        data["people"] = [p for p in data["people"] if p["id"] != "rec-galway"]
        data["rules"][1]["severity"] = "normal"

    text = changed(change)
    dry = apply_config(text, dry_run=True)
    assert Unit.objects.get(code="WEST").name == "West"
    assert Person.objects.filter(key="rec-galway").exists()
    real = apply_config(text)
    assert dry.changes == real.changes
    assert real.lines() == [
        "units: changed WEST (name)",
        "people: removed rec-galway",
        "rules: changed glowing (severity)",
        "2 changed, 1 removed",
    ]


def test_changed_lists_exactly_the_fields_that_differ() -> None:
    apply_example()

    def change(data: dict[str, Any]) -> None:
        data["organization"]["recovery_threshold"] = 5
        data["organization"]["calendars"]["frontdesk"]["end"] = "22:00"
        data["surveys"][0]["questions"][0]["label"] = "Overall?"
        data["case_templates"][0]["sla"]["default"]["closure_goal"] = "3d"
        data["escalation_policies"][0]["steps"][0]["after"] = "2h"
        data["digests"][0]["at"] = "07:00"
        data["follow_up"]["after_close"] = "1w"
        data["segments"] = ["BUSINESS", "LEISURE"]

    assert apply_config(changed(change)).lines() == [
        "organization: changed organization (recovery_threshold, follow_up_after)",
        "calendars: changed frontdesk (end)",
        "segments: changed BUSINESS (position)",
        "segments: changed LEISURE (position)",
        "surveys: changed stay (questions)",
        "escalation_policies: changed hotel (steps)",
        "case_templates: changed guest-case (sla)",
        "digests: changed morning (at)",
        "8 changed",
    ]
    assert current_organization().follow_up_after == timedelta(weeks=1)
    assert Question.objects.get(survey__key="stay", key="overall").label == "Overall?"


def test_moving_a_unit_rewrites_the_paths_of_its_whole_subtree() -> None:
    apply_example()

    def change(data: dict[str, Any]) -> None:
        west = data["units"][0]["children"].pop(0)
        data["units"][0]["children"] = [{"code": "IRELAND", "name": "Ireland", "children": [west]}]

    plan = apply_config(changed(change))
    assert plan.lines() == [
        "units: added IRELAND",
        "units: changed WEST (parent, path, depth)",
        "units: changed GALWAY (path, depth)",
        "units: changed SLIGO (path, depth)",
        "1 added, 3 changed",
    ]
    assert list(Unit.objects.values_list("code", "path", "depth")) == [
        ("HH", "/HH/", 0),
        ("IRELAND", "/HH/IRELAND/", 1),
        ("WEST", "/HH/IRELAND/WEST/", 2),
        ("GALWAY", "/HH/IRELAND/WEST/GALWAY/", 3),
        ("SLIGO", "/HH/IRELAND/WEST/SLIGO/", 3),
    ]


def without_sligo(data: dict[str, Any]) -> None:
    data["units"][0]["children"][0]["children"].pop(1)
    data["digests"][0]["units"] = ["GALWAY"]


def test_a_unit_without_history_is_removed() -> None:
    apply_example()
    plan = apply_config(changed(without_sligo))
    assert "units: removed SLIGO" in plan.lines()
    assert not Unit.objects.filter(code="SLIGO").exists()


def test_a_unit_with_responses_is_kept_and_reported_every_time_without_counting_as_a_change() -> None:
    apply_example()
    answer_from(unit="SLIGO")
    text = changed(without_sligo)
    assert apply_config(text).lines() == [
        "digests: changed morning (units)",
        "units: kept SLIGO (has responses)",
        "1 changed",
    ]
    assert Unit.objects.filter(code="SLIGO").exists()
    assert apply_config(text).lines() == ["no changes", "units: kept SLIGO (has responses)"]


def test_a_removed_parent_of_a_unit_with_responses_is_kept_too() -> None:
    apply_example()
    answer_from(unit="SLIGO")

    def change(data: dict[str, Any]) -> None:
        galway = data["units"][0]["children"][0]["children"][0]
        data["units"][0]["children"] = [galway]
        data["digests"][0]["units"] = ["GALWAY"]
        data["people"] = [p for p in data["people"] if p["id"] != "west-lead"]

    lines = apply_config(changed(change)).lines()
    assert "units: kept WEST (has history below it)" in lines
    assert "units: kept SLIGO (has responses)" in lines
    assert Unit.objects.get(code="GALWAY").path == "/HH/GALWAY/"
    assert Unit.objects.get(code="SLIGO").path == "/HH/WEST/SLIGO/"


def test_a_person_with_history_is_deactivated_and_can_come_back() -> None:
    apply_example()
    answer_from(unit="GALWAY", agent="gm-galway")
    without_gina = changed(lambda d: d.update(people=d["people"][1:]))

    assert apply_config(without_gina).lines() == ["people: deactivated gm-galway (has history)", "1 deactivated"]
    gina = Person.objects.get(key="gm-galway")
    assert (gina.active, gina.roles.count(), gina.user.is_active) == (False, 0, False)
    assert apply_config(without_gina).lines() == ["no changes"]

    assert apply_config(EXAMPLE_PATH.read_text()).lines() == [
        "people: changed gm-galway (active, roles, account)",
        "1 changed",
    ]
    gina.refresh_from_db()
    assert (gina.active, gina.roles.count(), gina.user.is_active) == (True, 1, True)


def test_a_survey_with_responses_is_deactivated_and_one_without_is_deleted() -> None:
    extra = {"key": "checkout", "name": "Checkout", "questions": [{"key": "ok", "type": "yes_no"}]}
    apply_config(changed(lambda d: d["surveys"].append(extra)))
    answer_from(unit="GALWAY", survey="stay")

    def change(data: dict[str, Any]) -> None:
        data["surveys"] = [data["surveys"][1]]
        data["rules"] = [data["rules"][1]]
        data["rules"][0]["when"] = {"interviewer_flag": True}

    assert apply_config(changed(change)).lines() == [
        "surveys: changed recovery-check (position)",
        "surveys: deactivated stay (has responses)",
        "surveys: removed checkout",
        "rules: changed glowing (when, position)",
        "rules: removed dirty-room",
        "2 changed, 2 removed, 1 deactivated",
    ]
    assert Survey.objects.get(key="stay").active is False
    assert Question.objects.filter(survey__key="stay").count() == 5
    assert not Survey.objects.filter(key="checkout").exists()
    assert apply_config(changed(change)).lines() == ["no changes"]


def test_webhooks_and_chat_are_stored() -> None:
    def change(data: dict[str, Any]) -> None:
        data["webhooks"] = [
            {
                "key": "crm",
                "url": "https://crm.example/hooks",
                "secret": SECRET,
                "kinds": ["recovery"],
                "units": ["WEST"],
            }
        ]
        person(data, "gm-galway")["chat"] = "slack://T1/B2/C3"

    apply_config(changed(change))
    hook = WebhookEndpoint.objects.get(key="crm")
    assert (hook.url, hook.secret, hook.kinds, hook.units, hook.active) == (
        "https://crm.example/hooks",
        SECRET,
        ["recovery"],
        ["WEST"],
        True,
    )
    assert Person.objects.get(key="gm-galway").chat_url == "slack://T1/B2/C3"
    assert apply_config(EXAMPLE_PATH.read_text()).lines()[-1] == "1 changed, 1 removed"


def test_everything_is_written_in_one_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure half-way through the writes leaves the database as it was."""
    apply_example()
    before = stored_counts()

    def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    # Webhooks are the last section written, so everything before them has been written already.
    monkeypatch.setattr(WebhookEndpoint.objects, "bulk_create", fail)
    hook = {"key": "crm", "url": "https://crm.example", "secret": SECRET}
    with pytest.raises(RuntimeError):
        apply_config(changed(lambda d: (d["units"][0].update(name="Renamed"), d.update(webhooks=[hook]))))
    assert Unit.objects.get(code="HH").name == "Harbour Hotels"
    assert stored_counts() == before


def test_an_empty_organisation_can_be_applied_and_removes_everything_else() -> None:
    apply_example()
    plan = apply_config(dump({"organization": {"name": "Harbour Hotels"}}))
    assert plan.count("removed") == 18
    counts = stored_counts()
    assert counts["Organization"] == 1
    assert sum(counts.values()) == 1
    assert example()["organization"]["name"] == "Harbour Hotels"


def test_removing_many_people_at_once_splits_them_by_history() -> None:
    from closeloop.api.models import ApiToken

    apply_example()
    answer_from(unit="GALWAY", agent="rec-galway")
    ApiToken.objects.create(name="bot", token_hash="0" * 64, hint="cl_0", person=Person.objects.get(key="duty-galway"))
    gina_user = Person.objects.get(key="gm-galway").user

    lines = apply_config(changed(lambda d: d.update(people=[]))).lines()

    assert lines == [
        "people: removed gm-galway",
        "people: deactivated duty-galway (has history)",
        "people: deactivated rec-galway (has history)",
        "people: removed west-lead",
        "2 removed, 2 deactivated",
    ]
    assert sorted(Person.objects.values_list("key", "active")) == [("duty-galway", False), ("rec-galway", False)]
    assert not Role.objects.exists()
    gina_user.refresh_from_db()
    assert not gina_user.is_active


CONTRACT_EXAMPLE = Path("/work/shared/contract-check/example.yaml")


@pytest.mark.skipif(not CONTRACT_EXAMPLE.exists(), reason="the contract checker's own copy is not on this machine")
def test_the_contract_checkers_example_applies_too() -> None:
    assert apply_config(CONTRACT_EXAMPLE.read_text()).count("added") >= 19
