"""Load the organisation tree into the pure routing structure, once per batch of work."""

from __future__ import annotations

from closeloop.core.routing import OrgTree
from closeloop.org.models import Person, Role, Unit


def load_tree() -> OrgTree:
    codes = dict(Unit.objects.values_list("pk", "code"))
    parents = {code: codes.get(parent_id) for code, parent_id in Unit.objects.values_list("code", "parent_id")}
    roles: dict[tuple[str, str], list[str]] = {}
    for unit_code, role, person_key in Role.objects.filter(person__active=True).values_list(
        "unit__code", "role", "person__key"
    ):
        roles.setdefault((unit_code, role), []).append(person_key)
    return OrgTree(parents=parents, roles={k: tuple(sorted(v)) for k, v in roles.items()})


def people_by_key(keys: set[str]) -> dict[str, Person]:
    return Person.objects.filter(key__in=keys, active=True).in_bulk(field_name="key") if keys else {}


def unit_path(unit: Unit | None) -> tuple[str, ...]:
    """Unit codes from the root down to `unit`."""
    return tuple(unit.path.strip("/").split("/")) if unit else ()
