"""Write the stored configuration back out as YAML that `config apply` accepts unchanged.

Only what the file can say is written: deactivated people and surveys are left out (they
are history, not configuration), and optional keys at their default are omitted so the
output reads like a hand-written file. Each section exports itself (closeloop.config.sections).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from closeloop.config.sections import (
    case_templates,
    digests,
    escalation_policies,
    organization,
    people,
    rules,
    segments,
    sources,
    summaries,
    surveys,
    text_model,
    units,
    webhooks,
)


def export_config() -> str:
    """The current configuration as YAML, sections in the contract's order."""
    document: dict[str, Any] = {
        "organization": organization.export(),
        "units": units.export(),
        "segments": segments.export(),
        "people": people.export(),
        "surveys": surveys.export(),
        "rules": rules.export(),
        "case_templates": case_templates.export(),
        "escalation_policies": escalation_policies.export(),
        "digests": digests.export(),
        "summaries": summaries.export(),
        "follow_up": organization.export_follow_up(),
        "webhooks": webhooks.export(),
        "sources": sources.export(),
        "text_model": text_model.export(),
    }
    document = {name: value for name, value in document.items() if value or name in ("organization", "units")}
    return dump_config(document)


def dump_config(document: dict[str, Any]) -> str:
    """A configuration document as the YAML `config apply` reads, written the way export writes it."""
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


class _Dumper(yaml.SafeDumper):
    """Short lists of words on one line, and clock times in quotes, as a person would write them."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flat = all(isinstance(item, str | int | float | bool) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flat and bool(data))


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    # "08:30" unquoted is a base-60 number to YAML 1.1 readers; quoting keeps it a time everywhere.
    style = '"' if re.fullmatch(r"\d{1,2}:\d{2}", data) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(str, _represent_str)
