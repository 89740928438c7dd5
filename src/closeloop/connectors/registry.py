"""The connectors by slug. Each tool module registers its class; they are imported on first use."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from closeloop.connectors.base import Connector

BUILT_IN = (
    "typeform",
    "formbricks",
    "delighted",
    "surveymonkey",
    "zendesk",
    "freshdesk",
    "tally",
    "jotform",
    "google_forms",
    "qualtrics",
)

_REGISTRY: dict[str, type[Connector]] = {}
_loaded = False

C = TypeVar("C", bound="type[Connector]")


def register(cls: C) -> C:
    """Class decorator: make the connector available under its slug."""
    _REGISTRY[cls.slug] = cls
    return cls


def _load() -> None:
    global _loaded
    if not _loaded:
        for module in BUILT_IN:
            import_module(f"closeloop.connectors.{module}")
        _loaded = True


class UnknownTool(KeyError):
    """No connector has that slug."""


def get(slug: str) -> Connector:
    _load()
    try:
        return _REGISTRY[slug]()
    except KeyError:
        raise UnknownTool(f"unknown tool {slug!r} (one of {', '.join(slugs())})") from None


def slugs() -> list[str]:
    _load()
    return sorted(_REGISTRY)
