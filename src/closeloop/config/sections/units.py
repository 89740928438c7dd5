"""The `units` section: the organisation tree, written level by level; units with history are kept."""

from __future__ import annotations

from typing import Any

from closeloop.config.sections.base import Change, Rows, Section, chunks, rows_with_history
from closeloop.config.validate import Config
from closeloop.org.models import Calendar, Unit


def section(config: Config) -> Section:
    desired: Rows = {
        place.spec.code: {
            "name": place.spec.name,
            "parent": place.parent,
            "path": place.path,
            "depth": place.depth,
            "position": place.position,
            "time_zone": place.spec.time_zone or "",
            "calendar": place.spec.calendar,
        }
        for place in config.units
    }
    kept: dict[str, str] = {}

    def read() -> Rows:
        rows = Unit.objects.order_by("path", "code").values(
            "code", "name", "parent__code", "path", "depth", "position", "time_zone", "calendar__key"
        )
        return {
            row["code"]: {
                "name": row["name"],
                "parent": row["parent__code"],
                "path": row["path"],
                "depth": row["depth"],
                "position": row["position"],
                "time_zone": row["time_zone"],
                "calendar": row["calendar__key"],
            }
            for row in rows
        }

    def remove(codes: list[str]) -> list[Change]:
        rows = {code: (pk, path) for code, pk, path in Unit.objects.values_list("code", "pk", "path") if code in codes}
        history = rows_with_history(Unit, [pk for pk, _ in rows.values()])
        for code, (pk, _) in rows.items():
            if pk in history:
                kept[code] = f"has {history[pk]}"
        # A removed unit above a kept one stays too, or the kept one would lose its parent.
        kept_paths = [rows[code][1] for code in kept]
        for code, (_, path) in rows.items():
            if code not in kept and any(below.startswith(path) for below in kept_paths):
                kept[code] = "has history below it"
        return [
            Change("units", code, "kept", reason=kept[code]) if code in kept else Change("units", code, "removed")
            for code in codes
        ]

    def save(codes: list[str], added: set[str]) -> None:
        calendars = dict(Calendar.objects.values_list("key", "pk"))

        def row(code: str, pks: dict[str, int]) -> dict[str, Any]:
            values = dict(desired[code])
            parent, calendar = values.pop("parent"), values.pop("calendar")
            return {**values, "parent_id": pks[parent] if parent else None, "calendar_id": calendars.get(calendar)}

        # New units go in one insert per tree level, so every parent has its id before its children.
        pks = dict(Unit.objects.values_list("code", "pk"))
        for depth in sorted({desired[code]["depth"] for code in added}):
            level = [code for code in codes if code in added and desired[code]["depth"] == depth]
            Unit.objects.bulk_create([Unit(code=code, **row(code, pks)) for code in level])
            pks = dict(Unit.objects.values_list("code", "pk"))
        for code in codes:
            if code not in added:
                Unit.objects.filter(code=code).update(**row(code, pks))

    def delete(changes: list[Change]) -> None:
        depths = dict(Unit.objects.values_list("code", "depth"))
        codes = [change.key for change in changes]
        # Deepest first: a unit's parent is protected while the unit exists.
        for depth in sorted({depths[code] for code in codes}, reverse=True):
            for chunk in chunks([code for code in codes if depths[code] == depth]):
                Unit.objects.filter(code__in=chunk).delete()

    def finish(changes: list[Change]) -> None:
        # A kept unit stays under its parent; re-derive its path in case an ancestor moved.
        for unit in Unit.objects.filter(code__in=kept).select_related("parent").order_by("depth"):
            parent = Unit.objects.filter(pk=unit.parent_id).first() if unit.parent_id is not None else None
            path = f"{parent.path if parent else '/'}{unit.code}/"
            depth = parent.depth + 1 if parent else 0
            if (unit.path, unit.depth) != (path, depth):
                Unit.objects.filter(pk=unit.pk).update(path=path, depth=depth)

    return Section("units", desired, read, save, remove, delete, finish)


def export() -> list[dict[str, Any]]:
    units = list(Unit.objects.select_related("calendar").order_by("depth", "position", "code"))
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)

    def node(unit: Unit) -> dict[str, Any]:
        data: dict[str, Any] = {"code": unit.code, "name": unit.name}
        if unit.time_zone:
            data["time_zone"] = unit.time_zone
        if unit.calendar is not None:
            data["calendar"] = unit.calendar.key
        below = children.get(unit.pk, [])
        if below:
            data["children"] = [node(child) for child in below]
        return data

    return [node(root) for root in children.get(None, [])]
