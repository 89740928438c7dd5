"""Every write to a case: opening, moving, viewing, notes, status, assignment. One `do_*` per write.

Each service runs in one transaction that changes the case, appends its timeline event and puts the
emails about it into the outbox, so none of the three can exist without the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet

from closeloop.alerts.messages import format_number
from closeloop.alerts.models import Alert
from closeloop.cases.escalation import escalate_case, refresh_next_escalation
from closeloop.cases.models import Case, CaseEvent
from closeloop.cases.notifications import notify_team, tell_team, tell_teams
from closeloop.cases.templates import TemplateSpec, case_calendar_key, due_at, load_template, root_causes_of
from closeloop.cases.webhooks import publish_case_event, publish_case_events
from closeloop.core.routing import OrgTree, resolve
from closeloop.core.rules import raise_severity
from closeloop.core.sla import choose_sla
from closeloop.feedback.models import Response
from closeloop.org.directory import directory
from closeloop.org.models import Person, Role, Unit


class CaseInputError(ValueError):
    """A request about a case that cannot be done as asked; names the field. Maps to HTTP 422."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class CasePermissionDenied(Exception):
    """The actor may not do this to the case (closing needs a case manager or an admin). Maps to HTTP 403."""


# --- opening -----------------------------------------------------------------------------------------


def open_cases_for_new(
    alerts_by_response: Mapping[int, Sequence[Alert]], *, superseded: Mapping[int, Response], now: datetime
) -> list[Case]:
    """Open the cases of responses inserted by this very transaction, or hand over the case of the response
    each one replaced (`superseded`: a new response's id -> the earlier response of the same ticket).

    Nothing can refer to a new response yet, which saves the look-ups `open_cases_for_existing` needs.
    """
    replaced: dict[int, Case] = {}
    for new_id, old in superseded.items():
        if new_id in alerts_by_response:
            case = Case.objects.select_related("response", "unit").filter(response=old).first()
            if case is not None:
                replaced[new_id] = case
    return _open_or_move(alerts_by_response, replaced, having=set(), fresh=True, now=now)


def open_cases_for_existing(
    alerts_by_response: Mapping[int, Sequence[Alert]], *, superseded: Mapping[int, Response], now: datetime
) -> list[Case]:
    """As `open_cases_for_new`, for stored responses just evaluated again (a quarantined response fixed):
    one may replace an earlier response with a case, or have a case already."""
    ids = list(alerts_by_response)
    # Responses replaced by these ones, also when the replacement was invalid at first and has just been fixed.
    replaced: dict[int, Case] = {}
    for case in Case.objects.select_related("response", "unit").filter(response__superseded_by_id__in=ids):
        if case.response.superseded_by_id is not None:
            replaced[case.response.superseded_by_id] = case
    for new_id, old in superseded.items():
        if new_id in alerts_by_response and new_id not in replaced:
            earlier = Case.objects.select_related("response", "unit").filter(response=old).first()
            if earlier is not None:
                replaced[new_id] = earlier
    having = set(Case.objects.filter(response_id__in=ids).values_list("response_id", flat=True))
    return _open_or_move(alerts_by_response, replaced, having=having, fresh=False, now=now)


def _open_or_move(
    alerts_by_response: Mapping[int, Sequence[Alert]],
    replaced: Mapping[int, Case],
    *,
    having: set[int],
    fresh: bool,
    now: datetime,
) -> list[Case]:
    recovery = {
        response_id: [a for a in alerts if a.kind == "recovery"]
        for response_id, alerts in alerts_by_response.items()
        if response_id not in replaced and any(a.kind == "recovery" for a in alerts)
    }
    if not (replaced or recovery):
        return []  # the common case of a batch without unhappy customers costs one query
    moving = (
        {r.pk: r for r in Response.objects.select_related("unit", "agent").filter(pk__in=list(replaced))}
        if replaced
        else {}
    )
    tree = directory().tree
    touched = []
    openings: list[tuple[Response, Sequence[Alert]]] = []
    for response_id in alerts_by_response:
        if response_id in having:
            continue
        if response_id in moving:
            touched.append(_move_to_response(replaced[response_id], moving[response_id], now=now, tree=tree))
        elif response_id in recovery:
            # The alerts carry the response detection just evaluated, with its unit and customer loaded.
            response = recovery[response_id][0].response
            if response.unit_id is not None:
                openings.append((response, recovery[response_id]))
    return touched + open_cases(openings, now=now, tree=tree, fresh=fresh)


def _template_alert(recovery: Sequence[Alert]) -> tuple[Alert, str | None]:
    """The alert the case is opened from: the first whose rule names a template, else the first one."""
    for alert in recovery:
        if alert.rule is not None and alert.rule.open_case:
            return alert, alert.rule.open_case
    return recovery[0], None


def do_open_case(
    response: Response, recovery: Sequence[Alert], *, now: datetime, tree: OrgTree | None = None, fresh: bool = False
) -> Case | None:
    """Open the case of a response from its recovery alerts; None when the response already has one."""
    opened = open_cases([(response, recovery)], now=now, tree=tree, fresh=fresh)
    return opened[0] if opened else None


def open_cases(
    openings: Sequence[tuple[Response, Sequence[Alert]]],
    *,
    now: datetime,
    tree: OrgTree | None = None,
    fresh: bool = False,
) -> list[Case]:
    """Open the case of each response from its recovery alerts, all of a batch together: each template read
    once, the earlier cases of repeat failures in one query, and the cases, their teams, their `opened`
    events, the team's emails and the webhooks each in one insert. Returns the cases opened; a response
    that has a case already is left out.

    Never two cases per response: `fresh` responses were inserted by the caller's transaction, so no other
    writer can have opened their cases; otherwise each insert runs in a savepoint, and the loser of a race
    with a concurrent writer leaves the winner's case as it is.
    """
    tree = tree or directory().tree
    templates: dict[str | None, TemplateSpec] = {}
    opened: list[Case] = []
    for wave in _waves(openings):
        opened += _open_wave(wave, templates, now=now, tree=tree, fresh=fresh)
    return opened


def _waves(openings: Sequence[tuple[Response, Sequence[Alert]]]) -> list[list[tuple[Response, Sequence[Alert]]]]:
    """The openings in order, split wherever a customer comes again: a repeat failure's earlier case may be
    one this very batch opens, so it must be in the database before the repeat looks for it."""
    waves: list[list[tuple[Response, Sequence[Alert]]]] = [[]]
    customers: set[int] = set()
    for response, recovery in openings:
        if response.customer_id is not None and response.customer_id in customers:
            waves.append([])
            customers = set()
        if response.customer_id is not None:
            customers.add(response.customer_id)
        waves[-1].append((response, recovery))
    return [wave for wave in waves if wave]


def _open_wave(
    openings: Sequence[tuple[Response, Sequence[Alert]]],
    templates: dict[str | None, TemplateSpec],
    *,
    now: datetime,
    tree: OrgTree,
    fresh: bool,
) -> list[Case]:
    repeats = [response for response, recovery in openings if any(a.repeat for a in recovery)]
    earlier = _earlier_cases(repeats, now=now)
    built: list[tuple[Case, Alert, str, bool]] = []
    for response, recovery in openings:
        alert, template_key = _template_alert(recovery)
        if template_key not in templates:
            templates[template_key] = load_template(template_key)
        repeat = any(a.repeat for a in recovery)
        case, sla_severity = _new_case(
            response, alert, templates[template_key], repeat=repeat, earlier=earlier.get(response.pk), now=now
        )
        built.append((case, alert, sla_severity, repeat))
    if fresh:
        Case.objects.bulk_create([case for case, _, _, _ in built])
    else:
        built = [entry for entry in built if _insert_unless_opened(entry[0])]
    if not built:
        return []
    teams = {case.pk: chosen_team(case, tree) for case, _, _, _ in built}
    Case.managers.through.objects.bulk_create(
        [Case.managers.through(case=case, person=p) for case, _, _, _ in built for p in teams[case.pk][0]]
    )
    Case.members.through.objects.bulk_create(
        [Case.members.through(case=case, person=p) for case, _, _, _ in built for p in teams[case.pk][1]]
    )
    events = CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case=case,
                at=now,
                type=CaseEvent.Type.OPENED,
                data=_opened_data(case, alert, teams[case.pk], sla_severity, repeat),
            )
            for case, alert, sla_severity, repeat in built
        ]
    )
    news = [(case, event) for (case, _, _, _), event in zip(built, events, strict=True)]
    # A new case has no owner yet: its team is exactly the managers and members just chosen.
    tell_teams(
        [
            (case, event, sorted([*teams[case.pk][0], *teams[case.pk][1]], key=lambda p: p.key))
            for case, event in news
            if CaseEvent.Type.OPENED in (case.notify_on or ())
        ],
        now=now,
    )
    publish_case_events(news, now=now)
    return [case for case, _ in news]


def _new_case(
    response: Response, alert: Alert, template: TemplateSpec, *, repeat: bool, earlier: int | None, now: datetime
) -> tuple[Case, str]:
    """The unsaved case of `response` from `template` (and the severity its tier's SLA gives)."""
    unit = response.unit
    if unit is None:
        raise ValueError("a case needs the response's unit")  # the callers open cases of routed responses only
    tier = response.customer.tier if response.customer is not None else ""
    sla = choose_sla(template.sla, tier, alert.severity)
    opened_at = response.valid_since or now
    calendar = case_calendar_key(template.calendar, unit)
    # A repeat failure is more serious than its tier alone says: one step above the tier's severity.
    severity = raise_severity(sla.severity) if repeat else sla.severity
    previous = earlier if repeat else None
    case = Case(
        response=response,
        template_key=template.key,
        unit=unit,
        category=template.category or alert.category,
        severity=severity,
        tier=tier,
        status=template.statuses[0],
        state=Case.State.OPEN,
        opened_at=opened_at,
        due_at=due_at(opened_at, sla.goal, calendar, unit),
        previous_case_id=previous,
        statuses=list(template.statuses),
        contacted_statuses=list(template.contacted_statuses),
        auto_close_on_recovered=template.auto_close_on_recovered,
        team={key: list(value) for key, value in template.team.items()},
        notify_on=list(template.notify_on),
        calendar=calendar,
        sla={
            "tier": sla.tier_entry,
            "severity": sla.severity,
            "closure_goal": int(sla.goal.total_seconds()),
            "calendar": calendar or None,
            "template": {tier_name: dict(entry) for tier_name, entry in template.sla.items()},
        },
        escalation_steps=[dict(step) for step in template.steps],
        fired_steps=[],
    )
    refresh_next_escalation(case)
    return case, sla.severity


def _insert_unless_opened(case: Case) -> bool:
    """Insert the case in a savepoint; False when a concurrent writer opened the response's case first."""
    try:
        with transaction.atomic():
            case.save(force_insert=True)
    except IntegrityError:
        if Case.objects.filter(response=case.response).exists():
            return False
        raise
    return True


def _opened_data(
    case: Case, alert: Alert, team: tuple[list[Person], list[Person]], sla_severity: str, repeat: bool
) -> dict[str, object]:
    managers, members = team
    data: dict[str, object] = {
        "template": case.template_key,
        "alert": alert.pk,
        "rule": alert.rule_key,
        "severity": case.severity,
        "tier": case.tier or None,
        "sla": case.sla["tier"],
        "opened_at": case.opened_at.isoformat(),
        "due_at": case.due_at.isoformat(),
        "managers": [p.key for p in managers],
        "members": [p.key for p in members],
    }
    if repeat:
        data |= {"repeat": True, "repeat_of": case.previous_case_id, "severity_raised_from": sla_severity}
    return data


def _earlier_cases(responses: Sequence[Response], *, now: datetime) -> dict[int, int]:
    """For each repeat failure, the id of the customer's latest case opened within the repeat window before
    this one's opening (detection decided it is a repeat): the one it repeats. One query for the wave."""
    with_customer = [response for response in responses if response.customer_id is not None]
    if not with_customer:
        return {}
    window = directory().organization.repeat_window
    since = min(response.submitted_at for response in with_customer) - window
    candidates: dict[int | None, list[tuple[int, int, datetime]]] = {}
    rows = (
        Case.objects.filter(
            response__customer_id__in={response.customer_id for response in with_customer}, opened_at__gte=since
        )
        .order_by("-opened_at", "-id")
        .values_list("id", "response__customer_id", "response_id", "opened_at")
    )
    for case_id, customer_id, response_id, opened_at in rows:
        candidates.setdefault(customer_id, []).append((case_id, response_id, opened_at))
    found = {}
    for response in with_customer:
        opening = response.valid_since or now
        start = response.submitted_at - window
        latest = next(
            (
                case_id
                for case_id, response_id, opened_at in candidates.get(response.customer_id, [])
                if response_id != response.pk and start <= opened_at <= opening
            ),
            None,
        )
        if latest is not None:
            found[response.pk] = latest
    return found


def chosen_team(case: Case, tree: OrgTree) -> tuple[list[Person], list[Person]]:
    """The managers and members the case's copied selectors choose in its unit now (active people only; a
    manager is not also listed as a member)."""
    agent = case.response.agent.key if case.response.agent is not None else None
    team = case.team or {}
    chosen = {
        role: [r.person for r in resolve(team.get(role) or [], unit=case.unit.code, agent=agent, tree=tree)]
        for role in ("managers", "members")
    }
    people = directory().people_by_key({key for keys in chosen.values() for key in keys})
    managers = [people[key] for key in chosen["managers"] if key in people]
    members = [people[key] for key in chosen["members"] if key in people and key not in chosen["managers"]]
    return managers, members


def _set_team(case: Case, tree: OrgTree) -> tuple[list[str], list[str]]:
    """Recompute managers and members from the copied selectors and the case's unit; returns their keys.
    (A case being opened gets its team rows inserted with its batch's, in `_open_wave`.)"""
    managers, members = chosen_team(case, tree)
    case.managers.set(managers)
    case.members.set(members)
    return [p.key for p in managers], [p.key for p in members]


# --- moving ------------------------------------------------------------------------------------------


def _move_to_response(case: Case, response: Response, *, now: datetime, tree: OrgTree) -> Case:
    """A resubmission for the same ticket: the case, with its whole timeline, follows the new response.

    A new response that no longer needs recovery means the customer is now satisfied (see `_satisfied`);
    one that needs recovery again after that starts the clock again.
    """
    # The response the case leaves has no notes any more. Written before the case is locked: responses are
    # locked before their case (the ingest, the fixes, notes), and the other order could deadlock with them.
    leaving = case.response_id
    Response.objects.filter(pk=leaving).update(has_notes=False, spoken_to=False)
    case = Case.objects.select_for_update(of=("self",)).select_related("unit", "response").get(pk=case.pk)
    old_response = case.response
    old_unit = case.unit
    case.response = response
    data: dict[str, object] = {"reason": "resubmitted", "from_response": old_response.pk, "to_response": response.pk}
    if response.unit is not None and response.unit_id != case.unit_id:
        case.unit = response.unit
        data |= {"from_unit": old_unit.code, "to_unit": response.unit.code}
    fields = ["response", "unit"]
    if response.needs_recovery and case.satisfied_at is not None:
        data["unsatisfied_again"] = True
        case.satisfied_at = None
        refresh_next_escalation(case)
        fields += ["satisfied_at", "next_escalation_at"]
    case.save(update_fields=fields)
    case.response = response
    _hand_over_note_flags(case, old_response, response, cleared=leaving)
    if "to_unit" in data:
        _set_team(case, tree)
    CaseEvent.objects.create(case=case, at=now, type=CaseEvent.Type.MOVED, data=data)
    if not response.needs_recovery and case.satisfied_at is None:
        _satisfied(case, response, now=now)
    return case


def _hand_over_note_flags(case: Case, old: Response, new: Response, *, cleared: int) -> None:
    """The notes go with the case: the new response's `srn` flags say what they say, the old one has none
    (its row was `cleared` before the case was locked).

    Read from the timeline, which the case's lock keeps still, not from the old response's row."""
    notes = CaseEvent.objects.filter(case=case, type=CaseEvent.Type.NOTE).aggregate(
        noted=Count("id"), spoken=Count("id", filter=Q(data__spoke_to_customer=True))
    )
    new.has_notes, new.spoken_to = notes["noted"] > 0, notes["spoken"] > 0
    old.has_notes = old.spoken_to = False
    if old.pk != cleared:  # the case had moved on since the caller read it
        Response.objects.filter(pk=old.pk).update(has_notes=False, spoken_to=False)
    if new.has_notes:
        Response.objects.filter(pk=new.pk).update(has_notes=new.has_notes, spoken_to=new.spoken_to)


def _satisfied(case: Case, response: Response, *, now: datetime) -> None:
    """The customer's new response for the ticket no longer needs recovery: the case says so, its pending
    escalations stop and its team is told. It stays open for a manager to close, unless the template closes
    such cases itself (`auto_close_on_recovered`)."""
    score = format_number(response.overall) if response.overall is not None else ""
    text = f"customer now satisfied (score {score})" if score else "customer now satisfied"
    open_case = case.state == Case.State.OPEN
    if open_case:
        case.satisfied_at = now
        refresh_next_escalation(case)
        case.save(update_fields=["satisfied_at", "next_escalation_at"])
    event = _event(
        case,
        CaseEvent.Type.SATISFIED,
        None,
        now,
        {"response": response.pk, "score": response.overall, "text": text, "was_open": open_case},
    )
    tell_team(case, event, now=now)
    if open_case and case.auto_close_on_recovered:
        previous = case.status
        case.state, case.closed_at, case.resolution = Case.State.CLOSED, now, Case.Resolution.RESOLVED
        case.status = case.closed_status
        refresh_next_escalation(case)
        case.save(update_fields=["state", "closed_at", "resolution", "status", "next_escalation_at"])
        closed = _event(
            case,
            CaseEvent.Type.CLOSED,
            None,
            now,
            {"from": previous, "to": case.status, "resolution": "resolved", "reason": "customer satisfied"},
        )
        notify_team(case, closed, actor=None, now=now)
        publish_case_event(case, closed, now=now)


def do_move_case_to_unit(
    response: Response, old_unit: Unit | None, *, actor: Person | None, now: datetime
) -> Case | None:
    """The response was reassigned to another unit: its case follows, with a team from the new unit.

    Pending escalations need no change of their own: they resolve their recipients from the case's
    unit when they fire. Returns the case, or None when the response has none or the unit is the same.
    """
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self",))
            .select_related("unit", "response__agent")
            .filter(response=response)
            .first()
        )
        if case is None or response.unit_id is None or case.unit_id == response.unit_id:
            return case if case is not None and case.unit_id == response.unit_id else None
        new_unit = Unit.objects.get(pk=response.unit_id)
        from_unit = old_unit.code if old_unit is not None else case.unit.code
        case.unit = new_unit
        case.save(update_fields=["unit"])
        managers, members = _set_team(case, directory().tree)
        moved = CaseEvent.objects.create(
            case=case,
            at=now,
            type=CaseEvent.Type.MOVED,
            actor=actor,
            actor_name=actor.name if actor else "",
            data={
                "reason": "reassigned",
                "from_unit": from_unit,
                "to_unit": new_unit.code,
                "managers": managers,
                "members": members,
            },
        )
        notify_team(case, moved, actor=actor, now=now)
    return case


# --- acting on a case --------------------------------------------------------------------------------


def _locked(case: Case) -> Case:
    # `of=("self",)`: PostgreSQL cannot lock the nullable side of the owner join, and only the case needs it.
    return Case.objects.select_for_update(of=("self",)).select_related("unit", "owner", "response").get(pk=case.pk)


class _Moved(Exception):
    """The case went to another response while waiting for its lock."""


def _locked_with_response(case: Case) -> Case:
    """`_locked`, after locking the row of the case's response: for a write that changes that row too (a
    note sets its `srn` flags). The ingest and the fixes lock a response before its case; taking them the
    other way round could deadlock with them. Should the case move to another response meanwhile, both
    locks are let go (the savepoint) and taken again for that one."""
    response_id = case.response_id
    while True:
        try:
            with transaction.atomic():
                list(Response.objects.select_for_update(no_key=True).filter(pk=response_id).values_list("pk"))
                locked = _locked(case)
                if locked.response_id != response_id:
                    raise _Moved(locked.response_id)
                return locked
        except _Moved as moved:
            response_id = moved.args[0]


def _event(case: Case, type_: str, actor: Person | None, now: datetime, data: dict, actor_name: str = "") -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, at=now, type=type_, actor=actor, actor_name=actor_name or (actor.name if actor else ""), data=data
    )


def is_admin(person: Person | None) -> bool:
    """A service token (no person) acts as an admin; a person is one with an `admin` role anywhere."""
    return person is None or Role.objects.filter(person=person, role=Role.Kind.ADMIN).exists()


def is_manager(case: Case, person: Person | None) -> bool:
    return is_admin(person) or case.managers.filter(pk=person.pk).exists()  # type: ignore[union-attr]


def in_team(case: Case, person: Person) -> bool:
    if case.owner_id == person.pk:
        return True
    return case.managers.filter(pk=person.pk).exists() or case.members.filter(pk=person.pk).exists()


def _acting_counts_as_viewing(case: Case, actor: Person | None, now: datetime, *, through: str) -> bool:
    """Whoever in the team acts on a case has seen it: sets `viewed_at` when unset (stopping `not_viewed`)
    and records the person's view once. Returns whether `viewed_at` changed; the caller saves the case."""
    if actor is None or case.viewed_at is not None or not in_team(case, actor):
        return False
    case.viewed_at = now
    if not CaseEvent.objects.filter(case=case, type=CaseEvent.Type.VIEWED, actor=actor).exists():
        _event(case, CaseEvent.Type.VIEWED, actor, now, {"team": True, "through": through})
    return True


def do_view_case(case: Case, *, actor: Person | None, now: datetime, actor_name: str = "") -> Case:
    """Record a view. The first view by the owner or a team member stops the `not_viewed` escalations;
    each person's first view is an event (later views add nothing)."""
    with transaction.atomic():
        case = _locked(case)
        already = CaseEvent.objects.filter(case=case, type=CaseEvent.Type.VIEWED, actor=actor)
        if actor is None:
            already = already.filter(actor_name=actor_name)
        if not already.exists():
            counts = actor is not None and in_team(case, actor)
            if counts and case.viewed_at is None:
                case.viewed_at = now
                refresh_next_escalation(case)
                case.save(update_fields=["viewed_at", "next_escalation_at"])
            _event(case, CaseEvent.Type.VIEWED, actor, now, {"team": counts}, actor_name)
    return case


def _unit_lead_name(case: Case) -> str:
    leads = directory().tree.leads_of(case.unit.code)
    people = directory().people_by_key(set(leads))
    return next((people[key].name for key in leads if key in people), "")


def note_authorship(
    case: Case, *, author_name: str | None, actor: Person | None, actor_name: str = ""
) -> dict[str, str]:
    """Who a note is shown as written by: `author`, and `on_behalf_of` when a name was given that is not
    the writer's.

    The writer is the signed-in person (`actor`: a login's person, an API token's person), else `actor_name`
    (a login without a person, a token without one). A name given as the author (a free-text field) never
    replaces the writer: it is shown next to them, as "on behalf of". Without a writer the note is the
    system's (an import): the name given, else the unit's lead; so is a token without a person that gives
    no name, which the API says writes as the unit's lead.
    """
    given = " ".join((author_name or "").split())
    writer = actor.name if actor is not None else " ".join(actor_name.split())
    if actor is None and (not writer or not given):
        return {"author": given or _unit_lead_name(case)}
    if given and not _names_writer(given, writer):
        return {"author": writer, "on_behalf_of": given}
    return {"author": writer}


def _names_writer(given: str, writer: str) -> bool:
    """`given` is the writer's own name, or its first words ("Erin" for "Erin Diaz"), in any case."""
    words = given.casefold().split()
    return words == writer.casefold().split()[: len(words)]


def do_add_note(
    case: Case,
    *,
    text: str,
    spoke_to_customer: bool = False,
    author_name: str | None = None,
    actor: Person | None = None,
    actor_name: str = "",
    now: datetime,
) -> CaseEvent:
    """Append a note, written by `actor` (or `actor_name`: see `note_authorship`); `author_name` given by the
    writer is kept as "on behalf of". The first note that spoke to the customer sets `contacted_at`, which
    stops the `not_contacted` escalations."""
    text = (text or "").strip()
    if not text:
        raise CaseInputError("text", "a note needs some text")
    with transaction.atomic():
        case = _locked_with_response(case)
        authorship = note_authorship(case, author_name=author_name, actor=actor, actor_name=actor_name)
        changed = _acting_counts_as_viewing(case, actor, now, through="note")
        note = _event(
            case,
            CaseEvent.Type.NOTE,
            actor,
            now,
            {"text": text, "spoke_to_customer": bool(spoke_to_customer), **authorship},
            actor_name=actor_name,
        )
        if spoke_to_customer and case.contacted_at is None:
            case.contacted_at = now
            changed = True
        # The `srn` flags of the case's response (locked above), in the note's transaction.
        flags = {"has_notes": True, **({"spoken_to": True} if spoke_to_customer else {})}
        Response.objects.filter(pk=case.response_id).update(**flags)
        if changed:
            refresh_next_escalation(case)
            case.save(update_fields=["viewed_at", "contacted_at", "next_escalation_at"])
        notify_team(case, note, actor=actor, now=now)
    return note


def do_change_status(
    case: Case,
    *,
    status: str,
    resolution: str | None = None,
    note: str | None = None,
    actor: Person | None = None,
    now: datetime,
    root_cause: str | None = None,
    action_taken: str | None = None,
    spoke_to_customer: bool = False,
) -> Case:
    """Move the case to one of its template's statuses. The last status closes it: that needs a
    resolution and a case manager (or an admin), and may say a root cause (one of the template's) and the
    action taken, both kept on the case and in the `closed` event; closing as unresolved fires
    `closed_unresolved` at once. Leaving the closed status reopens the case.

    `spoke_to_customer` marks the accompanying note as a conversation with the customer (the note is the
    action taken when no note text is given), so it counts as contact like any other such note."""
    root_cause = (root_cause or "").strip() or None
    action_taken = (action_taken or "").strip() or None
    note_text = (note or "").strip() or (action_taken if spoke_to_customer else None)
    with transaction.atomic():
        # With a note, its response is locked first, as `do_add_note` locks it (see `_locked_with_response`).
        case = _locked_with_response(case) if note_text else _locked(case)
        if status not in case.statuses:
            raise CaseInputError("status", f"must be one of {', '.join(case.statuses)}, not {status!r}")
        closing = status == case.closed_status
        if closing and resolution not in Case.Resolution.values:
            raise CaseInputError("resolution", "closing a case needs a resolution: resolved or unresolved")
        if not closing:
            for name, value in (("resolution", resolution), ("root_cause", root_cause), ("action_taken", action_taken)):
                if value is not None:
                    raise CaseInputError(
                        name, f"a {name.replace('_', ' ')} is only given when closing (status {case.closed_status!r})"
                    )
        if root_cause is not None:
            causes = root_causes_of(case.template_key)
            if root_cause not in causes:
                raise CaseInputError("root_cause", f"must be one of {', '.join(causes)}, not {root_cause!r}")
        if closing and not is_manager(case, actor):
            raise CasePermissionDenied("Only the case's managers and admins may close it.")
        if spoke_to_customer and not note_text:
            raise CaseInputError("note", "say in a note what you told the customer")
        if _acting_counts_as_viewing(case, actor, now, through="status"):
            refresh_next_escalation(case)
            case.save(update_fields=["viewed_at", "next_escalation_at"])
        if note_text:
            do_add_note(case, text=note_text, spoke_to_customer=spoke_to_customer, actor=actor, now=now)
            # The note may have set `contacted_at` (and `viewed_at`) on its own copy of the row.
            case = _locked(case)
        unchanged = resolution == case.resolution and (root_cause or "") == case.root_cause
        if status == case.status and (not closing or (unchanged and (action_taken or "") == case.action_taken)):
            return case
        previous = case.status
        if status in (case.contacted_statuses or ()) and case.contacted_at is None:
            # A status the template marks `contacted: true` says the customer was reached, as such a note does.
            case.contacted_at = now
        if closing:
            case.state, case.closed_at, case.resolution, case.status = Case.State.CLOSED, now, resolution, status
            case.root_cause, case.action_taken = root_cause or "", action_taken or ""
            event_type = CaseEvent.Type.CLOSED
        elif case.state == Case.State.CLOSED:
            case.state, case.closed_at, case.resolution, case.status = Case.State.OPEN, None, None, status
            case.root_cause, case.action_taken = "", ""
            event_type = CaseEvent.Type.REOPENED
        else:
            case.status = status
            event_type = CaseEvent.Type.STATUS
        refresh_next_escalation(case)
        case.save(
            update_fields=[
                "state",
                "closed_at",
                "resolution",
                "status",
                "root_cause",
                "action_taken",
                "contacted_at",
                "next_escalation_at",
            ]
        )
        data: dict[str, object] = {"from": previous, "to": status}
        if closing:
            data |= {"resolution": resolution, "root_cause": root_cause, "action_taken": action_taken}
        if status in (case.contacted_statuses or ()):
            data["contacted"] = True
        event = _event(case, event_type, actor, now, data)
        notify_team(case, event, actor=actor, now=now)
        publish_case_event(case, event, now=now)
        if closing and resolution == Case.Resolution.UNRESOLVED:
            escalate_case(case, now)
    return case


def do_reopen(case: Case, *, status: str | None = None, actor: Person | None = None, now: datetime) -> Case:
    """Reopen a closed case into `status` (by default the template's first status)."""
    with transaction.atomic():
        case = _locked(case)
        if case.state != Case.State.CLOSED:
            raise CaseInputError("status", "the case is not closed")
        target = status or case.statuses[0]
        if target == case.closed_status:
            raise CaseInputError("status", f"reopening needs a status other than {case.closed_status!r}")
        return do_change_status(case, status=target, actor=actor, now=now)


def possible_owners(case: Case) -> QuerySet[Person]:
    """Who may own a case: the active people with a role in its unit or a unit above it (those who could act
    on it), and its managers and members (the people its template named, also without such a role)."""
    codes = case.unit.path.strip("/").split("/")
    team = Q(pk__in=case.managers.values("pk")) | Q(pk__in=case.members.values("pk"))
    return Person.objects.filter(Q(roles__unit__code__in=codes) | team, active=True).distinct().order_by("name")


def do_assign(case: Case, *, owner: Person, actor: Person | None = None, now: datetime) -> Case:
    """Make `owner` responsible for the case; they count as team for viewing and hear about it. The owner
    must be one of `possible_owners`: a case is not handed to someone outside its team."""
    if not owner.active:
        raise CaseInputError("owner", f"{owner.key!r} is no longer in the organisation")
    with transaction.atomic():
        case = _locked(case)
        if case.owner_id != owner.pk and not possible_owners(case).filter(pk=owner.pk).exists():
            raise CaseInputError(
                "owner",
                f"{owner.key!r} is not in the case's team: the owner must hold a role in {case.unit.code} or a "
                "unit above it, or be one of the case's managers or members",
            )
        if _acting_counts_as_viewing(case, actor, now, through="assign"):
            refresh_next_escalation(case)
            case.save(update_fields=["viewed_at", "next_escalation_at"])
        if case.owner_id == owner.pk:
            return case
        previous = case.owner.key if case.owner is not None else None
        case.owner = owner
        case.save(update_fields=["owner"])
        event = _event(
            case,
            CaseEvent.Type.ASSIGNED,
            actor,
            now,
            {"owner": owner.key, "owner_name": owner.name, "previous": previous},
        )
        notify_team(case, event, actor=actor, now=now)
    return case
