"""The organisation tree and people as the pure routing core needs them, from the configuration snapshot."""

from __future__ import annotations

from closeloop.core.routing import OrgTree
from closeloop.org.models import Person, Unit
from closeloop.org.snapshot import current


def load_tree() -> OrgTree:
    return current().tree


def people_by_key(keys: set[str]) -> dict[str, Person]:
    people = current().people
    return {key: people[key] for key in keys if key in people}


def unit_path(unit: Unit | None) -> tuple[str, ...]:
    """Unit codes from the root down to `unit`."""
    return tuple(unit.path.strip("/").split("/")) if unit else ()
