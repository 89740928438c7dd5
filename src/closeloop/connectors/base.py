"""What every connector shares: the translation it returns and the Connector class."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict

from closeloop.connectors.inbound import Inbound
from closeloop.connectors.mapping import (
    AUTO_ENVELOPE_NAMES,
    Item,
    Rule,
    Rules,
    build_item,
    combine_rules,
    default_rule,
    pick,
)
from closeloop.connectors.record import Record
from closeloop.connectors.survey import Survey

if TYPE_CHECKING:
    from closeloop.connectors.spec import SourceSpec

# The one way a connector reaches the network: GET `url` with `headers`, return the body.
Fetch = Callable[[str, Mapping[str, str]], bytes]


@dataclass(frozen=True)
class Translation:
    """What one request means: the items to ingest, under an id that makes a retried delivery a no-op.

    `merge`: the tool sends one response in several requests (a score first, the comment later);
    an item whose survey + external_id is already stored updates that response's answers and
    fields instead of being a replay.
    """

    event_id: str
    items: tuple[Item, ...]
    merge: bool = False

    @property
    def problems(self) -> list[str]:
        """Every item's problems, each prefixed with its external_id when there are several items."""
        if len(self.items) == 1:
            return list(self.items[0].problems)
        return [f"{item.external_id}: {problem}" for item in self.items for problem in item.problems]


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Connector(ABC):
    """One tool. Subclasses name their tool, its namespaces and defaults, and implement verify and translate.

    Namespaces are where the map may look (`{ref: ...}`, `{hidden: ...}`); `answer_namespace`
    is where a survey's question keys are looked up by name when the source maps no answers;
    `envelope_namespace` is where hidden fields named `unit`, `ticket`, `customer_email` ... are
    picked up without a map.
    """

    slug: ClassVar[str]
    title: ClassVar[str]
    namespaces: ClassVar[tuple[str, ...]]
    default_namespace: ClassVar[str]
    answer_namespace: ClassVar[str | None] = None
    envelope_namespace: ClassVar[str | None] = None
    options_model: ClassVar[type[BaseModel]] = NoOptions
    # Whether the source must have a secret; every built-in tool signs or takes a token.
    secret_required: ClassVar[bool] = True

    @abstractmethod
    def verify(self, inbound: Inbound, source: SourceSpec, now: datetime) -> None:
        """Raise SignatureInvalid or StaleTimestamp unless the request provably comes from the tool."""

    @abstractmethod
    def translate(self, inbound: Inbound, source: SourceSpec, *, survey: Survey, fetch: Fetch) -> Translation:
        """The items of a verified request; raises PayloadUnreadable, Ignored or FetchFailed."""

    def default_rules(self, survey: Survey, options: Any) -> Rules:
        """The tool's own meaning of its fields (response id, time, customer); a source's map overrides it."""
        return {}

    def options_problems(self, options: Any) -> list[tuple[str, str]]:
        """Checks of the options that need more than their types; (path, message) pairs."""
        return []

    def secret_problem(self, secret: str) -> str | None:
        """Why `secret` cannot be this tool's secret (checked by `config apply`), or None."""
        return None

    def rules_for(self, source: SourceSpec | None, survey: Survey) -> Rules:
        """The tool's defaults, its by-name defaults, and the source's map over them (no source: defaults only)."""
        defaults = dict(self.default_rules(survey, source.settings if source is not None else None))
        if self.answer_namespace:
            for key in survey.questions:
                defaults.setdefault(f"answers.{key}", default_rule(f"answers.{key}", pick(self.answer_namespace, key)))
        if self.envelope_namespace:
            for name, path in AUTO_ENVELOPE_NAMES.items():
                extra = pick(self.envelope_namespace, name)
                rule = defaults.get(path)
                # A hidden field that says so outranks what the tool guesses (a person's id, an email).
                picks = (extra, *rule.picks) if rule is not None else (extra,)
                defaults[path] = Rule(path, picks, declared=False)
        if source is None:
            return defaults
        return combine_rules(defaults, source.rules, own_answers=source.maps_answers)

    def item(self, record: Record, source: SourceSpec, survey: Survey, inbound: Inbound) -> Item:
        return build_item(record, self.rules_for(source, survey), survey, received_at=inbound.received_at)


def api_url(base: str, *parts: str) -> str:
    """`base`/part/part..., each id quoted, so an id from a request cannot walk elsewhere in the API."""
    return "/".join([base.rstrip("/"), *(quote(part, safe="") for part in parts)])


def body_digest(body: bytes) -> str:
    """An event id for tools that send none: a retry carries the same bytes, so the same id."""
    return "sha256:" + hashlib.sha256(body).hexdigest()[:32]
