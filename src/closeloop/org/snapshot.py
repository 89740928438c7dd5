"""A process-wide, read-only snapshot of the configuration (organisation, tree, people, surveys,
rules, webhook endpoints), rebuilt only when the configuration changes.

Every ingest needs all of it; reading it afresh cost some twenty queries per response. Each
change to a configuration row (config apply, the admin) writes a new random token into
ConfigStamp in the same transaction, and every use compares the stored token with the cached
one: one primary-key read instead of twenty. A random token (not a counter) stays correct when
transactions roll back. Objects in the snapshot are shared between threads: never modify them.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection

from closeloop.core.routing import OrgTree

if TYPE_CHECKING:
    from closeloop.alerts.models import Rule
    from closeloop.feedback.catalog import SurveyInfo
    from closeloop.notify.models import WebhookEndpoint
    from closeloop.org.models import Organization, Person, Unit


@dataclass(frozen=True)
class Snapshot:
    token: str | None
    organization: Organization
    tree: OrgTree
    units: dict[str, Unit]
    people: dict[str, Person]
    segments: frozenset[str]
    surveys: dict[str, SurveyInfo]
    rules: tuple[Rule, ...]
    endpoints: tuple[WebhookEndpoint, ...]


_lock = threading.Lock()
_cached: Snapshot | None = None


def _stored_token() -> str | None:
    from closeloop.org.models import ConfigStamp

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token FROM {ConfigStamp._meta.db_table} WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else None


def _build(token: str | None) -> Snapshot:
    from closeloop.alerts.models import Rule
    from closeloop.core.answers import QuestionSpec
    from closeloop.feedback.catalog import SurveyInfo
    from closeloop.feedback.models import Survey
    from closeloop.notify.models import WebhookEndpoint
    from closeloop.org.models import Organization, Person, Role, Segment, Unit

    units = {u.code: u for u in Unit.objects.select_related("calendar")}
    code_by_pk = {u.pk: u.code for u in units.values()}
    parents = {u.code: code_by_pk.get(u.parent_id) for u in units.values()}
    roles: dict[tuple[str, str], list[str]] = {}
    for unit_code, role, person_key in Role.objects.filter(person__active=True).values_list(
        "unit__code", "role", "person__key"
    ):
        roles.setdefault((unit_code, role), []).append(person_key)
    surveys = {}
    for survey in Survey.objects.filter(active=True).prefetch_related("questions"):
        specs = {
            q.key: QuestionSpec(
                key=q.key, type=q.type, min=q.min, max=q.max, options=tuple(q.options or ()), label=q.label
            )
            for q in survey.questions.all()
        }
        surveys[survey.key] = SurveyInfo(survey, specs)
    return Snapshot(
        token=token,
        organization=Organization.load(),
        tree=OrgTree(parents=parents, roles={k: tuple(sorted(v)) for k, v in roles.items()}),
        units=units,
        people={p.key: p for p in Person.objects.filter(active=True)},
        segments=frozenset(Segment.objects.values_list("code", flat=True)),
        surveys=surveys,
        rules=tuple(Rule.objects.select_related("survey").order_by("position", "key")),
        endpoints=tuple(WebhookEndpoint.objects.filter(active=True)),
    )


def current() -> Snapshot:
    """The snapshot for the configuration as this connection sees it now."""
    global _cached
    token = _stored_token()
    cached = _cached
    if cached is not None and cached.token == token:
        return cached
    snapshot = _build(token)
    with _lock:
        _cached = snapshot
    return snapshot


def forget() -> None:
    """Drop this process's snapshot (tests call it between cases)."""
    global _cached
    with _lock:
        _cached = None


def stamp() -> None:
    """Record that the configuration changed; call inside the transaction that changed it."""
    from closeloop.org.models import ConfigStamp

    ConfigStamp.objects.update_or_create(pk=1, defaults={"token": uuid.uuid4().hex})
    forget()
