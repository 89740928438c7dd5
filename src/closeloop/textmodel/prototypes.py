"""The sentences a customer's words are compared with: built-in ones per language, plus an organisation's own.

Built-in prototypes live in ``data/<language>.yaml`` (unhappy, praise and neutral sentences).
An organisation adds examples in its configuration::

    text_model:
      examples:
        unhappy: ["The app logged me out again", ...]
        praise: [...]

``example_problems`` checks that block and names every problem by its path
(``text_model.examples.unhappy[3]``), in the (path, message) form the configuration loader
collects; ``parse_examples`` turns a valid block into ``Examples``.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import cast

import yaml

from closeloop.core import text as core_text
from closeloop.textmodel.judgement import Label

LANGUAGES = ("en", "fr", "es", "de")
BUILTIN_LABELS: tuple[Label, ...] = ("unhappy", "praise", "neutral")
EXAMPLE_LABELS: tuple[Label, ...] = ("unhappy", "praise")
ORGANISATION = "org"

# An example is one sentence a customer might write: long enough to mean something, short
# enough to be one thought (a paragraph would pull the comparison towards its topic).
MIN_EXAMPLE_CHARS = 3
MAX_EXAMPLE_CHARS = 300
MAX_EXAMPLES_PER_LABEL = 200

Problem = tuple[str, str]


@dataclass(frozen=True)
class Prototype:
    text: str
    label: Label
    language: str


@functools.cache
def builtin_prototypes() -> tuple[Prototype, ...]:
    found: list[Prototype] = []
    data = resources.files("closeloop.textmodel").joinpath("data")
    for language in LANGUAGES:
        raw = yaml.safe_load(data.joinpath(f"{language}.yaml").read_text("utf-8"))
        for label in BUILTIN_LABELS:
            found.extend(Prototype(text=str(sentence), label=label, language=language) for sentence in raw[label])
    return tuple(found)


def prototype_digest(prototypes: Sequence[Prototype]) -> str:
    """Twelve hex digits that change whenever a prototype or a no-opinion answer does: part of every version."""
    content = "\n".join(f"{p.label}\t{p.language}\t{p.text}" for p in prototypes)
    no_opinion = resources.files("closeloop.textmodel").joinpath("data/no_opinion.yaml").read_text("utf-8")
    return hashlib.sha256((content + "\n" + no_opinion).encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Examples:
    """An organisation's own example sentences."""

    unhappy: tuple[str, ...] = ()
    praise: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.unhappy or self.praise)

    def prototypes(self) -> tuple[Prototype, ...]:
        return tuple(Prototype(text=text, label="unhappy", language=ORGANISATION) for text in self.unhappy) + tuple(
            Prototype(text=text, label="praise", language=ORGANISATION) for text in self.praise
        )


class ExamplesError(ValueError):
    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{where}: {message}" for where, message in self.problems))


def example_problems(raw: object, path: str = "text_model.examples") -> list[Problem]:
    """Every problem of an examples block, as (path, message); empty when it is valid or absent."""
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        return [(path, f"expected a mapping with {' and/or '.join(EXAMPLE_LABELS)}, not {type(raw).__name__}")]
    problems: list[Problem] = []
    for key in raw:
        if key not in EXAMPLE_LABELS:
            problems.append((f"{path}.{key}", f"unknown key {str(key)!r}; expected {' or '.join(EXAMPLE_LABELS)}"))
    first_seen: dict[str, str] = {}
    for label in EXAMPLE_LABELS:
        if label not in raw:
            continue
        where = f"{path}.{label}"
        items = raw[label]
        if not isinstance(items, list):
            problems.append((where, f"expected a list of sentences, not {type(items).__name__}"))
            continue
        if len(items) > MAX_EXAMPLES_PER_LABEL:
            problems.append((where, f"at most {MAX_EXAMPLES_PER_LABEL} examples, got {len(items)}"))
        for index, item in enumerate(items):
            here = f"{where}[{index}]"
            if not isinstance(item, str):
                problems.append((here, f"must be a sentence in quotes, not {type(item).__name__} {item!r}"))
                continue
            length = len(item.strip())
            if length < MIN_EXAMPLE_CHARS or not core_text.normalise(item):
                problems.append((here, f"must have words in it (at least {MIN_EXAMPLE_CHARS} characters)"))
                continue
            if length > MAX_EXAMPLE_CHARS:
                problems.append((here, f"at most {MAX_EXAMPLE_CHARS} characters (one sentence), got {length}"))
                continue
            key = core_text.normalise(item)
            if key in first_seen:
                problems.append((here, f"the same sentence as {first_seen[key]}"))
            else:
                first_seen[key] = here
    return problems


def parse_examples(raw: object, path: str = "text_model.examples") -> Examples:
    """The examples of a valid block; raises ExamplesError naming every problem otherwise."""
    problems = example_problems(raw, path)
    if problems:
        raise ExamplesError(problems)
    if raw is None:
        return Examples()
    valid = cast(Mapping[str, list[str]], raw)
    return Examples(
        unhappy=tuple(item.strip() for item in valid.get("unhappy", ())),
        praise=tuple(item.strip() for item in valid.get("praise", ())),
    )
