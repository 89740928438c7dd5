"""Evaluate stored responses against the rules and raise alerts, in the ingest transaction.

The decisions are made by the pure core (closeloop.core.rules); this module gathers the facts and
writes the Alert rows. Planning their deliveries and opening cases is the caller's next step
(closeloop.actions.ingest), in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef

from closeloop.alerts.models import Alert, Rule
from closeloop.alerts.text_judging import BatchJudgements, organization_judge, voices_of
from closeloop.core.detection import latest_earlier_failure
from closeloop.core.rules import Match, ResponseFacts, RuleSpec, TextJudge, detect, raise_severity
from closeloop.feedback.catalog import Catalog
from closeloop.feedback.models import Response, Survey
from closeloop.org.directory import unit_path
from closeloop.org.models import Organization


def rule_spec(rule: Rule) -> RuleSpec:
    return RuleSpec(
        key=rule.key,
        kind=rule.kind,
        survey=rule.survey.key if rule.survey is not None else None,
        when=rule.when,
        category=rule.category,
        severity=rule.severity,
        notify=rule.notify or {},
        open_case=rule.open_case or None,
    )


def response_facts(
    response: Response,
    question_types: Mapping[str, str],
    language: str = "en",
    judge_text: TextJudge | None = None,
) -> ResponseFacts:
    answers = response.answers or {}
    texts = [v for k, v in answers.items() if question_types.get(k) == "text" and isinstance(v, str) and v.strip()]
    if response.interviewer_notes.strip():
        texts.append(response.interviewer_notes)
    nps = next(
        (answers.get(k) for k, t in question_types.items() if t == "nps" and isinstance(answers.get(k), int | float)),
        None,
    )
    customer = response.customer
    return ResponseFacts(
        answers=answers,
        question_types=question_types,
        overall=response.overall,
        nps=int(nps) if nps is not None and not isinstance(nps, bool) else None,
        free_texts=tuple(texts),
        interviewer_flag=response.interviewer_flag,
        tier=customer.tier if customer else "",
        segment=response.segment,
        unit_path=unit_path(response.unit),
        language=language,
        judge_text=judge_text,
    )


def _recent_recovery(
    responses: Sequence[Response], window: timedelta, exclude: set[int]
) -> dict[int, list[tuple[datetime, int]]]:
    """(Submission time, response id) of earlier recovery alerts per customer, within reach of this batch."""
    customer_ids = {r.customer_id for r in responses if r.customer_id}
    if not customer_ids:
        return {}
    earliest = min(r.submitted_at for r in responses) - window
    found: dict[int, list[tuple[datetime, int]]] = {}
    # From the responses' side, with the alert as a correlated EXISTS: the only way in is then the index on
    # (customer, submitted_at), and each candidate is checked on the alert index (response, kind). Written as a
    # join, SQLite without fresh statistics walks every recovery alert instead (the kind index), and sorting
    # by Alert's default ordering made that the cheaper-looking plan even with them.
    recovery = Alert.objects.filter(response=OuterRef("pk"), kind="recovery")
    rows = (
        Response.objects.filter(customer_id__in=customer_ids, submitted_at__gte=earliest)
        .filter(Exists(recovery))
        .exclude(pk__in=exclude)
        .order_by()
        .values_list("customer_id", "submitted_at", "id")
    )
    for customer_id, submitted_at, response_id in rows:
        found.setdefault(customer_id, []).append((submitted_at, response_id))
    return found


@dataclass(frozen=True)
class Detection:
    """What evaluating a batch raised: the new alerts, each with its rule's notify section, and the
    responses that turned out to need recovery."""

    alerts: list[Alert]
    notify: list[Mapping[str, Any]]  # in step with `alerts`
    needing_recovery: list[Response]
    # What the text model heard in the responses a `text` condition asked about (Response.text_judgement).
    text_judgements: dict[int, dict[str, Any]] = field(default_factory=dict)

    def planned(self) -> list[tuple[Alert, Mapping[str, Any]]]:
        return list(zip(self.alerts, self.notify, strict=True))


def raise_alerts_for_new(
    responses: Sequence[Response],
    *,
    catalog: Catalog,
    rules: Sequence[Rule],
    superseded: Mapping[int, Response],
    now: datetime,
    judge_outside: bool = False,
) -> Detection:
    """Raise the alerts of responses inserted by this very transaction: none can have alerts yet.

    `superseded` maps a new response's id to the earlier response of the same ticket it replaced:
    that earlier alert is the same problem, not a repeat failure. `judge_outside`: words a `text`
    condition needs judged raise `JudgeFirst` instead of being judged here (alerts.text_judging).
    """
    return _raise(
        responses,
        catalog=catalog,
        rules=rules,
        superseded=superseded,
        now=now,
        already=set(),
        judge_outside=judge_outside,
    )


def raise_alerts_for_existing(
    responses: Sequence[Response],
    *,
    catalog: Catalog,
    rules: Sequence[Rule],
    superseded: Mapping[int, Response],
    now: datetime,
    judge_outside: bool = False,
) -> Detection:
    """Raise the alerts that stored responses do not have yet (a quarantined response just fixed)."""
    already = set(Alert.objects.filter(response__in=[r.pk for r in responses]).values_list("response_id", "rule_key"))
    return _raise(
        responses,
        catalog=catalog,
        rules=rules,
        superseded=superseded,
        now=now,
        already=already,
        judge_outside=judge_outside,
    )


def recovery_threshold_of(survey: Survey, organization: Organization) -> float:
    """The survey's own recovery threshold, else the organisation's."""
    return survey.recovery_threshold if survey.recovery_threshold is not None else organization.recovery_threshold


def move_alerts_with_response(response: Response) -> int:
    """Alerts belong to the unit their response belongs to; returns how many moved."""
    return Alert.objects.filter(response=response).exclude(unit=response.unit).update(unit=response.unit)


def _raise(
    responses: Sequence[Response],
    *,
    catalog: Catalog,
    rules: Sequence[Rule],
    superseded: Mapping[int, Response],
    now: datetime,
    already: set[tuple[int, str]],
    judge_outside: bool = False,
) -> Detection:
    if not responses:
        return Detection([], [], [], {})
    org = catalog.organization
    rule_rows = {rule.key: rule for rule in rules}
    specs = [rule_spec(rule) for rule in rule_rows.values()]
    question_types = {
        info.survey.pk: {key: spec.type for key, spec in info.questions.items()} for info in catalog.surveys.values()
    }
    surveys = {info.survey.pk: info for info in catalog.surveys.values()}
    # Each survey's threshold in its own scale (a 5/5 on a 1-5 survey is no low score).
    thresholds = {pk: info.recovery_threshold(org.recovery_threshold) for pk, info in surveys.items()}
    exclude = {r.pk for r in responses} | {old.pk for old in superseded.values()}
    earlier = _recent_recovery(responses, org.repeat_window, exclude)

    ordered = sorted(responses, key=lambda r: (r.submitted_at, r.pk))
    texts = BatchJudgements(lambda: organization_judge(org), judge_outside=judge_outside)
    facts_of: dict[int, ResponseFacts] = {}
    matched: dict[int, list[Match]] = {}

    def evaluate(response: Response) -> list[Match]:
        threshold = thresholds.get(response.survey_id, org.recovery_threshold)
        return detect(
            specs, response.survey.key, facts_of[response.pk], threshold, threshold_unless=org.threshold_unless
        )

    for response in ordered:
        info = surveys.get(response.survey_id)
        language = info.survey.language if info is not None else response.survey.language
        types = question_types.get(response.survey_id, {})
        judge_text = texts.source(response.pk, voices_of(response, types))
        facts_of[response.pk] = response_facts(response, types, language, judge_text)
        matched[response.pk] = evaluate(response)
    # The responses whose rules reached a `text` condition are judged together, then evaluated again.
    by_pk = {response.pk: response for response in ordered}
    for pk in texts.judge_waiting():
        matched[pk] = evaluate(by_pk[pk])
    judgements = {r.pk: stored for r in ordered if (stored := texts.stored(r.pk)) is not None}

    new_alerts: list[Alert] = []
    notify_specs: list[Mapping[str, Any]] = []
    needing: list[Response] = []
    for response in ordered:
        matches = matched[response.pk]
        previous = earlier.get(response.customer_id or -1, [])
        repeat_of = latest_earlier_failure(response.submitted_at, previous, org.repeat_window)
        repeat = repeat_of is not None
        recovery = False
        for match in matches:
            if (response.pk, match.rule_key) in already:
                continue
            is_recovery = match.kind == "recovery"
            recovery |= is_recovery
            notify = match.rule.notify if match.rule else {}
            notify_specs.append(notify)
            new_alerts.append(
                Alert(
                    response=response,
                    rule_key=match.rule_key,
                    rule=rule_rows.get(match.rule_key),
                    kind=match.kind,
                    severity=raise_severity(match.severity) if is_recovery and repeat else match.severity,
                    category=match.category,
                    unit=response.unit,
                    repeat=is_recovery and repeat,
                    repeat_of_id=repeat_of if is_recovery else None,
                    mode=notify.get("mode", "immediate"),
                    created_at=now,
                )
            )
        if recovery and response.customer_id:
            earlier.setdefault(response.customer_id, []).append((response.submitted_at, response.pk))
        if recovery and not response.needs_recovery:
            needing.append(response)
    if new_alerts:
        Alert.objects.bulk_create(new_alerts)
    return Detection(new_alerts, notify_specs, needing, judgements)
