"""Settings in the product: each change goes through `config apply`'s own checks and writes, is logged as a
ConfigChange with who and when, shows in `config export`, and `config apply` then asks before undoing it."""

from __future__ import annotations

import io

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from closeloop.alerts.models import Rule
from closeloop.config.export import export_config
from closeloop.feedback.models import Survey
from closeloop.org.models import ConfigChange, Organization, Person, Role
from closeloop.reports.models import Digest
from tests.conftest import FIXTURES
from tests.web.conftest import ingest, login_as


def exported() -> dict:
    return yaml.safe_load(export_config())


def test_only_admins_reach_the_settings(erin: Client, admin_client_acme: Client) -> None:
    for url in ("/settings/", "/settings/thresholds", "/settings/people/erin", "/settings/rules/kudos"):
        assert erin.get(url).status_code == 403
        assert admin_client_acme.get(url).status_code == 200


def test_the_threshold_is_saved_logged_and_exported(admin_client_acme: Client) -> None:
    response = admin_client_acme.post("/settings/thresholds", {"organization": "5", "survey_0": "", "survey_1": "6"})
    assert response.status_code == 302
    assert Organization.load().recovery_threshold == 5
    assert Survey.objects.get(key="relationship").recovery_threshold == 6
    assert Survey.objects.get(key="upgrade-install").recovery_threshold is None
    document = exported()
    assert document["organization"]["recovery_threshold"] == 5
    assert document["surveys"][1]["recovery_threshold"] == 6
    change = ConfigChange.objects.get(source="settings")
    assert (change.source, change.actor.key, change.actor_name, change.summary) == (
        "settings",
        "admin",
        "Ada Admin",
        "Recovery thresholds",
    )
    assert change.lines == [
        "organization: changed organization (recovery_threshold)",
        "surveys: changed relationship (recovery_threshold)",
    ]
    page = admin_client_acme.get("/settings/").content.decode()
    assert "Recovery thresholds" in page and "Ada Admin" in page


def test_a_survey_threshold_decides_what_needs_recovery(admin_client_acme: Client) -> None:
    admin_client_acme.post("/settings/thresholds", {"organization": "6", "survey_0": "3", "survey_1": ""})
    assert not ingest({"ease": 4, "completed": True}).needs_recovery
    assert ingest({"ease": 3, "completed": True}).needs_recovery


def test_a_bad_value_is_refused_by_its_field_and_nothing_changes(admin_client_acme: Client) -> None:
    response = admin_client_acme.post("/settings/thresholds", {"organization": "six"})
    assert response.status_code == 422 and b"Enter a number." in response.content
    assert Organization.load().recovery_threshold == 6 and not ConfigChange.objects.filter(source="settings").exists()


def test_the_configurations_own_check_speaks_next_to_the_field(admin_client_acme: Client) -> None:
    """The digest time goes through config apply's check: its message is the file's message."""
    response = admin_client_acme.post("/settings/digests", {"at_0": "25:00", "weekend_sms_0": "on"})
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_at_0_error"' in page and "is not a time like" in page
    assert (
        Digest.objects.get().at.strftime("%H:%M") == "09:00"
        and not ConfigChange.objects.filter(source="settings").exists()
    )


def test_digest_time_and_weekend_sms(admin_client_acme: Client) -> None:
    assert admin_client_acme.post("/settings/digests", {"at_0": "08:30:00", "weekend_sms_0": "on"}).status_code == 302
    digest = Digest.objects.get()
    assert (digest.at.strftime("%H:%M"), digest.weekend_sms) == ("08:30", True)
    assert exported()["digests"][0]["at"] == "08:30"
    assert admin_client_acme.post("/settings/digests", {"at_0": "08:30"}).status_code == 302
    assert Digest.objects.get().weekend_sms is False


def test_a_person_is_added_with_roles_and_an_account(admin_client_acme: Client) -> None:
    response = admin_client_acme.post(
        "/settings/people/new",
        {
            "id": "nina",
            "name": "Nina New",
            "email": "nina@acme.example",
            "login": "on",
            "roles-TOTAL_FORMS": "2",
            "roles-INITIAL_FORMS": "0",
            "roles-0-unit": "SUP-UK",
            "roles-0-role": "lead",
            "roles-1-unit": "",
            "roles-1-role": "",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/settings/people/nina"
    nina = Person.objects.get(key="nina")
    assert nina.user is not None and nina.user.username == "nina"
    assert list(Role.objects.filter(person=nina).values_list("unit__code", "role")) == [("SUP-UK", "lead")]
    assert {"id": "nina", "name": "Nina New", "email": "nina@acme.example", "login": True,
            "roles": [{"unit": "SUP-UK", "role": "lead"}]} in exported()["people"]  # fmt: skip


def test_a_role_on_an_unknown_unit_is_put_on_its_row(admin_client_acme: Client) -> None:
    Organization.objects.all()  # the configuration is loaded
    page = admin_client_acme.get("/settings/people/erin").content.decode()
    assert 'value="SUP-EMEA" selected' in page
    response = admin_client_acme.post(
        "/settings/people/erin",
        {
            "name": "Erin Diaz",
            "email": "not-an-address",
            "roles-TOTAL_FORMS": "1",
            "roles-INITIAL_FORMS": "1",
            "roles-0-unit": "SUP-EMEA",
            "roles-0-role": "lead",
        },
    )
    assert response.status_code == 422
    assert "&#x27;not-an-address&#x27; is not an email address" in response.content.decode()
    assert Person.objects.get(key="erin").email == "erin@acme.example"


def test_removing_a_person_asks_first(admin_client_acme: Client) -> None:
    confirm = admin_client_acme.post("/settings/people/sam", {"action": "remove"})
    assert confirm.status_code == 200 and b"Yes, remove Sam Shift" in confirm.content
    assert Person.objects.get(key="sam").active
    done = admin_client_acme.post("/settings/people/sam", {"action": "remove-confirmed"})
    assert done.status_code == 302
    assert not Person.objects.filter(key="sam", active=True).exists()
    assert "sam" not in {p["id"] for p in exported()["people"]}


def test_a_person_a_rule_names_cannot_be_removed(admin_client_acme: Client) -> None:
    response = admin_client_acme.post("/settings/people/rita", {"action": "remove-confirmed"})
    assert response.status_code == 422
    assert "case_templates[0].team.managers[1].person: unknown person &#x27;rita&#x27;" in response.content.decode()
    assert Person.objects.get(key="rita").active


def test_a_rules_conditions_and_recipients(admin_client_acme: Client) -> None:
    page = admin_client_acme.get("/settings/rules/churn-words").content.decode()
    assert "keywords:" in page and 'value="unit_leads"' in page
    response = admin_client_acme.post(
        "/settings/rules/churn-words",
        {
            "when": "keywords: [refund, cancel, lawyer]",
            "recipients": ["unit_leads"],
            "levels": ["2"],
            "people": ["ceo"],
        },
    )
    assert response.status_code == 302
    rule = Rule.objects.get(key="churn-words")
    assert rule.when == {"keywords": ["refund", "cancel", "lawyer"]}
    assert rule.notify["to"] == ["unit_leads", {"level": 2}, {"person": "ceo"}]
    assert ingest({"ease": 9, "completed": True, "comment": "Calling my lawyer."}).alerts.filter(rule_key="churn-words")


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("question: nope\nequals: 1", "unknown question"),
        ("all: [", "This is not YAML"),
    ],
)
def test_a_bad_condition_is_explained(admin_client_acme: Client, when: str, message: str) -> None:
    response = admin_client_acme.post("/settings/rules/install-failed", {"when": when, "recipients": ["unit_leads"]})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Rule.objects.get(key="install-failed").when == {"all": [{"question": "completed", "equals": False}]}


def test_a_settings_change_is_drift_that_config_apply_asks_about(admin_client_acme: Client) -> None:
    admin_client_acme.post("/settings/thresholds", {"organization": "4", "survey_0": "", "survey_1": ""})
    file = str(FIXTURES / "acme.yaml")
    out = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("config", "apply", file, stdout=out, stdin=io.StringIO(""))
    assert refused.value.returncode == 2 and "--force" in str(refused.value)
    assert "by Ada Admin: Recovery thresholds" in out.getvalue()
    assert "would become: organization: changed organization (recovery_threshold)" in out.getvalue()
    assert Organization.load().recovery_threshold == 4
    # A dry run shows the drift too, and asks nothing.
    dry = io.StringIO()
    call_command("config", "apply", file, "--dry-run", stdout=dry)
    assert "Recovery thresholds" in dry.getvalue() and Organization.load().recovery_threshold == 4
    call_command("config", "apply", file, "--force", stdout=io.StringIO())
    assert Organization.load().recovery_threshold == 6
    assert ConfigChange.objects.order_by("-id").first().source == "file"
    # Once the file was applied, the settings change is history, not drift.
    call_command("config", "apply", file, stdout=io.StringIO(), stdin=io.StringIO(""))


def test_an_interactive_apply_asks_and_stops_on_no(admin_client_acme: Client) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    admin_client_acme.post("/settings/thresholds", {"organization": "4", "survey_0": "", "survey_1": ""})
    file = str(FIXTURES / "acme.yaml")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("config", "apply", file, stdout=out, stdin=Terminal("n\n"))
    assert "overwrite them? [y/N]" in out.getvalue() and Organization.load().recovery_threshold == 4
    call_command("config", "apply", file, stdout=io.StringIO(), stdin=Terminal("y\n"))
    assert Organization.load().recovery_threshold == 6


def test_a_file_that_already_says_what_was_set_is_no_drift(admin_client_acme: Client, tmp_path) -> None:
    admin_client_acme.post("/settings/thresholds", {"organization": "4", "survey_0": "", "survey_1": ""})
    same = tmp_path / "same.yaml"
    same.write_text(export_config())
    out = io.StringIO()
    call_command("config", "apply", str(same), stdout=out, stdin=io.StringIO(""))
    assert "no changes" in out.getvalue()


def test_config_apply_logs_its_changes(acme: None) -> None:
    change = ConfigChange.objects.get()
    assert change.source == "file" and "organization: added organization" in change.lines
    assert ConfigChange.objects.count() == 1
    with pytest.raises(Exception, match="cannot be changed"):
        change.save()
    with pytest.raises(Exception, match="cannot be deleted"):
        ConfigChange.objects.all().delete()


def test_people_with_the_admin_role_can_use_the_admin_site(acme: None) -> None:
    ada = login_as("admin")
    for url in (
        "/admin/",
        "/admin/api/apitoken/",
        "/admin/notify/delivery/",
        "/admin/reports/digestrun/",
        "/admin/org/configchange/",
    ):
        assert ada.get(url).status_code == 200, url
    user = Person.objects.get(key="admin").user
    assert user.is_staff and not user.is_superuser
    assert user.has_perm("api.delete_apitoken") and user.has_perm("auth.change_user")
    # Configuration rows are looked at in the admin, changed through the file or the settings pages.
    assert user.has_perm("alerts.view_rule") and not user.has_perm("alerts.change_rule")
    erin = login_as("erin")
    assert erin.get("/admin/").status_code == 302  # not staff: sent to the admin's login


def test_losing_the_admin_role_takes_the_admin_site_away(acme: None) -> None:
    text = (FIXTURES / "acme.yaml").read_text().replace("role: admin", "role: member")
    from closeloop.config.apply import apply_config

    apply_config(text)
    user = Person.objects.get(key="admin").user
    user.refresh_from_db()
    assert not user.is_staff and not user.groups.exists()


def with_a_weekly_summary() -> None:
    from closeloop.config.apply import apply_config

    document = yaml.safe_load((FIXTURES / "acme.yaml").read_text())
    document["summaries"] = [{"key": "weekly", "units": ["ACME"], "day": "mon", "at": "08:00", "to": ["unit_leads"]}]
    apply_config(yaml.safe_dump(document, sort_keys=False))


def test_a_weekly_summarys_day_time_and_themes(admin_client_acme: Client) -> None:
    from closeloop.reports.models import Summary

    with_a_weekly_summary()
    page = admin_client_acme.get("/settings/summaries").content.decode()
    assert 'value="monday" selected' in page and 'value="08:00"' in page
    answer = admin_client_acme.post("/settings/summaries", {"day_0": "friday", "at_0": "16:30:00", "themes_0": "3"})
    assert answer.status_code == 302
    summary = Summary.objects.get()
    assert (summary.day, summary.at.strftime("%H:%M"), summary.themes) == (4, "16:30", 3)  # Friday
    assert exported()["summaries"][0] | {"to": None} == {
        "key": "weekly",
        "units": ["ACME"],
        "day": "friday",
        "at": "16:30",
        "to": None,
        "themes": 3,
    }
    assert ConfigChange.objects.filter(source="settings", summary="Weekly summaries").exists()


def test_a_bad_weekly_summary_value_is_refused_next_to_its_field(admin_client_acme: Client) -> None:
    from closeloop.reports.models import Summary

    with_a_weekly_summary()
    answer = admin_client_acme.post("/settings/summaries", {"day_0": "monday", "at_0": "08:00", "themes_0": "-1"})
    assert answer.status_code == 422
    assert 'id="id_themes_0_error"' in answer.content.decode()
    assert Summary.objects.get().themes == 5 and not ConfigChange.objects.filter(source="settings").exists()


def test_without_weekly_summaries_the_page_says_how_to_add_one(admin_client_acme: Client) -> None:
    assert "No weekly summaries are configured" in admin_client_acme.get("/settings/summaries").content.decode()
