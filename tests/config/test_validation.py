"""Every kind of bad input gives its exact `path: message`, and nothing is written.

Validation needs no database: only the tests that apply a file use one."""

from __future__ import annotations

from typing import Any

import pytest

from closeloop.config.apply import apply_config
from closeloop.config.validate import load_config
from tests.config.configs import EXAMPLE_PATH, changed, example, problems_of, stored_counts

SCALE = {"key": "ease", "type": "scale", "min": 1, "max": 10}


def rule(**fields: Any) -> dict[str, Any]:
    base = {"key": "extra", "name": "Extra", "kind": "watch", "when": {"nps": "passive"}, "category": "Other"}
    return base | fields


def test_the_example_and_its_two_broken_spots_are_both_reported() -> None:
    text = EXAMPLE_PATH.read_text().replace("unit: GALWAY, role: member", "unit: NOWHERE, role: member")
    text = text.replace("after: 4h", "after: soon")
    assert problems_of(text) == [
        "people[2].roles[0].unit: unknown unit 'NOWHERE'",
        "escalation_policies[0].steps[0].after: 'soon' is not a duration like 30m, 24h, 3d or 2w",
    ]


@pytest.mark.django_db
def test_nothing_is_written_when_any_problem_is_found() -> None:
    apply_config(EXAMPLE_PATH.read_text())
    before = stored_counts()
    text = changed(lambda d: d["units"][0].update(name="Renamed") or d["people"].append({"id": "x"}))
    problems_of(text)
    assert stored_counts() == before
    from closeloop.org.models import Unit

    assert Unit.objects.get(code="HH").name == "Harbour Hotels"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("organization:\n  name: [unclosed\nunits: []\n", r"line \d, column \d+: .*expected ',' or '\]'.*"),
        ("organization:\n  name: A\n  name: B\n", r"line 3, column 3: key 'name' is given twice in this mapping"),
        ("organization: {name: A\n", r"line \d+, column \d+: .+"),
    ],
)
def test_yaml_syntax_errors_name_the_line(text: str, expected: str) -> None:
    import re

    (problem,) = problems_of(text)
    assert re.fullmatch(expected, problem), problem


def test_file_shape() -> None:
    assert problems_of("") == ["(file): is empty; it needs at least an organization section"]
    assert problems_of("- a\n- b\n")[0].startswith("(file): must be a mapping of sections")
    assert problems_of("units: []\n") == ["organization: is required"]
    assert problems_of("organization: {name: A}\ncolour: blue\n") == [
        "colour: unknown section; sections are organization, units, segments, people, surveys, rules, "
        "case_templates, escalation_policies, digests, summaries, follow_up, webhooks, sources, text_model"
    ]


def edit_person(field: str, value: Any) -> str:
    return changed(lambda d: d["people"][0].update({field: value}))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (edit_person("nickname", "G"), "people[0].nickname: unknown key"),
        (edit_person("login", "maybe"), "people[0].login: 'maybe' is not true or false"),
        (edit_person("phone", 353851000001), "people[0].phone: 353851000001 is not text (put it in quotes)"),
        (edit_person("phone", "call me"), "people[0].phone: 'call me' is not a phone number like \"+15555550101\""),
        (edit_person("email", "gina-at-home"), "people[0].email: 'gina-at-home' is not an email address"),
        (
            edit_person("chat", "slack"),
            "people[0].chat: 'slack' is not an Apprise URL like slack://TOKEN_A/TOKEN_B/TOKEN_C",
        ),
        (
            edit_person("roles", [{"unit": "GALWAY", "role": "boss"}]),
            "people[0].roles[0].role: 'boss' is not one of 'lead', 'also_alert', 'member', 'admin'",
        ),
        (
            edit_person("roles", [{"unit": "GALWAY", "role": "lead"}, {"unit": "GALWAY", "role": "lead"}]),
            "people[0].roles[1]: duplicate role lead of GALWAY",
        ),
        (edit_person("name", None), "people[0].name: None is not text"),
        (
            edit_person("id", "gina galway"),
            "people[0].id: 'gina galway' is not a key: use letters, digits and _ . @ + - (no spaces or slashes)",
        ),
        (changed(lambda d: d["people"][0].pop("name")), "people[0].name: is required"),
        (
            changed(lambda d: d["people"].append(dict(d["people"][0]))),
            "people[4].id: duplicate person id 'gm-galway' (first at people[0].id)",
        ),
        (changed(lambda d: d.update(people={"gm": {}})), "people: must be a list, not {'gm': {}}"),
    ],
)
def test_people(text: str, problem: str) -> None:
    assert problems_of(text) == [problem]


def add_child(parent_path: list[int], unit: dict[str, Any]) -> str:
    def change(data: dict[str, Any]) -> None:
        node = data["units"][parent_path[0]]
        for index in parent_path[1:]:
            node = node["children"][index]
        node.setdefault("children", []).append(unit)

    return changed(change)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            add_child([0, 0, 1], {"code": "GALWAY", "name": "Again"}),
            "units[0].children[0].children[1].children[0].code: duplicate unit code 'GALWAY' "
            "(first at units[0].children[0].children[0].code)",
        ),
        (
            add_child([0, 0], {"code": "HH", "name": "Loop"}),
            "units[0].children[0].children[2].code: 'HH' appears inside itself: the tree would be a cycle",
        ),
        (
            add_child([0], {"code": "EAST", "name": "East", "time_zone": "Europe/Atlantis"}),
            "units[0].children[1].time_zone: unknown time zone 'Europe/Atlantis' (use an IANA name "
            "such as Europe/London)",
        ),
        (
            add_child([0], {"code": "EAST", "name": "East", "calendar": "nights"}),
            "units[0].children[1].calendar: unknown calendar 'nights'",
        ),
        (
            add_child([0], {"code": "EA/ST", "name": "East"}),
            "units[0].children[1].code: 'EA/ST' is not a key: use letters, digits and _ . @ + - (no spaces or slashes)",
        ),
        (add_child([0], {"code": "EAST"}), "units[0].children[1].name: is required"),
        (
            add_child([0], {"code": "EAST", "name": "East", "children": {"code": "X"}}),
            "units[0].children[1].children: must be a list, not {'code': 'X'}",
        ),
    ],
)
def test_units(text: str, problem: str) -> None:
    assert problems_of(text) == [problem]


def test_an_invalid_unit_still_counts_as_known_so_one_mistake_is_reported_once() -> None:
    text = changed(lambda d: d["units"][0]["children"][0]["children"][0].update(time_zone="Nowhere/City"))
    assert problems_of(text) == [
        "units[0].children[0].children[0].time_zone: unknown time zone 'Nowhere/City' "
        "(use an IANA name such as Europe/London)"
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            changed(lambda d: d["organization"].update(time_zone="Mars/Olympus")),
            "organization.time_zone: unknown time zone 'Mars/Olympus' (use an IANA name such as Europe/London)",
        ),
        (
            changed(lambda d: d["organization"].update(recovery_threshold="six")),
            "organization.recovery_threshold: 'six' is not a number",
        ),
        (
            changed(lambda d: d["organization"].update(repeat_window="a while")),
            "organization.repeat_window: 'a while' is not a duration like 30m, 24h, 3d or 2w",
        ),
        (
            changed(lambda d: d["organization"].update(ticket_url="https://desk.example/")),
            "organization.ticket_url: ticket_url needs {ticket} where the ticket number goes",
        ),
        (
            changed(lambda d: d["organization"]["calendars"]["frontdesk"].update(holidays="XX")),
            "organization.calendars.frontdesk.holidays: unknown holidays country 'XX' (use a code such "
            "as US, GB or IE)",
        ),
        (
            changed(lambda d: d["organization"]["calendars"]["frontdesk"].update(start=480)),
            "organization.calendars.frontdesk.start: 480 is not text (put it in quotes)",
        ),
        (
            changed(lambda d: d["organization"]["calendars"]["frontdesk"].update(end="07:00")),
            "organization.calendars.frontdesk.end: end 07:00 must be after start 08:00",
        ),
        (
            changed(lambda d: d["organization"]["calendars"]["frontdesk"].update(days=["mon", "someday"])),
            "organization.calendars.frontdesk.days[1]: 'someday' is not one of 'mon', 'tue', 'wed', 'thu', 'fri', "
            "'sat', 'sun'",
        ),
        (changed(lambda d: d.update(segments=["LEISURE", "LEISURE"])), "segments[1]: duplicate segment 'LEISURE'"),
        (
            changed(lambda d: d["organization"].update(audio_hosts=["recordings.example.com", "https://x.example/"])),
            "organization.audio_hosts[1]: 'https://x.example/' is not a host name: give the host only "
            "(recordings.example.com), no scheme or path",
        ),
        (
            changed(lambda d: d["organization"].update(audio_hosts=["bad host"])),
            "organization.audio_hosts[0]: 'bad host' is not a host name (letters, digits, hyphens and dots; "
            "*.example.com for subdomains)",
        ),
    ],
)
def test_organization_calendars_and_segments(text: str, problem: str) -> None:
    assert problems_of(text) == [problem]


def edit_survey(index: int, **fields: Any) -> str:
    return changed(lambda d: d["surveys"][index].update(fields))


def add_question(question: dict[str, Any]) -> str:
    return changed(lambda d: d["surveys"][0]["questions"].append(question))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            add_question({"key": "ease", "type": "scale", "min": 5, "max": 5}),
            "surveys[0].questions[5].min: min (5) must be below max (5)",
        ),
        (
            add_question({"key": "ease", "type": "scale", "max": 5}),
            "surveys[0].questions[5].min: a scale question needs min and max",
        ),
        (
            add_question({"key": "plan", "type": "choice"}),
            "surveys[0].questions[5].options: a choice question needs options",
        ),
        (
            add_question({"key": "plan", "type": "multi_choice", "options": []}),
            "surveys[0].questions[5].options: a multi_choice question needs options",
        ),
        (
            add_question({"key": "plan", "type": "text", "options": ["a"]}),
            "surveys[0].questions[5].options: options are only for choice and multi_choice questions",
        ),
        (
            add_question({"key": "nps2", "type": "nps", "min": 1}),
            "surveys[0].questions[5].min: min and max are only for scale questions (an nps question is always 0..10)",
        ),
        (
            add_question({"key": "mood", "type": "emoji"}),
            "surveys[0].questions[5].type: 'emoji' is not one of 'scale', 'nps', 'yes_no', 'choice', "
            "'multi_choice', 'text'",
        ),
        (
            add_question({"key": "clean", "type": "yes_no"}),
            "surveys[0].questions[5].key: duplicate question key 'clean' (first at surveys[0].questions[2].key)",
        ),
        (edit_survey(0, overall="happiness"), "surveys[0].overall: unknown question 'happiness'"),
        (
            edit_survey(0, overall="comment"),
            "surveys[0].overall: 'comment' is a text question; the overall score needs scale or nps",
        ),
        (
            changed(lambda d: d["surveys"].append(dict(d["surveys"][1]))),
            "surveys[2].key: duplicate survey key 'recovery-check' (first at surveys[1].key)",
        ),
        (edit_survey(1, questions=[]), "surveys[1].questions: needs at least 1 entry"),
    ],
)
def test_surveys(text: str, problem: str) -> None:
    assert problems_of(text) == [problem]


def edit_rule(index: int, **fields: Any) -> str:
    return changed(lambda d: d["rules"][index].update(fields))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (edit_rule(0, survey="checkout"), "rules[0].survey: unknown survey 'checkout'"),
        (
            edit_rule(0, when={"all": [{"question": "speed", "lt": 3}]}),
            "rules[0].when.all[0].question: unknown question 'speed'",
        ),
        # The survey-less rule looks in every survey: `resolved` is in recovery-check, `speed` nowhere.
        (
            edit_rule(1, when={"any": [{"question": "resolved", "equals": False}, {"question": "speed", "lt": 3}]}),
            "rules[1].when.any[1].question: unknown question 'speed'",
        ),
        (
            edit_rule(0, when={"question": "overall", "in": [1, "awful"]}),
            "rules[0].when.in[1]: 'awful' does not fit 'overall': a scale question needs a number",
        ),
        (edit_rule(0, when={"unit": "NOWHERE"}), "rules[0].when.unit: unknown unit 'NOWHERE'"),
        (edit_rule(0, when={"segment": "STUDENT"}), "rules[0].when.segment: unknown segment 'STUDENT'"),
        (
            edit_rule(0, when=[{"nps": "promoter"}]),
            "rules[0].when: a condition must be a mapping such as {question: K, equals: V}, not [{'nps': 'promoter'}]",
        ),
        (
            edit_rule(0, when={"not": [{"nps": "promoter"}]}),
            "rules[0].when.not: not takes one condition, not a list (wrap several in all or any)",
        ),
        (edit_rule(0, open_case="refund-case"), "rules[0].open_case: unknown case template 'refund-case'"),
        (edit_rule(0, kind="complaint"), "rules[0].kind: 'complaint' is not one of 'recovery', 'praise', 'watch'"),
        (
            edit_rule(0, severity="critical"),
            "rules[0].severity: 'critical' is not one of 'low', 'normal', 'high', 'urgent'",
        ),
        (edit_rule(1, key="dirty-room"), "rules[1].key: duplicate rule key 'dirty-room' (first at rules[0].key)"),
        (
            changed(lambda d: d["rules"][0]["notify"].update(to=["everyone"])),
            "rules[0].notify.to[0]: 'everyone' is not a recipient: use unit_leads, unit_also_alerts, unit_members, "
            "agent, {person: ID} or {level: N}",
        ),
        (
            changed(lambda d: d["rules"][0]["notify"].update(to=[{"person": "nobody"}])),
            "rules[0].notify.to[0].person: unknown person 'nobody'",
        ),
        (
            changed(lambda d: d["rules"][0]["notify"].update(to=[{"level": 0}])),
            "rules[0].notify.to[0].level: 0 is not a level: use 1 for the parent unit, 2 above it, ...",
        ),
        (
            changed(lambda d: d["rules"][0]["notify"]["channels"].update(high=["email", "pager"])),
            "rules[0].notify.channels.high[1]: 'pager' is not one of 'email', 'sms', 'chat', 'webhook'",
        ),
        (
            changed(lambda d: d["rules"][0]["notify"].update(mode="later")),
            "rules[0].notify.mode: 'later' is not one of 'immediate', 'digest'",
        ),
    ],
)
def test_rules(text: str, problem: str) -> None:
    assert problems_of(text) == [problem]


def edit_template(**fields: Any) -> str:
    return changed(lambda d: d["case_templates"][0].update(fields))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (edit_template(statuses=["Open"]), "case_templates[0].statuses: needs at least 2 entries"),
        (edit_template(statuses=["Open", "Open"]), "case_templates[0].statuses: statuses lists a status twice"),
        (edit_template(escalation="panic"), "case_templates[0].escalation: unknown escalation policy 'panic'"),
        (edit_template(calendar="nights"), "case_templates[0].calendar: unknown calendar 'nights'"),
        (
            edit_template(sla={"Gold": {"severity": "urgent", "closure_goal": "tomorrow"}}),
            "case_templates[0].sla.Gold.closure_goal: 'tomorrow' is not a duration like 30m, 24h, 3d or 2w",
        ),
        (
            edit_template(team={"managers": [{"person": "carol"}]}),
            "case_templates[0].team.managers[0].person: unknown person 'carol'",
        ),
        (
            edit_template(notify_on=["opened", "sneezed"]),
            "case_templates[0].notify_on[1]: 'sneezed' is not one of 'opened', 'viewed', 'note', 'status', 'assigned', "
            "'escalated', 'notified', 'closed', 'reopened', 'moved'",
        ),
        (
            changed(lambda d: d["case_templates"].append(dict(d["case_templates"][0]))),
            "case_templates[1].key: duplicate case template key 'guest-case' (first at case_templates[0].key)",
        ),
    ],
)
def test_case_templates(text: str, problem: str) -> None:
    assert problems_of(text) == [problem]


@pytest.mark.django_db
def test_an_sla_without_default_is_allowed() -> None:
    text = edit_template(sla={"Gold": {"severity": "urgent", "closure_goal": "24h"}})
    assert not apply_config(text).is_empty


def edit_step(index: int, **fields: Any) -> str:
    return changed(lambda d: d["escalation_policies"][0]["steps"][index].update(fields))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (edit_step(0, after=None), "escalation_policies[0].steps[0].after: not_viewed needs after, e.g. after: 24h"),
        (
            edit_step(1, after="1h"),
            "escalation_policies[0].steps[1].after: after does not apply to overdue: that step fires "
            "as soon as it happens",
        ),
        (
            edit_step(0, when="ignored"),
            "escalation_policies[0].steps[0].when: 'ignored' is not one of 'not_viewed', 'not_contacted', 'overdue', "
            "'closed_unresolved'",
        ),
        (
            edit_step(0, notify=[{"level": "up"}]),
            "escalation_policies[0].steps[0].notify[0].level: 'up' is not a level: use 1 for the "
            "parent unit, 2 above it, ...",
        ),
        (edit_step(0, notify=[]), "escalation_policies[0].steps[0].notify: needs at least 1 entry"),
    ],
)
def test_escalation_policies(text: str, problem: str) -> None:
    assert problems_of(text) == [problem]


def edit_digest(**fields: Any) -> str:
    return changed(lambda d: d["digests"][0].update(fields))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (edit_digest(at="9am"), "digests[0].at: '9am' is not a time like \"09:00\" (HH:MM, in quotes)"),
        (edit_digest(at="24:00"), "digests[0].at: '24:00' is not a time like \"09:00\" (HH:MM, in quotes)"),
        (edit_digest(at=510), "digests[0].at: 510 is not text (put it in quotes)"),
        (edit_digest(window="1 day"), "digests[0].window: '1 day' is not a duration like 30m, 24h, 3d or 2w"),
        (edit_digest(units=["GALWAY", "DERRY"]), "digests[0].units[1]: unknown unit 'DERRY'"),
        (edit_digest(to=["agent"]), "digests[0].to[0]: agent does not apply here: a digest covers many responses"),
        (edit_digest(when_empty="maybe"), "digests[0].when_empty: 'maybe' is not one of 'skip', 'send'"),
    ],
)
def test_digests(text: str, problem: str) -> None:
    assert problems_of(text) == [problem]


def with_summary(**fields: Any) -> str:
    summary = {"key": "weekly", "units": ["GALWAY"], "at": "08:00", **fields}
    return changed(lambda d: d.update(summaries=[summary]))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (with_summary(day="funday"), "summaries[0].day: 'funday' is not one of 'monday', "),
        (with_summary(at="8am"), "summaries[0].at: '8am' is not a time like \"09:00\" (HH:MM, in quotes)"),
        (with_summary(at=None), "summaries[0].at: None is not text"),
        (with_summary(units=["GALWAY", "DERRY"]), "summaries[0].units[1]: unknown unit 'DERRY'"),
        (with_summary(units=[]), "summaries[0].units: needs at least 1 entry"),
        (with_summary(to=["unit_leads", {"person": "carol"}]), "summaries[0].to[1].person: unknown person 'carol'"),
        (with_summary(to=["agent"]), "summaries[0].to[0]: agent does not apply here: a summary covers many responses"),
        (with_summary(themes=-1), "summaries[0].themes: Input should be greater than or equal to 0"),
        (with_summary(themes="five"), "summaries[0].themes: 'five' is not a number"),
        (with_summary(window="7d"), "summaries[0].window: unknown key"),
    ],
)
def test_summaries(text: str, problem: str) -> None:
    [found] = problems_of(text)
    assert found.startswith(problem), found


def test_a_summary_key_given_twice_is_named() -> None:
    summary = {"key": "weekly", "units": ["GALWAY"], "at": "08:00"}
    text = changed(lambda d: d.update(summaries=[summary, {**summary, "day": "fri"}]))
    assert problems_of(text) == ["summaries[1].key: duplicate summary key 'weekly' (first at summaries[0].key)"]


def test_a_summary_needs_only_its_key_units_and_time() -> None:
    config = load_config(with_summary())
    [summary] = config.summaries
    assert (summary.day, summary.weekday, summary.to, summary.themes) == ("monday", 0, ["unit_leads"], 5)
    assert load_config(with_summary(day="sun")).summaries[0].weekday == 6


@pytest.mark.parametrize(
    ("follow_up", "problem"),
    [
        ({"after_close": "2d", "survey": "exit-poll"}, "follow_up.survey: unknown survey 'exit-poll'"),
        ({"after_close": "2d", "survey": "stay"}, "follow_up.survey: survey 'stay' has no yes_no question 'resolved'"),
        (
            {"after_close": "later", "survey": "recovery-check"},
            "follow_up.after_close: 'later' is not a duration like 30m, 24h, 3d or 2w",
        ),
    ],
)
def test_follow_up(follow_up: dict[str, Any], problem: str) -> None:
    assert problems_of(changed(lambda d: d.update(follow_up=follow_up))) == [problem]


SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.mark.parametrize(
    ("hook", "problem"),
    [
        (
            {"key": "crm", "url": "https://crm.example/hooks", "secret": "hunter2"},
            "webhooks[0].secret: must be whsec_ followed by at least 16 bytes in base64, as Standard Webhooks defines",
        ),
        (
            {"key": "crm", "url": "ftp://crm.example", "secret": SECRET},
            "webhooks[0].url: 'ftp://crm.example' is not an http:// or https:// URL",
        ),
        (
            {"key": "crm", "url": "https://crm.example", "secret": SECRET, "kinds": ["rant"]},
            "webhooks[0].kinds[0]: 'rant' is not one of 'recovery', 'praise', 'watch'",
        ),
        (
            {"key": "crm", "url": "https://crm.example", "secret": SECRET, "units": ["NOWHERE"]},
            "webhooks[0].units[0]: unknown unit 'NOWHERE'",
        ),
    ],
)
def test_webhooks(hook: dict[str, Any], problem: str) -> None:
    assert problems_of(changed(lambda d: d.update(webhooks=[hook]))) == [problem]


def test_every_problem_is_listed_at_once_in_file_order() -> None:
    def break_many(data: dict[str, Any]) -> None:
        data["organization"]["time_zone"] = "Nowhere"
        data["people"][1]["roles"][0]["unit"] = "NOWHERE"
        data["surveys"][0]["questions"][0]["max"] = 0
        data["rules"].append(rule(survey="nope"))
        data["case_templates"][0]["statuses"] = ["Open"]
        data["digests"][0]["at"] = "noon"

    assert problems_of(changed(break_many)) == [
        "organization.time_zone: unknown time zone 'Nowhere' (use an IANA name such as Europe/London)",
        "people[1].roles[0].unit: unknown unit 'NOWHERE'",
        "surveys[0].questions[0].min: min (1) must be below max (0)",
        "rules[2].survey: unknown survey 'nope'",
        "case_templates[0].statuses: needs at least 2 entries",
        "digests[0].at: 'noon' is not a time like \"09:00\" (HH:MM, in quotes)",
    ]


def test_a_rule_on_a_survey_with_a_broken_question_is_not_blamed_for_it() -> None:
    def change(data: dict[str, Any]) -> None:
        data["surveys"][0]["questions"][2]["type"] = "boolean"

    assert problems_of(changed(change)) == [
        "surveys[0].questions[2].type: 'boolean' is not one of 'scale', 'nps', 'yes_no', 'choice', "
        "'multi_choice', 'text'"
    ]


def test_example_data_is_untouched_between_tests() -> None:
    assert example()["people"][0]["id"] == "gm-galway"


@pytest.mark.django_db
def test_empty_optional_contact_details_are_allowed() -> None:
    text = changed(lambda d: d["people"][1].update(email="", phone=""))
    assert apply_config(text).count("added") == 19
