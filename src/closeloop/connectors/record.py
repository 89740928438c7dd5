"""What one tool response offers to the map: its values, grouped in named namespaces.

A connector fills the namespaces its tool has (Typeform `ref`, `hidden`, `variable`; Tally
`label`, `hidden`; ...). A name that is present with the value None is a question the tool
knows but the respondent left unanswered: it is skipped without a problem, unlike a name the
tool did not send at all. Every record also answers the `path` namespace: a dotted path into
the tool's own JSON document (`requester.email`, `ratings.question_2`, `items.0.id`), for the
fields no namespace covers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PATH_NAMESPACE = "path"
_MISSING = object()


@dataclass(frozen=True)
class Lookup:
    found: bool
    value: Any = None


NOT_FOUND = Lookup(found=False)


@dataclass
class Record:
    namespaces: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    document: Any = None

    def lookup(self, namespace: str, name: str) -> Lookup:
        if namespace == PATH_NAMESPACE:
            return _walk(self.document, name)
        values = self.namespaces.get(namespace)
        if values is None:
            return NOT_FOUND
        value = values.get(name, _MISSING)
        if value is _MISSING:
            # Tools differ in the case of names they send back (Qualtrics keys, Delighted
            # properties); an exact match wins, a case-insensitive one is the fallback.
            folded = name.casefold()
            for key, candidate in values.items():
                if key.casefold() == folded:
                    return Lookup(True, candidate)
            return NOT_FOUND
        return Lookup(True, value)


def _walk(document: Any, path: str) -> Lookup:
    current = document
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return NOT_FOUND
    return Lookup(True, current)
