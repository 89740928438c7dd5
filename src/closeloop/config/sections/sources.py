"""The `sources` section: survey and helpdesk tools posting to `/hooks/<key>`. A source that has received
requests is deactivated, not deleted, so its deliveries and dead letters stay readable."""

from __future__ import annotations

import json
from typing import Any

from closeloop.config.sections.base import Change, Rows, Section, rows_with_history
from closeloop.config.validate import Config
from closeloop.intake.models import Source

# The order export writes an entry's keys in, as the documentation's examples do.
_KEY_ORDER = ("key", "tool", "survey", "secret", "secret_file", "tolerance", "map", "options")


def section(config: Config) -> Section:
    desired: Rows = {
        entry.spec.key: {
            "tool": entry.spec.tool,
            "survey": entry.spec.survey,
            # As written: an inline secret stays inline, a secret_file stays a path, unset defaults stay unset.
            # YAML dates and times (a constant like `{value: 2026-01-01}`) are kept as the text they were written as.
            "spec": json.dumps(entry.raw, ensure_ascii=False, default=str),
            "position": position,
            "active": True,
        }
        for position, entry in enumerate(config.sources)
    }

    def read() -> Rows:
        return {
            row.key: {
                "tool": row.tool,
                "survey": row.survey,
                "spec": row.spec,
                "position": row.position,
                "active": row.active,
            }
            for row in Source.objects.order_by("pk")
        }

    def save(keys: list[str], added: set[str]) -> None:
        for key in keys:
            Source.objects.update_or_create(key=key, defaults=desired[key])

    def remove(keys: list[str]) -> list[Change]:
        rows = {key: (pk, active) for key, pk, active in Source.objects.values_list("key", "pk", "active")}
        history = rows_with_history(Source, [rows[key][0] for key in keys])
        changes = []
        for key in keys:
            pk, active = rows[key]
            if pk not in history:
                changes.append(Change("sources", key, "removed"))
            elif active:
                changes.append(Change("sources", key, "deactivated", reason=f"has {history[pk]}"))
        return changes

    def delete(changes: list[Change]) -> None:
        for change in changes:
            sources = Source.objects.filter(key=change.key)
            if change.action == "deactivated":
                sources.update(active=False)
            else:
                sources.delete()

    return Section("sources", desired, read, save, remove, delete)


def export() -> list[dict[str, Any]]:
    exported = []
    for row in Source.objects.filter(active=True).order_by("position", "key"):
        spec = row.entry
        ordered = {name: spec.pop(name) for name in _KEY_ORDER if name in spec}
        exported.append({**ordered, **spec})
    return exported
