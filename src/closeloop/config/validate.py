"""Read a configuration file and check it completely: every problem, not just the first.

Each entry is checked on its own (so one bad entry does not hide the others), then the
references between entries are checked. Problems read `path.to.key: message`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from closeloop.config.schema import (
    ID_FIELDS,
    SECTIONS,
    UNION_TAGS,
    CaseTemplateSpec,
    DigestSpec,
    EscalationPolicySpec,
    FollowUpSpec,
    OrganizationSpec,
    PersonSpec,
    QuestionSpec,
    RuleSpec,
    SummarySpec,
    SurveySpec,
    TextModelSpec,
    UnitSpec,
    WebhookSpec,
)
from closeloop.connectors import SourceInvalid, SourceSpec, Survey, load_source
from closeloop.core.answers import QuestionSpec as AnswerSpec
from closeloop.core.conditions import condition_problems
from closeloop.core.vocabulary import NUMERIC_QUESTION_TYPES, QUESTION_TYPES
from closeloop.textmodel import Examples, example_problems, parse_examples

# A question whose type is broken could be any type: its other checks are reported on their own.
ANY_QUESTION_TYPE = frozenset(QUESTION_TYPES)
UNIT_SELECTORS = ("unit_leads", "unit_also_alerts", "unit_members", "agent")
SELECTOR_HELP = "use unit_leads, unit_also_alerts, unit_members, agent, {person: ID} or {level: N}"

Spec = TypeVar("Spec", bound=BaseModel)


class ConfigInvalid(Exception):
    """The file has problems; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the configuration")
        self.problems = problems


@dataclass(frozen=True)
class UnitPlace:
    """A unit with its place in the tree, flattened parent-first."""

    spec: UnitSpec
    parent: str | None
    path: str
    depth: int
    position: int


@dataclass(frozen=True)
class SurveyEntry:
    spec: SurveySpec
    questions: list[QuestionSpec]
    # Question key -> type, including questions that failed their own check: those get every
    # type they might have, so a rule using them is not blamed for the question's mistake.
    questions_by_key: dict[str, str | frozenset[str]]


@dataclass(frozen=True)
class ConfiguredSource:
    """A `sources:` entry that passed its checks, and the entry as written (kept to be exported as it was)."""

    spec: SourceSpec
    raw: dict[str, Any]


@dataclass(frozen=True)
class Config:
    """A configuration file that passed every check."""

    organization: OrganizationSpec
    units: list[UnitPlace]
    segments: list[str]
    people: list[PersonSpec]
    surveys: list[SurveyEntry]
    rules: list[RuleSpec]
    case_templates: list[CaseTemplateSpec]
    escalation_policies: list[EscalationPolicySpec]
    digests: list[DigestSpec]
    follow_up: FollowUpSpec | None
    webhooks: list[WebhookSpec]
    sources: list[ConfiguredSource] = field(default_factory=list)
    # `text_model.examples`: none unless the file gives some.
    text_examples: Examples = field(default_factory=Examples)
    summaries: list[SummarySpec] = field(default_factory=list)


def load_config(text: str) -> Config:
    """Parse and check the YAML text; raises ConfigInvalid listing every problem."""
    return _Reader().read(text)


# libyaml's parser is ten times faster on files with thousands of people; same results.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """A safe loader that refuses a key given twice in one mapping (YAML would keep the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice in this mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str) -> object:
    """The YAML document; a syntax error becomes a problem naming its line."""
    try:
        # A SafeLoader subclass: no arbitrary objects are built from the file.
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "file"
        raise ConfigInvalid([f"{where}: {problem}"]) from None


def join(base: str, loc: Iterable[object]) -> str:
    """A pydantic location as a path: people[0].roles[1].unit."""
    path = base
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    quote_hint = " (put it in quotes)" if isinstance(value, (int, float, bool)) else ""
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "is required"
    if kind == "string_type":
        return f"{value!r} is not text{quote_hint}"
    if kind == "literal_error":
        return f"{value!r} is not one of {ctx.get('expected', '')}".replace("' or '", "', '")
    if kind in ("bool_type", "bool_parsing"):
        return f"{value!r} is not true or false"
    if kind.startswith(("float_", "int_")):
        return f"{value!r} is not a number"
    if kind == "list_type":
        return f"must be a list, not {value!r}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping (key: value), not {value!r}"
    if kind == "too_short":
        minimum = ctx.get("min_length", 1)
        if isinstance(value, str):
            return "must not be empty"
        return f"needs at least {minimum} entr{'y' if minimum == 1 else 'ies'}"
    if kind == "too_long":
        return f"is too long (at most {ctx.get('max_length')})"
    return str(error["msg"])


class _Reader:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def entry(self, model: type[Spec], raw: object, path: str) -> Spec | None:
        """One entry checked on its own; its problems are recorded and None returned."""
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                loc = [part for part in error["loc"] if part != "[key]" and part not in UNION_TAGS]
                at_field = (error.get("ctx") or {}).get("at_field")
                if at_field:
                    loc.append(at_field)
                self.add(join(path, loc) or "(file)", _message(error))
            return None

    def section_list(self, raw: Mapping[str, Any], section: str) -> list[Any]:
        value = raw.get(section)
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(section, f"must be a list, not {value!r}")
            return []
        return value

    def entries(self, model: type[Spec], raw: Mapping[str, Any], section: str) -> list[tuple[int, Spec]]:
        """Every valid entry of a list section with its index; duplicates of the id are problems."""
        found: list[tuple[int, Spec]] = []
        for index, item in enumerate(self.section_list(raw, section)):
            spec = self.entry(model, item, f"{section}[{index}]")
            if spec is not None:
                found.append((index, spec))
        self.duplicates(section, self.section_list_ids(raw, section))
        return found

    def section_list_ids(self, raw: Mapping[str, Any], section: str) -> list[tuple[str, object]]:
        field = ID_FIELDS[section]
        listed = raw.get(section)
        items = listed if isinstance(listed, list) else []
        return [(f"{section}[{i}].{field}", item.get(field)) for i, item in enumerate(items) if isinstance(item, dict)]

    def duplicates(self, what: str, ids: list[tuple[str, object]]) -> None:
        first: dict[object, str] = {}
        for path, value in ids:
            if not isinstance(value, str):
                continue
            if value in first:
                self.add(path, f"duplicate {_singular(what)} {value!r} (first at {first[value]})")
            else:
                first[value] = path

    def read(self, text: str) -> Config:
        document = parse_yaml(text)
        if document is None:
            raise ConfigInvalid(["(file): is empty; it needs at least an organization section"])
        if not isinstance(document, dict):
            raise ConfigInvalid([f"(file): must be a mapping of sections ({', '.join(SECTIONS)})"])
        for key in document:
            if key not in SECTIONS:
                self.add(str(key), f"unknown section; sections are {', '.join(SECTIONS)}")
        config = self.check(document)
        if self.problems or config is None:
            # References are checked after all entries are read; list problems in the file's section order.
            raise ConfigInvalid(sorted(self.problems, key=_section_order))
        return config

    def check(self, raw: dict[str, Any]) -> Config | None:
        organization = None
        if "organization" not in raw:
            self.add("organization", "is required")
        else:
            organization = self.entry(OrganizationSpec, raw["organization"], "organization")
        calendars = _raw_calendar_names(raw.get("organization"))
        units = self.units(raw, calendars)
        unit_codes = {place.spec.code for place in units} | _raw_unit_codes(raw.get("units"))
        segments = self.segments(raw.get("segments"))

        people = self.entries(PersonSpec, raw, "people")
        people_ids = {p.id for _, p in people} | _raw_ids(raw, "people")
        for index, person in people:
            seen_roles: set[tuple[str, str]] = set()
            for r, role in enumerate(person.roles):
                path = f"people[{index}].roles[{r}]"
                if role.unit not in unit_codes:
                    self.add(f"{path}.unit", f"unknown unit {role.unit!r}")
                if (role.unit, role.role) in seen_roles:
                    self.add(path, f"duplicate role {role.role} of {role.unit}")
                seen_roles.add((role.unit, role.role))

        surveys = self.surveys(raw)
        survey_questions: dict[str, dict[str, str | frozenset[str]]] = {}
        for survey in surveys:
            # The first of two surveys with one key is the real one; the second is a reported duplicate.
            survey_questions.setdefault(survey.spec.key, survey.questions_by_key)
        survey_keys = set(survey_questions) | _raw_ids(raw, "surveys")
        templates = self.entries(CaseTemplateSpec, raw, "case_templates")
        template_keys = {t.key for _, t in templates} | _raw_ids(raw, "case_templates")
        policies = self.entries(EscalationPolicySpec, raw, "escalation_policies")
        policy_keys = {p.key for _, p in policies} | _raw_ids(raw, "escalation_policies")

        rules = self.entries(RuleSpec, raw, "rules")
        union: dict[str, set[str]] = {}
        for survey_types in survey_questions.values():
            for key, kinds in survey_types.items():
                union.setdefault(key, set()).update({kinds} if isinstance(kinds, str) else kinds)
        for index, rule in rules:
            path = f"rules[{index}]"
            questions: Mapping[str, Any] | None = union
            if rule.survey is not None:
                if rule.survey not in survey_keys:
                    self.add(f"{path}.survey", f"unknown survey {rule.survey!r}")
                # A survey that failed its own checks has unknown questions: check the shape only.
                questions = survey_questions.get(rule.survey)
            for where, message in condition_problems(
                rule.when, questions, units=unit_codes, segments=set(segments) if segments else None
            ):
                self.add(f"{path}.when" if where == "when" else f"{path}.when.{where}", message)
            self.selectors(rule.notify.to, f"{path}.notify.to", people_ids)
            if rule.open_case is not None and rule.open_case not in template_keys:
                self.add(f"{path}.open_case", f"unknown case template {rule.open_case!r}")

        for index, template in templates:
            path = f"case_templates[{index}]"
            self.selectors(template.team.managers, f"{path}.team.managers", people_ids)
            self.selectors(template.team.members, f"{path}.team.members", people_ids)
            if template.calendar is not None and template.calendar not in calendars:
                self.add(f"{path}.calendar", f"unknown calendar {template.calendar!r}")
            if template.escalation is not None and template.escalation not in policy_keys:
                self.add(f"{path}.escalation", f"unknown escalation policy {template.escalation!r}")
        for index, policy in policies:
            for s, step in enumerate(policy.steps):
                self.selectors(step.notify, f"escalation_policies[{index}].steps[{s}].notify", people_ids)

        digests = self.entries(DigestSpec, raw, "digests")
        for index, digest in digests:
            self.unit_list(digest.units, f"digests[{index}].units", unit_codes)
            self.selectors(digest.to, f"digests[{index}].to", people_ids, allow_agent=False)
        summaries = self.entries(SummarySpec, raw, "summaries")
        for index, summary in summaries:
            self.unit_list(summary.units, f"summaries[{index}].units", unit_codes)
            self.selectors(
                summary.to,
                f"summaries[{index}].to",
                people_ids,
                allow_agent=False,
                what="a summary covers many responses",
            )
        follow_up = self.follow_up(raw, survey_questions, survey_keys)
        webhooks = self.entries(WebhookSpec, raw, "webhooks")
        for index, hook in webhooks:
            self.unit_list(hook.units, f"webhooks[{index}].units", unit_codes)
        sources = self.sources(raw, surveys, survey_keys)
        text_examples = self.text_model(raw.get("text_model"))

        if self.problems or organization is None:
            return None
        return Config(
            organization=organization,
            units=units,
            segments=segments,
            people=[p for _, p in people],
            surveys=surveys,
            rules=[r for _, r in rules],
            case_templates=[t for _, t in templates],
            escalation_policies=[p for _, p in policies],
            digests=[d for _, d in digests],
            follow_up=follow_up,
            webhooks=[w for _, w in webhooks],
            sources=sources,
            text_examples=text_examples,
            summaries=[s for _, s in summaries],
        )

    def text_model(self, raw: object) -> Examples:
        if raw is None:
            return Examples()
        spec = self.entry(TextModelSpec, raw, "text_model")
        if spec is None:
            return Examples()
        problems = example_problems(spec.examples, "text_model.examples")
        for where, message in problems:
            self.add(where, message)
        return Examples() if problems else parse_examples(spec.examples)

    def units(self, raw: Mapping[str, Any], calendars: set[str]) -> list[UnitPlace]:
        places: list[UnitPlace] = []
        seen: dict[str, str] = {}

        def walk(items: object, path: str, parent: UnitPlace | None, ancestors: tuple[str, ...]) -> None:
            if not isinstance(items, list):
                # A unit's bad `children` is reported by its own check; only the section is left.
                if items is not None and parent is None and not ancestors:
                    self.add(path, f"must be a list of units, not {items!r}")
                return
            for position, item in enumerate(items):
                here = f"{path}[{position}]"
                spec = self.entry(UnitSpec, item, here)
                code = item.get("code") if isinstance(item, dict) else None
                if isinstance(code, str):
                    if code in ancestors:
                        self.add(f"{here}.code", f"{code!r} appears inside itself: the tree would be a cycle")
                    elif code in seen:
                        self.add(f"{here}.code", f"duplicate unit code {code!r} (first at {seen[code]})")
                    else:
                        seen[code] = f"{here}.code"
                place = None
                if spec is not None:
                    if spec.calendar is not None and spec.calendar not in calendars:
                        self.add(f"{here}.calendar", f"unknown calendar {spec.calendar!r}")
                    place = UnitPlace(
                        spec=spec,
                        parent=parent.spec.code if parent else None,
                        path=f"{parent.path if parent else '/'}{spec.code}/",
                        depth=parent.depth + 1 if parent else 0,
                        position=position,
                    )
                    places.append(place)
                if isinstance(item, dict):
                    child_ancestors = (*ancestors, code) if isinstance(code, str) else ancestors
                    # Children of an invalid unit are still checked, but cannot be placed.
                    walk(item.get("children"), f"{here}.children", place, child_ancestors)

        walk(raw.get("units"), "units", None, ())
        return places

    def segments(self, raw: object) -> list[str]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.add("segments", f"must be a list of segment codes, not {raw!r}")
            return []
        codes: list[str] = []
        for index, code in enumerate(raw):
            if not isinstance(code, str) or not code.strip():
                self.add(f"segments[{index}]", f"{code!r} is not a segment code")
            elif code in codes:
                self.add(f"segments[{index}]", f"duplicate segment {code!r}")
            else:
                codes.append(code)
        return codes

    def surveys(self, raw: Mapping[str, Any]) -> list[SurveyEntry]:
        found: list[SurveyEntry] = []
        for index, spec in self.entries(SurveySpec, raw, "surveys"):
            path = f"surveys[{index}]"
            questions = [
                q
                for q_index, item in enumerate(spec.questions)
                if (q := self.entry(QuestionSpec, item, f"{path}.questions[{q_index}]")) is not None
            ]
            ids = [
                (f"{path}.questions[{i}].key", q.get("key"))
                for i, q in enumerate(spec.questions)
                if isinstance(q, dict)
            ]
            self.duplicates("question keys", ids)
            if spec.overall is not None:
                types = {q.key: q.type for q in questions}
                raw_keys = {key for _, key in ids}
                if spec.overall not in raw_keys:
                    self.add(f"{path}.overall", f"unknown question {spec.overall!r}")
                elif types.get(spec.overall, "scale") not in NUMERIC_QUESTION_TYPES:
                    self.add(
                        f"{path}.overall",
                        f"{spec.overall!r} is a {types[spec.overall]} question; the overall score needs scale or nps",
                    )
            if spec.recovery_threshold is not None:
                self.survey_threshold(spec, questions, path)
            by_key: dict[str, str | frozenset[str]] = {}
            for item in spec.questions:
                if isinstance(item, dict) and isinstance(item.get("key"), str):
                    kind = item.get("type")
                    by_key.setdefault(item["key"], kind if kind in QUESTION_TYPES else ANY_QUESTION_TYPE)
            found.append(SurveyEntry(spec=spec, questions=questions, questions_by_key=by_key))
        return found

    def sources(
        self, raw: Mapping[str, Any], surveys: list[SurveyEntry], survey_keys: set[str]
    ) -> list[ConfiguredSource]:
        """Each source on its own (the connectors' checks), then against its survey: the survey exists and the
        map names its questions and fits their types. A `secret_file` is not read here: the server that
        receives reads it on every request (a missing one answers 503), and may see other files than this."""
        by_key: dict[str, SurveyEntry] = {}
        for entry in surveys:
            by_key.setdefault(entry.spec.key, entry)
        found: list[ConfiguredSource] = []
        for index, item in enumerate(self.section_list(raw, "sources")):
            path = f"sources[{index}]"
            if not isinstance(item, dict):
                self.add(path, f"must be a mapping (key: value), not {item!r}")
                continue
            try:
                spec = load_source(item, check_files=False)
            except SourceInvalid as exc:
                for problem in exc.problems:
                    where, _, message = problem.partition(": ")
                    self.add(path if where == "(entry)" else f"{path}.{where}", message)
                continue
            survey = by_key.get(spec.survey)
            if survey is None:
                if spec.survey not in survey_keys:
                    self.add(f"{path}.survey", f"unknown survey {spec.survey!r}")
            elif len(survey.questions) == len(survey.spec.questions):
                # (A survey with a broken question is reported there; its map is checked once it is fixed.)
                for problem in spec.survey_problems(_connector_survey(survey)):
                    self.add(f"{path}.{problem.partition(': ')[0]}", problem.partition(": ")[2])
            found.append(ConfiguredSource(spec=spec, raw=dict(item)))
        self.duplicates("sources", self.section_list_ids(raw, "sources"))
        return found

    def survey_threshold(self, spec: SurveySpec, questions: list[QuestionSpec], path: str) -> None:
        """A survey's own threshold is a score of its overall question, so it must lie on that scale."""
        threshold = spec.recovery_threshold
        if spec.overall is None:
            self.add(f"{path}.recovery_threshold", "needs an overall question: the threshold is an overall score")
            return
        overall = next((q for q in questions if q.key == spec.overall), None)
        if overall is None or overall.type not in NUMERIC_QUESTION_TYPES:
            return  # the overall question's own problem is reported above
        low, high = (0.0, 10.0) if overall.type == "nps" else (overall.min, overall.max)
        if low is None or high is None or threshold is None:
            return
        if not low <= threshold <= high:
            self.add(
                f"{path}.recovery_threshold",
                f"{threshold:g} is outside the survey's scale {low:g}..{high:g} (question {overall.key!r})",
            )

    def follow_up(
        self,
        raw: Mapping[str, Any],
        survey_questions: Mapping[str, Mapping[str, str | frozenset[str]]],
        survey_keys: set[str],
    ) -> FollowUpSpec | None:
        if raw.get("follow_up") is None:
            return None
        spec = self.entry(FollowUpSpec, raw["follow_up"], "follow_up")
        if spec is None:
            return None
        if spec.survey not in survey_keys:
            self.add("follow_up.survey", f"unknown survey {spec.survey!r}")
        elif spec.survey in survey_questions and survey_questions[spec.survey].get("resolved") not in (
            "yes_no",
            ANY_QUESTION_TYPE,  # a `resolved` question with a broken type is reported on its own
        ):
            self.add("follow_up.survey", f"survey {spec.survey!r} has no yes_no question 'resolved'")
        return spec

    def unit_list(self, codes: list[str], path: str, known: set[str]) -> None:
        for index, code in enumerate(codes):
            if code not in known:
                self.add(f"{path}[{index}]", f"unknown unit {code!r}")

    def selectors(
        self,
        values: object,
        path: str,
        people: set[str],
        *,
        allow_agent: bool = True,
        what: str = "a digest covers many responses",
    ) -> None:
        if not isinstance(values, list):
            self.add(path, f"must be a list of recipients ({SELECTOR_HELP})")
            return
        for index, value in enumerate(values):
            here = f"{path}[{index}]"
            if isinstance(value, str):
                if value not in UNIT_SELECTORS:
                    self.add(here, f"{value!r} is not a recipient: {SELECTOR_HELP}")
                elif value == "agent" and not allow_agent:
                    self.add(here, f"agent does not apply here: {what}")
            elif isinstance(value, dict) and len(value) == 1 and "person" in value:
                if value["person"] not in people:
                    self.add(f"{here}.person", f"unknown person {value['person']!r}")
            elif isinstance(value, dict) and len(value) == 1 and "level" in value:
                level = value["level"]
                if isinstance(level, bool) or not isinstance(level, int) or level < 1:
                    self.add(f"{here}.level", f"{level!r} is not a level: use 1 for the parent unit, 2 above it, ...")
            else:
                self.add(here, f"{value!r} is not a recipient: {SELECTOR_HELP}")


_SINGULAR = {
    "units": "unit code",
    "people": "person id",
    "surveys": "survey key",
    "rules": "rule key",
    "case_templates": "case template key",
    "escalation_policies": "escalation policy key",
    "digests": "digest key",
    "summaries": "summary key",
    "webhooks": "webhook key",
    "sources": "source key",
    "question keys": "question key",
}


def _connector_survey(entry: SurveyEntry) -> Survey:
    questions = {
        q.key: AnswerSpec(key=q.key, type=q.type, min=q.min, max=q.max, options=tuple(q.options), label=q.label)
        for q in entry.questions
    }
    return Survey(entry.spec.key, questions, overall=entry.spec.overall or "")


def _section_order(problem: str) -> int:
    section = re.split(r"[.\[:]", problem, maxsplit=1)[0]
    return SECTIONS.index(section) if section in SECTIONS else -1


def _singular(what: str) -> str:
    return _SINGULAR.get(what, what)


def _raw_ids(raw: Mapping[str, Any], section: str) -> set[str]:
    """Ids of entries, valid or not, so a reference to a broken entry is not also reported as unknown."""
    items = raw.get(section)
    field = ID_FIELDS[section]
    if not isinstance(items, list):
        return set()
    return {item[field] for item in items if isinstance(item, dict) and isinstance(item.get(field), str)}


def _raw_unit_codes(items: object) -> set[str]:
    codes: set[str] = set()
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict):
                if isinstance(item.get("code"), str):
                    codes.add(item["code"])
                codes |= _raw_unit_codes(item.get("children"))
    return codes


def _raw_calendar_names(organization: object) -> set[str]:
    if isinstance(organization, dict) and isinstance(organization.get("calendars"), dict):
        return {str(name) for name in organization["calendars"]}
    return set()
