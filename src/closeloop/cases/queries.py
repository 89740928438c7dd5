"""Read queries over cases, shared by the API, the response serializer and the UI; also the response
queries that look at cases (their notes: the `srn` filters, the serialised response with its case)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Case as SqlCase
from django.db.models import (
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    prefetch_related_objects,
)

from closeloop.alerts.models import Alert
from closeloop.cases.models import Case, CaseEvent, EscalationNotice
from closeloop.core.vocabulary import SRN_CODES
from closeloop.feedback.models import Customer, Response
from closeloop.feedback.queries import visible_units
from closeloop.feedback.search import SEARCH_CONFIG, customer_vector, response_vector
from closeloop.org.models import Person, Unit


def cases_for_api() -> QuerySet[Case]:
    """Cases with what their serialisation reads, newest first."""
    return (
        Case.objects.select_related("unit", "owner", "response")
        .prefetch_related("managers", "members")
        .order_by("-opened_at", "-id")
    )


def names(person: Person) -> Q:
    """Cases that name `person`: as owner, manager or member (their team), or as someone an escalation
    reached. Each is an indexed lookup, so the condition costs no join that could repeat a case."""
    return Q(
        Q(owner=person)
        | Q(Exists(Case.managers.through.objects.filter(case=OuterRef("pk"), person=person)))
        | Q(Exists(Case.members.through.objects.filter(case=OuterRef("pk"), person=person)))
        | Q(Exists(EscalationNotice.objects.filter(case=OuterRef("pk"), person=person)))
    )


def restrict_to_visible(queryset: QuerySet[Case], person: Person | None) -> QuerySet[Case]:
    """The cases `person` may see: those of their units (with the subtrees), and every case that names them
    (`names`), also without any role in its unit; everything for a service token or an admin."""
    return cases_seen_by(queryset, person, visible_units(person))


def cases_seen_by(queryset: QuerySet[Case], person: Person | None, units: QuerySet[Unit] | None) -> QuerySet[Case]:
    """As `restrict_to_visible`, with the person's visible units already read (None: no restriction)."""
    if units is None or person is None:
        return queryset
    return queryset.filter(Q(unit__in=units) | names(person))


def responses_visible_to(queryset: QuerySet[Response], person: Person | None) -> QuerySet[Response]:
    """The responses `person` may see: those of their units, and the response of every case that names them."""
    return responses_seen_by(queryset, person, visible_units(person))


def responses_seen_by(
    queryset: QuerySet[Response], person: Person | None, units: QuerySet[Unit] | None
) -> QuerySet[Response]:
    """As `responses_visible_to`, with the person's visible units already read (None: no restriction)."""
    if units is None or person is None:
        return queryset
    named = Case.objects.filter(response=OuterRef("pk")).filter(names(person))
    return queryset.filter(Q(unit__in=units) | Exists(named))


def mine(queryset: QuerySet[Case], person: Person) -> QuerySet[Case]:
    """The cases that are `person`'s to work on: owned, managed, worked on, or escalated to them."""
    return queryset.filter(names(person))


def escalations_to(person: Person, case_ids: list[int]) -> dict[int, EscalationNotice]:
    """For each of these cases escalated to `person`, the notice that reached them at the highest level (the
    latest among equals): what their monitor shows next to the case."""
    notices: dict[int, EscalationNotice] = {}
    for notice in EscalationNotice.objects.filter(person=person, case_id__in=case_ids).order_by("at", "id"):
        held = notices.get(notice.case_id)
        if held is None or (notice.level or 0) >= (held.level or 0):
            notices[notice.case_id] = notice
    return notices


def in_unit_subtree(queryset: QuerySet[Case], unit: Unit) -> QuerySet[Case]:
    return queryset.filter(unit__path__startswith=unit.path)


def overdue_filter(now: datetime) -> Q:
    """Open past the closure goal, computed at read time (nothing stores an `overdue` flag that could go stale)."""
    return Q(state=Case.State.OPEN, due_at__lt=now)


def overdue_count(now: datetime) -> int:
    return Case.objects.filter(overdue_filter(now)).count()


def severity_rank() -> SqlCase:
    """How bad a severity is as a number (urgent 4 .. low 1), so lists sort by it rather than alphabetically."""
    return SqlCase(
        When(severity="urgent", then=Value(4)),
        When(severity="high", then=Value(3)),
        When(severity="normal", then=Value(2)),
        default=Value(1),
        output_field=IntegerField(),
    )


def with_alert_category(queryset: QuerySet[Case]) -> QuerySet[Case]:
    """Each case with `alert_category`: the category of its response's first recovery alert.

    A template names one category for all its cases ("Service recovery"); the alert says what went wrong.
    """
    # A case that moved to a customer's newer response for the same ticket keeps the earlier one's alert: the
    # first of the recovery alerts of its response and of the response that one replaced. Written as two
    # lookups, each on an index (alerts by response and kind; responses by superseded_by), and the lower id
    # taken: one lookup with an OR across the join made both databases scan for every case listed.
    recovery = Alert.objects.filter(kind="recovery").order_by("id")
    own = recovery.filter(response=OuterRef("response_id"))
    replaced = recovery.filter(
        response_id__in=Response.objects.filter(superseded_by_id=OuterRef(OuterRef("response_id"))).values("id")
    )
    earlier_first = Q(_replaced_alert__isnull=False) & (
        Q(_own_alert__isnull=True) | Q(_replaced_alert__lt=F("_own_alert"))
    )
    return queryset.annotate(
        _own_alert=Subquery(own.values("id")[:1]),
        _replaced_alert=Subquery(replaced.values("id")[:1]),
    ).annotate(
        alert_category=SqlCase(
            When(earlier_first, then=Subquery(replaced.values("category")[:1])),
            default=Subquery(own.values("category")[:1]),
        )
    )


def in_category(queryset: QuerySet[Case], category: str) -> QuerySet[Case]:
    """Cases whose template category, or one of whose recovery alerts' categories, is `category`."""
    alerts = Alert.objects.filter(response=OuterRef("response_id"), kind="recovery", category=category)
    return queryset.filter(Q(category=category) | Exists(alerts))


def search(queryset: QuerySet[Case], text: str) -> QuerySet[Case]:
    """Cases whose customer's name, ticket or words match `text`.

    PostgreSQL: full-text search (websearch syntax: words, "a phrase", -not, or), on the indexed vectors of
    feedback.search (RESPONSE_VECTOR, CUSTOMER_VECTOR). SQLite: every word must appear somewhere in the
    name, ticket or words, case-insensitively (LIKE). Both were measured (docs/benchmarks.md): LIKE answers
    the embedded installation's lists in tens of milliseconds, so no FTS5 table has to be kept in step.
    """
    text = text.strip()
    if not text:
        return queryset
    if connection.vendor == "postgresql":
        query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
        # Each condition on its own index, as a set of response keys the cases are looked up by: an OR inside
        # one query, or a join to every response, makes PostgreSQL compute the vectors row by row instead.
        said = Response.objects.annotate(found=response_vector()).filter(found=query).values("pk")
        customers = Customer.objects.annotate(found=customer_vector()).filter(found=query).values("pk")
        theirs = Response.objects.filter(customer__in=customers).values("pk")
        return queryset.filter(Q(response__in=said) | Q(response__in=theirs))
    for word in text.split():
        queryset = queryset.filter(
            Q(response__customer__name__icontains=word)
            | Q(response__ticket__icontains=word)
            | Q(response__words__icontains=word)
        )
    return queryset


def is_overdue(case: Case, now: datetime) -> bool:
    return case.state == Case.State.OPEN and case.due_at < now


def case_of_response(response: Response) -> Case | None:
    # .all() uses a prefetch of `cases` when the caller made one.
    cases = list(response.cases.all())
    return cases[0] if cases else None


def response_case_id(response: Response) -> int | None:
    case = case_of_response(response)
    return case.pk if case else None


def note_to_dict(event: CaseEvent) -> dict[str, Any]:
    data = event.data or {}
    return {
        "id": event.pk,
        "at": event.at,
        "text": data.get("text", ""),
        "spoke_to_customer": bool(data.get("spoke_to_customer")),
        "author": data.get("author") or event.actor_name,
        # A name the writer gave that is not theirs: shown next to the author, never instead of them.
        "on_behalf_of": data.get("on_behalf_of") or None,
        "by": event.actor.key if event.actor is not None else None,
    }


def response_notes(response: Response) -> list[dict[str, Any]]:
    """The notes of the response's case, oldest first (a resubmitted response brings its case's notes along)."""
    case = case_of_response(response)
    if case is None:
        return []
    notes = getattr(case, "note_events", None)  # prefetched by responses_for_api below
    if notes is None:
        notes = (
            CaseEvent.objects.filter(case=case, type=CaseEvent.Type.NOTE).select_related("actor").order_by("at", "id")
        )
    return [note_to_dict(note) for note in notes]


# --- responses, with what their cases say ------------------------------------------------------------


def _related_rows() -> list[str | Prefetch]:
    notes = CaseEvent.objects.filter(type=CaseEvent.Type.NOTE).select_related("actor").order_by("at", "id")
    return ["alerts", "cases", Prefetch("cases__events", queryset=notes, to_attr="note_events")]


def responses_for_api() -> QuerySet[Response]:
    """Responses with what their serialisation reads, newest first."""
    return (
        Response.objects.select_related("survey", "unit", "agent", "customer")
        .prefetch_related(*_related_rows())
        .order_by("-submitted_at", "-id")
    )


def with_related_rows(response: Response) -> Response:
    """A response just stored, with its alerts, case and notes loaded for serialisation (three queries)."""
    prefetch_related_objects([response], *_related_rows())
    return response


def remember_related_rows(response: Response, alerts: list[Alert], case: Case | None) -> None:
    """Note on a response just stored what `with_related_rows` would read: its alerts and its case, complete,
    because the caller's transaction created them all (a new response can have nothing else), and the new
    case's notes (none). `with_related_rows` then reads nothing: Django's prefetch skips what is cached."""
    _cache(response, "alerts", alerts)
    _cache(response, "cases", [case] if case is not None else [])
    if case is not None:
        case.note_events = []  # type: ignore[attr-defined]


def _cache(instance: Response, name: str, rows: list[Any]) -> None:
    """Put `rows` where a `prefetch_related(name)` puts them (the related manager's `.all()` returns them)."""
    queryset = getattr(instance, name).all()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    instance._prefetched_objects_cache = {  # type: ignore[attr-defined]
        **getattr(instance, "_prefetched_objects_cache", {}),
        name: queryset,
    }


def load_related_rows(responses: list[Response]) -> None:
    """`with_related_rows` for many responses at once: the same three queries, whatever their number."""
    prefetch_related_objects(responses, *_related_rows())


def responses_for_srn(queryset: QuerySet[Response], srn: str) -> QuerySet[Response]:
    """Apply the `srn` filter (core.vocabulary.Srn); notes are the `note` events of the response's case, which
    follows resubmissions.

    Read from the response's own flags (`has_notes`, `spoken_to`, kept by the case services): each code is
    an equality on the leading columns of one index (`response_srn_unnoted`, `response_srn_noted`), where a
    look into the case's timeline for every response made the lists read all responses needing recovery."""
    if srn not in SRN_CODES:
        raise ValueError(f"srn must be one of {', '.join(SRN_CODES)}, not {srn!r}")
    if srn in ("y", "n"):
        return queryset
    if srn == "r":
        return queryset.filter(_equals("needs_recovery", True))
    if srn == "x":
        return queryset.filter(_equals("needs_recovery", True), _equals("has_notes", False))
    if srn == "w":
        return queryset.filter(_equals("has_notes", True))
    if srn == "v":
        return queryset.filter(_equals("has_notes", True), _equals("spoken_to", False))
    # A note that spoke to the customer is a note: saying both keeps the query on the index's first columns.
    return queryset.filter(_equals("has_notes", True), _equals("spoken_to", True))


def _equals(field: str, value: bool) -> Q:
    """`field = value`, written as an equality: Django writes `field=True` as the bare column (`WHERE
    "has_notes"`, `WHERE NOT ...`), which SQLite never looks up in an index (PostgreSQL does either way)."""
    return Q(**{field: Value(value)})
