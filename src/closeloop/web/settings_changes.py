"""Settings pages change the configuration the way the file does: the current configuration is exported as a
document, the page changes its part of it, and the whole document goes through `config apply`.

So a setting is checked by exactly the code that checks the file, written by exactly the code that writes
the file, logged as a ConfigChange like an apply, and shows up in `config export` like any other entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import yaml
from django import forms

from closeloop.config.apply import ConfigInvalid, Plan, apply_config
from closeloop.config.export import dump_config, export_config
from closeloop.org.models import ConfigChange, Person

Document = dict[str, Any]


def current_document() -> Document:
    """The stored configuration as the document `config export` prints."""
    document = yaml.safe_load(export_config())
    return document if isinstance(document, dict) else {}


def apply_document(document: Document, *, actor: Person | None, actor_name: str, summary: str) -> Plan:
    """Apply the changed document as `config apply` would, logged as a change made in the settings pages.

    Raises ConfigInvalid with the same problems (`path.to.key: message`) the file would get."""
    return apply_config(
        dump_config(document),
        source=ConfigChange.Source.SETTINGS,
        actor=actor,
        actor_name=actor_name,
        summary=summary,
    )


def split_problem(problem: str) -> tuple[str, str]:
    """ "rules[2].when.all[0]: unknown question 'x'" -> ("rules[2].when.all[0]", "unknown question 'x'")."""
    path, sep, message = problem.partition(": ")
    return (path, message) if sep else ("", problem)


def under(path: str, prefix: str) -> bool:
    """Whether `path` is `prefix` or something inside it."""
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


# Where a problem goes: given the rest of its path after the target's prefix, a form and a field (None: the
# form as a whole), or None to let a later target have it.
Locate = Callable[[str], "tuple[forms.Form, str | None] | None"]


def on(form: forms.Form, field: str | None) -> Locate:
    """A target that puts its problems on one field of one form."""
    return lambda rest: (form, field)


def place_problems(invalid: ConfigInvalid, targets: Sequence[tuple[str, Locate]], fallback: forms.Form) -> None:
    """Put each problem next to the field it is about: the first target whose path prefix the problem's path
    is under gets it. A problem about something the page does not show goes to `fallback` as a whole, path
    and all, so nothing the checks said is lost."""
    for problem in invalid.problems:
        path, message = split_problem(problem)
        for prefix, locate in targets:
            if under(path, prefix) and (found := locate(path[len(prefix) :])) is not None:
                form, field = found
                form.add_error(field if field in form.fields else None, message)
                break
        else:
            fallback.add_error(None, problem)


def index_in(path_rest: str) -> int | None:
    """The list index a path continues with: "[3].unit" -> 3."""
    found = re.match(r"\[(\d+)\]", path_rest)
    return int(found.group(1)) if found else None
