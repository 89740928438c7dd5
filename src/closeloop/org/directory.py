"""The organisation as routing, escalation and every page need it: the organisation row, the unit tree,
people and their roles, from the per-process configuration views (closeloop.org.stamp)."""

from __future__ import annotations

from dataclasses import dataclass

from closeloop.core.routing import OrgTree
from closeloop.org.models import Calendar, Organization, Person, Role, Unit
from closeloop.org.stamp import cached_view


@dataclass(frozen=True)
class Directory:
    organization: Organization
    tree: OrgTree
    units: dict[str, Unit]
    people: dict[str, Person]  # active people by config id

    def people_by_key(self, keys: set[str]) -> dict[str, Person]:
        return {key: self.people[key] for key in keys if key in self.people}

    def _up_from(self, unit: Unit | None) -> list[Unit]:
        """The unit and its ancestors, nearest first (as stored now)."""
        codes = unit.path.strip("/").split("/") if unit is not None else []
        return [self.units[code] for code in reversed(codes) if code in self.units]

    def time_zone_of(self, unit: Unit | None) -> str:
        """The unit's own time zone, else the nearest ancestor's, else the organisation's."""
        return next((u.time_zone for u in self._up_from(unit) if u.time_zone), self.organization.time_zone)

    def calendar_of(self, unit: Unit | None) -> Calendar | None:
        """The unit's own business calendar, else the nearest ancestor's; None: no calendar."""
        return next((u.calendar for u in self._up_from(unit) if u.calendar_id), None)


def _build() -> Directory:
    units = {u.code: u for u in Unit.objects.select_related("calendar")}
    code_by_pk = {u.pk: u.code for u in units.values()}
    parents = {u.code: code_by_pk[u.parent_id] if u.parent_id is not None else None for u in units.values()}
    roles: dict[tuple[str, str], list[str]] = {}
    for unit_code, role, person_key in Role.objects.filter(person__active=True).values_list(
        "unit__code", "role", "person__key"
    ):
        roles.setdefault((unit_code, role), []).append(person_key)
    return Directory(
        organization=Organization.load(),
        tree=OrgTree(parents=parents, roles={k: tuple(sorted(v)) for k, v in roles.items()}),
        units=units,
        people={p.key: p for p in Person.objects.filter(active=True)},
    )


def directory(token: str | None = None) -> Directory:
    """The organisation as stored now (shared and read-only)."""
    return cached_view("org.directory", _build, token)


def current_organization() -> Organization:
    """The configured organisation (shared and read-only), or an unsaved default before any config is applied."""
    return directory().organization


def unit_path(unit: Unit | None) -> tuple[str, ...]:
    """Unit codes from the root down to `unit`."""
    return tuple(unit.path.strip("/").split("/")) if unit else ()
