"""Handing open cases over when the organisation changes: a new lead, a member who left, a unit moved.

A case copies its team selectors (`unit_leads`, `{person: ID}`, ...) when it opens; the people they choose
are resolved again here, after the configuration is written, for the open cases of the units whose people
changed. The old lead loses the right to close unless a selector still names them; each change is a
`team_changed` event, and the people who join the team are told.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from functools import reduce
from operator import or_

from django.db.models import Q

from closeloop.cases.models import Case, CaseEvent
from closeloop.cases.notifications import tell_team
from closeloop.cases.services import chosen_team
from closeloop.org.directory import directory
from closeloop.org.models import Unit


def _affected(unit_codes: Collection[str]) -> list[int]:
    """Open cases in the subtrees of these units (a unit's leads stand in for the units below it that have none,
    and `{level: N}` climbs from below), and open cases with someone on their team who has left."""
    paths = list(Unit.objects.filter(code__in=list(unit_codes)).values_list("path", flat=True))
    open_cases = Case.objects.filter(state=Case.State.OPEN)
    ids: set[int] = set()
    if paths:
        ids |= set(
            open_cases.filter(reduce(or_, (Q(unit__path__startswith=path) for path in paths))).values_list(
                "id", flat=True
            )
        )
    left = Q(managers__active=False) | Q(members__active=False)
    ids |= set(open_cases.filter(left).values_list("id", flat=True))
    return sorted(ids)


def hand_over_open_cases(unit_codes: Collection[str], *, now: datetime) -> int:
    """Give the open cases of these units (see `_affected`) the team their selectors choose now; call inside
    the transaction that changed the organisation. Returns how many cases got a different team."""
    changed = 0
    affected = _affected(unit_codes)
    if not affected:
        return 0
    tree = directory().tree
    for case_id in affected:
        case = Case.objects.select_for_update(of=("self",)).select_related("unit", "response__agent").get(pk=case_id)
        old_managers = set(case.managers.values_list("key", flat=True))
        old_members = set(case.members.values_list("key", flat=True))
        managers, members = chosen_team(case, tree)
        if ({p.key for p in managers}, {p.key for p in members}) == (old_managers, old_members):
            continue
        case.managers.set(managers)
        case.members.set(members)
        new_managers, new_members = {p.key for p in managers}, {p.key for p in members}
        event = CaseEvent.objects.create(
            case=case,
            at=now,
            type=CaseEvent.Type.TEAM_CHANGED,
            data={
                "reason": "organisation changed",
                "managers": sorted(new_managers),
                "members": sorted(new_members),
                "managers_added": sorted(new_managers - old_managers),
                "managers_removed": sorted(old_managers - new_managers),
                "members_added": sorted(new_members - old_members),
                "members_removed": sorted(old_members - new_members),
            },
        )
        joined = [p for p in [*managers, *members] if p.key not in old_managers | old_members]
        if joined:
            tell_team(case, event, now=now, team=joined)
        changed += 1
    return changed
